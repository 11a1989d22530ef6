"""One ASGI middleware for every request: correlation id, body size limit, key headers."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tutela.server.observability import (
    correlation_id,
    reset_correlation_id,
    set_correlation_id,
)

log = logging.getLogger("tutela.http")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Adds ``X-Correlation-ID``, the calling key's expiry and rate-limit headers; answers 413.

    Bodies are counted as they stream in, so a chunked upload without ``Content-Length`` is
    stopped at the limit too.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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
        try:
            declared = headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._too_large(send, state)
                return
            await self._serve(scope, receive, send, state)
        finally:
            reset_correlation_id(token)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]
    ) -> None:
        seen = 0
        overflow = False

        async def counting_receive() -> Message:
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    overflow = True
                    # Fail the body read, so the handler never runs on a truncated body (which
                    # may still parse); the error response is replaced by a 413 below.
                    raise HTTPException(413)
            return message

        replaced = False
        status = 500
        started = time.perf_counter()

        async def decorating_send(message: Message) -> None:
            nonlocal replaced, status
            if overflow and message["type"] == "http.response.start" and not replaced:
                replaced = True
                status = 413
                await self._too_large(send, state)
                return
            if replaced:
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + _extra_headers(state)
            await send(message)

        try:
            await self.app(scope, counting_receive, decorating_send)
        finally:
            # The path only: query strings may carry one-time tokens.
            log.info(
                "request method=%s path=%s status=%s duration_ms=%.1f key=%s",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                state.get("key_prefix", "-"),
            )

    async def _too_large(self, send: Send, state: dict[str, Any]) -> None:
        body = json.dumps(
            {"detail": f"Request body exceeds the limit of {self.max_body_bytes} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
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
