"""A local HTTP server speaking the chat-completions protocol, for the real ``openai`` client.

It answers ``POST …/chat/completions`` (OpenAI and Azure OpenAI paths) the way the service does,
writing one narrative per item it was sent; ``mode`` makes it fail in the ways a real endpoint
can: an HTTP 500, an answer that is not JSON, an answer missing items, or a slow answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ChatServer:
    url: str
    mode: str = "ok"  # ok, error, garbage, partial, slow, garbage-once
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


def _completion(content: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet handler that answers JSON; subclasses write ``do_POST``."""

    def log_message(self, *_: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free local port for the block; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    state = ChatServer(url="")

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length))
            state.requests.append(body)
            state.paths.append(self.path)
            if not self.path.split("?")[0].endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            if state.mode == "error":
                self._send(500, {"error": {"message": "upstream failure", "type": "server_error"}})
                return
            if state.mode == "slow":
                time.sleep(1.0)
            items = json.loads(body["messages"][-1]["content"])["items"]
            if state.mode == "garbage" or (
                state.mode == "garbage-once" and len(state.requests) == 1
            ):
                content = "I am sorry, I cannot answer in JSON."
            else:
                answered = items[:-1] if state.mode == "partial" else items
                content = json.dumps(
                    {
                        "narratives": [
                            {
                                "id": item["id"],
                                "narrative": f"LLM: {item['check']} ({item['what_was_seen']})",
                            }
                            for item in answered
                        ]
                    }
                )
            self._send(200, _completion(content, body.get("model", "gpt-4o-mini")))

    with serving(Handler) as url:
        state.url = url
        yield state
