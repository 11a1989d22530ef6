"""A tiny real HTTP server answering from a script, in a thread, recording every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tutela import Session


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # sent as JSON; a str is sent as text
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering


DROP = "drop"  # close the connection without answering


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class ScriptedServer:
    """Answers the n-th request with the n-th step of ``script``: a ``Reply`` or ``DROP``."""

    def __init__(self, *script: Reply | str) -> None:
        self.script = list(script)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def attempts(self) -> int:
        return len(self.received)

    def _next(self, received: Received) -> Reply | str:
        with self._lock:
            self.received.append(received)
            if self.script:
                return self.script.pop(0)
        return Reply(500, {"detail": "script exhausted"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                step = server._next(Received(self.command, self.path, headers, body))
                if step == DROP:
                    self.close_connection = True
                    return
                assert isinstance(step, Reply)
                time.sleep(step.delay)
                if isinstance(step.body, str):
                    payload, kind = step.body.encode(), "text/plain"
                else:
                    payload, kind = json.dumps(step.body).encode(), "application/json"
                self.send_response(step.status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in step.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def serving(
    *script: Reply | str, key: str = "tut_x", **options: Any
) -> Iterator[tuple[ScriptedServer, Session]]:
    """A scripted server and a ``Session`` of it."""
    with ScriptedServer(*script) as fake, Session(fake.url, key, **options) as session:
        yield fake, session
