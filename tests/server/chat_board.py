"""A local chat-completions server answering board-narrative requests, for the real ``openai``
client (the scan narratives' server is ``tests.scanner.narrative.chat_server``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.scanner.narrative.chat_server import JsonHandler, _completion, serving


@dataclass
class BoardServer:
    url: str
    mode: str = "ok"  # ok, error, garbage, slow, long
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # called while each request is being answered; what it returns is kept in ``seen``
    watch: Callable[[], Any] | None = None
    seen: list[Any] = field(default_factory=list)
    answered_at: float | None = None  # when a slow answer was finally sent (time.monotonic)


def board_text(facts: dict[str, Any]) -> str:
    return f"MODEL: overall {facts['overall_score']}/100, rated {facts['overall_rag']}."


@contextmanager
def board_server(mode: str = "ok") -> Iterator[BoardServer]:
    state = BoardServer(url="", mode=mode)

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if state.watch is not None:
                state.seen.append(state.watch())
            if state.mode == "error":
                self._send(500, {"error": {"message": "upstream failure"}})
                return
            if state.mode == "slow":
                time.sleep(2.0)
                state.answered_at = time.monotonic()
            facts = json.loads(body["messages"][-1]["content"])["facts"]
            text = board_text(facts) * (300 if state.mode == "long" else 1)
            content = "no JSON here" if state.mode == "garbage" else json.dumps({"narrative": text})
            self._send(200, _completion(content, body.get("model", "m")))

    with serving(Handler) as url:
        state.url = url
        yield state
