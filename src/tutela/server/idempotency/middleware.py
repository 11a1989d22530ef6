"""The ASGI middleware that applies ``Idempotency-Key`` to every POST, public and admin alike.

It sits inside ``RequestContextMiddleware`` (body limits, correlation id and key headers apply
to replays too) and around both apps, so the admin API mounted at /admin is covered as well.
For a keyed POST from a key that verifies, it reads the body (to fingerprint the request),
claims the key before the route runs, and afterwards keeps or releases the answer as
``service`` says. Without the header, or with a key that does not verify, the request goes
through untouched: the route answers it (401, 403…) as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import deque
from typing import Any

import anyio
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tutela.server.auth import sessions
from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import presented_key
from tutela.server.auth.ratelimit import binding
from tutela.server.db import utcnow
from tutela.server.encryption.keyring import CustomerKeyUnavailable
from tutela.server.errors import DomainError, error_body
from tutela.server.idempotency.answers import AnswerRecorder, replayed
from tutela.server.idempotency.service import (
    HEADER,
    REPLAYED_HEADER,
    Claimed,
    InProgress,
    InvalidIdempotencyKey,
    Mismatch,
    Replay,
    Request,
    ScopesNarrowed,
    fingerprint,
    idempotency_service,
    valid_key,
)
from tutela.server.runtime import Runtime

log = logging.getLogger("tutela.idempotency")
_HEADER = HEADER.lower().encode()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self.service = idempotency_service(runtime)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        values = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == _HEADER]
        if not values:
            await self.app(scope, receive, send)
            return
        try:
            key = valid_key(values)
        except InvalidIdempotencyKey as exc:
            await _error(send, 422, _field_error(str(exc), "idempotency_key_invalid"))
            return
        caller = await self._caller(scope)
        if caller is None:
            await self.app(scope, receive, send)
            return

        # The whole body, to fingerprint the request before the route runs; the chunks are
        # handed on as they came, so the route holds no second copy of them.
        messages: deque[Message] = deque()
        digest = hashlib.sha256()
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client left before sending its body
                digest.update(message.get("body", b""))
                messages.append(message)
                if not message.get("more_body", False):
                    break
        except HTTPException as exc:  # over the body limit: RequestContextMiddleware says 413
            await _error(send, exc.status_code, "Request body too large")
            return

        request = Request(
            key,
            fingerprint("POST", scope["path"], scope.get("query_string", b""), digest.digest()),
            caller,
        )
        try:
            decision = await run_in_threadpool(self.service.claim, request, utcnow())
        except CustomerKeyUnavailable as exc:  # the kept answer is sealed under a CMK
            await _error(send, exc.status_code, exc.detail)
            return
        if not isinstance(decision, Claimed):
            await self._answer_repeat(scope, send, caller, decision)
            return

        async def buffered_receive() -> Message:
            if messages:
                return messages.popleft()
            message = await receive()
            if message["type"] == "http.disconnect":
                # The client gave up (a timeout, typically) and its retry will ask for this
                # answer: the route is not told, so a streamed answer is not cut short.
                await anyio.sleep_forever()
            return message

        await self._run(scope, buffered_receive, send, request, decision)

    async def _caller(self, scope: Scope) -> Caller | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        bearer = (
            HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
            if scheme.lower() == "bearer" and token.strip()
            else None
        )
        connection = HTTPConnection(scope)
        session_token = connection.cookies.get(sessions.cookie_name(self.runtime))
        try:
            if "x-api-key" not in headers and bearer is None and session_token:
                # A person in the portal: their session, and its CSRF token (a POST).
                caller: Caller = await run_in_threadpool(
                    sessions.authenticate, self.runtime, session_token
                )
                sessions.check_csrf(self.runtime, session_token, connection)
                return caller
            presented = presented_key(headers.get("x-api-key"), bearer)
            caller = await run_in_threadpool(self.runtime.verifier.verify, presented)
        except DomainError:
            return None
        return caller

    async def _answer_repeat(
        self,
        scope: Scope,
        send: Send,
        caller: Caller,
        decision: Replay | InProgress | Mismatch | ScopesNarrowed,
    ) -> None:
        # A repeat never reaches the route's Authorize: it is counted against the key's and
        # the tenant's rate limits here, as Authorize would, and carries the key headers.
        state: dict[str, Any] = scope.setdefault("state", {})
        state["key_expires_at"] = caller.key_expires_at
        state["key_prefix"] = caller.key_prefix
        limiter = self.runtime.rate_limiter
        limited = limiter.hit(caller.key_id)
        if limited.allowed and caller.tenant_id is not None:
            limited = binding(limited, limiter.hit_tenant(caller.tenant_id))
        state["rate_limit"] = limited
        if not limited.allowed:
            await _error(
                send,
                429,
                f"Rate limit exceeded; retry after {limited.retry_after} seconds",
                {"retry-after": str(limited.retry_after)},
            )
            return
        if isinstance(decision, Replay):
            await _replay(send, decision, Headers(scope=scope).get("accept-encoding", ""))
        elif isinstance(decision, InProgress):
            await _error(
                send,
                409,
                "A request with this Idempotency-Key is still running; retry after "
                f"{decision.retry_after} second(s) to get its answer",
                {"retry-after": str(decision.retry_after)},
            )
        elif isinstance(decision, Mismatch):
            await _error(
                send,
                422,
                _field_error(
                    "This Idempotency-Key was already used for a different request (method, "
                    "path, query, body or API key); send a new key for a new request",
                    "idempotency_key_reused",
                ),
            )
        else:
            await _error(
                send,
                403,
                "The API key's scopes have narrowed since this Idempotency-Key was first used; "
                "its answer is not replayed",
            )

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, request: Request, claimed: Claimed
    ) -> None:
        answer = AnswerRecorder()
        settled = False

        async def settle() -> None:
            nonlocal settled
            settled = True
            # Shielded: a client that leaves must not leave the key held until its lease ends.
            with anyio.CancelScope(shield=True):
                if answer.status is not None and 200 <= answer.status < 300 and answer.complete:
                    lost = await run_in_threadpool(self.service.complete, claimed, request, answer)
                    if lost is not None:
                        log.warning("idempotent_answer_not_kept reason=%s", lost)
                else:
                    # An error changed nothing (or the answer was cut short): a retry runs it.
                    await run_in_threadpool(self.service.release, claimed)

        async def recording_send(message: Message) -> None:
            answer.record(message)
            if answer.complete and not settled:
                # Kept before the answer's last bytes leave: a client that has the answer and
                # repeats the request at once gets the replay, never a 409.
                await settle()
            try:
                await send(message)
            except OSError:
                # The client is gone (it timed out): the route finishes and its answer is kept
                # for the retry, which is the point of the key.
                log.info("idempotent_client_gone path=%s", scope["path"])

        renewing = asyncio.create_task(self._renew(claimed))
        try:
            await self.app(scope, receive, recording_send)
        finally:
            renewing.cancel()
            if not settled:  # the app raised or ended before its answer was whole
                await settle()

    async def _renew(self, claimed: Claimed) -> None:
        interval = self.service.lease.total_seconds() / 3
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(interval)
                try:
                    held = await run_in_threadpool(self.service.renew, claimed, utcnow())
                except Exception:  # a lost renewal is retried at the next tick
                    log.warning("idempotency_lease_renewal_failed", exc_info=True)
                    continue
                if not held:
                    return


def _field_error(message: str, error_type: str) -> list[dict[str, Any]]:
    return [{"loc": ["header", HEADER], "msg": message, "type": error_type}]


async def _error(
    send: Send, status: int, detail: Any, headers: dict[str, str] | None = None
) -> None:
    body = error_body(detail)
    await _send(send, status, body, {"content-type": "application/json", **(headers or {})})


async def _replay(send: Send, replay: Replay, accept_encoding: str) -> None:
    kept_headers, body = replayed(replay.headers, replay.compressed_body, accept_encoding)
    headers = {**kept_headers, REPLAYED_HEADER.lower(): "true"}
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": replay.status_code, "headers": raw})
    for block in body:
        await send({"type": "http.response.body", "body": block, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _send(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
