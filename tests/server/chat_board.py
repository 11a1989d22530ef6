"""A local chat-completions server answering board-narrative requests, for the real ``openai``
client (the scan narratives' server is ``tests.scanner.narrative.chat_server``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.scanner.narrative.chat_server import _completion


@dataclass
class BoardServer:
    url: str
    mode: str = "ok"  # ok, error, garbage, slow, long
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def board_text(facts: dict[str, Any]) -> str:
    return f"MODEL: overall {facts['overall_score']}/100, rated {facts['overall_rag']}."


@contextmanager
def board_server(mode: str = "ok") -> Iterator[BoardServer]:
    state = BoardServer(url="", mode=mode)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if state.mode == "error":
                self._send(500, {"error": {"message": "upstream failure"}})
                return
            if state.mode == "slow":
                time.sleep(2.0)
            facts = json.loads(body["messages"][-1]["content"])["facts"]
            text = board_text(facts) * (300 if state.mode == "long" else 1)
            content = "no JSON here" if state.mode == "garbage" else json.dumps({"narrative": text})
            self._send(200, _completion(content, body.get("model", "m")))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
