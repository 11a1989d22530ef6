"""One ASGI middleware for every request: correlation id, body size limits, key headers."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tutela.server.errors import error_body
from tutela.server.observability import (
    correlation_id,
    reset_correlation_id,
    set_correlation_id,
)
from tutela.server.text import UNSTORABLE_MESSAGE, UNSTORABLE_TYPE, is_storable

log = logging.getLogger("tutela.http")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_PATH_PARAMETER = re.compile(r"\{[^/{}]+\}")


@dataclass(frozen=True)
class BodyLimit:
    """A body limit of its own for one route, in place of the default: uploads get more."""

    method: str
    path: re.Pattern[str]
    max_bytes: int

    @classmethod
    def for_route(cls, method: str, path: str, max_bytes: int) -> BodyLimit:
        """From a route's declared path: each ``{parameter}`` matches one path segment."""
        literal = (re.escape(part) for part in _PATH_PARAMETER.split(path))
        return cls(method.upper(), re.compile("^" + "[^/]+".join(literal) + "$"), max_bytes)

    def applies_to(self, method: str, path: str) -> bool:
        return method == self.method and self.path.match(path) is not None


class RequestContextMiddleware:
    """Adds ``X-Correlation-ID``, the calling key's expiry and rate-limit headers; answers 413.

    Bodies are counted as they stream in, so a chunked upload without ``Content-Length`` is
    stopped at the limit too. The limit is ``max_body_bytes``, or that of the first of
    ``body_limits`` matching the request's method and path.
    """

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, body_limits: Iterable[BodyLimit] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_limits = tuple(body_limits)

    def body_limit(self, method: str, path: str) -> int:
        for limit in self.body_limits:
            if limit.applies_to(method, path):
                return limit.max_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-correlation-id") or headers.get("x-request-id") or ""
        cid = incoming if _INCOMING_ID.match(incoming) else None
        token = set_correlation_id(cid)
        state: dict[str, Any] = scope.setdefault("state", {})
        # For the 500 handler, which runs outside this middleware, after the id is reset.
        state["correlation_id"] = correlation_id()
        limit = self.body_limit(scope["method"], scope["path"])
        started = time.perf_counter()
        state["status"] = 500  # until a response starts
        try:
            declared = headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                state["status"] = 413
                await self._too_large(send, state, limit)
                return
            unstorable = unstorable_url_part(scope)
            if unstorable is not None:
                state["status"] = 422
                await self._unstorable(send, state, unstorable)
                return
            await self._serve(scope, receive, send, state, limit)
        finally:
            # Every request, refused early or not; the path only: query strings may carry
            # one-time tokens. The formatter escapes what the client sent.
            log.info(
                "request method=%s path=%s status=%s duration_ms=%.1f key=%s",
                scope["method"],
                scope["path"],
                state["status"],
                (time.perf_counter() - started) * 1000,
                state.get("key_prefix", "-"),
            )
            reset_correlation_id(token)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any], limit: int
    ) -> None:
        seen = 0
        overflow = False

        async def counting_receive() -> Message:
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    overflow = True
                    # Fail the body read, so the handler never runs on a truncated body (which
                    # may still parse); the error response is replaced by a 413 below.
                    raise HTTPException(413)
            return message

        replaced = False

        async def decorating_send(message: Message) -> None:
            nonlocal replaced
            if overflow and message["type"] == "http.response.start" and not replaced:
                replaced = True
                state["status"] = 413
                await self._too_large(send, state, limit)
                return
            if replaced:
                return
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message["headers"] = list(message.get("headers", [])) + _extra_headers(state)
            await send(message)

        await self.app(scope, counting_receive, decorating_send)

    async def _too_large(self, send: Send, state: dict[str, Any], limit: int) -> None:
        await _reply(send, state, 413, f"Request body exceeds the limit of {limit} bytes")

    async def _unstorable(self, send: Send, state: dict[str, Any], part: str) -> None:
        detail = [{"loc": [part], "msg": UNSTORABLE_MESSAGE, "type": UNSTORABLE_TYPE}]
        await _reply(send, state, 422, detail)


def unstorable_url_part(scope: Scope) -> str | None:
    """The part of the URL ("path" or "query") whose decoded text no store can hold, if any.

    Checked before routing, so a path id or a query filter with a NUL is the same 422 on SQLite
    (which would store or look it up) and PostgreSQL (which cannot).
    """
    if not is_storable(scope["path"]):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    # As Starlette reads them: percent-decoded, undecodable UTF-8 replaced.
    for name, value in parse_qsl(query, keep_blank_values=True):
        if not (is_storable(name) and is_storable(value)):
            return "query"
    return None


async def _reply(send: Send, state: dict[str, Any], status: int, detail: Any) -> None:
    body = error_body(detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *_extra_headers(state),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _extra_headers(state: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    from tutela.server.observability import correlation_id

    out = [(b"x-correlation-id", correlation_id().encode())]
    expires = state.get("key_expires_at")
    if expires is not None:
        out.append((b"x-tutela-key-expires", expires.isoformat(timespec="seconds").encode()))
    decision = state.get("rate_limit")
    if decision is not None:
        out.append((b"x-ratelimit-limit", str(decision.limit).encode()))
        out.append((b"x-ratelimit-remaining", str(decision.remaining).encode()))
    return out
