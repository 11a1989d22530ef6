"""Authorization declared as typed dependencies: ``Authorize(Scope.X, min_plan=...)``.

A person signed in to the portal is known by the session cookie instead (``auth.sessions``),
when no key is presented; a state-changing request must then carry the session's CSRF token.

The verification order is: shape and checksum → auth epoch and hash lookup → revoked /
expired / suspended → rate limit (the key's, then the tenant's) → scope → plan gate. A route's
``Authorize`` also documents its scopes and plan in the OpenAPI document (see
``tutela.server.openapi``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from tutela.server.audit.signins import failure_reason, note_use, source_of
from tutela.server.auth import sessions, tokens
from tutela.server.auth.caller import Caller
from tutela.server.auth.ratelimit import binding
from tutela.server.auth.scopes import Scope, sort_scopes
from tutela.server.errors import Forbidden, NotAuthenticated, PlanRestriction, RateLimited
from tutela.server.runtime import Runtime, get_runtime

api_key_header = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKeyHeader",
    description="A Tutela API key (`tut_…`) in the `X-API-Key` header.",
    auto_error=False,
)
session_cookie = APIKeyCookie(
    name="tutela_session",
    scheme_name="SessionCookie",
    description="The portal's session (`__Host-tutela_session` over HTTPS), set by "
    "`POST /auth/sign-in`. A POST, PUT, PATCH or DELETE must also send the session's CSRF "
    "token in `X-CSRF-Token` (from `GET /auth/session`). Used when no API key is sent.",
    auto_error=False,
)
bearer = HTTPBearer(
    scheme_name="BearerAuth",
    description="The same API key as a bearer token: `Authorization: Bearer tut_…`.",
    auto_error=False,
)


def presented_key(x_api_key: str | None, credentials: HTTPAuthorizationCredentials | None) -> str:
    from_bearer = credentials.credentials if credentials else None
    if x_api_key and from_bearer and x_api_key != from_bearer:
        raise NotAuthenticated("X-API-Key and Authorization headers carry different keys")
    key = x_api_key or from_bearer
    if not key:
        raise NotAuthenticated("Missing API key (send X-API-Key or Authorization: Bearer)")
    return key.strip()


class Authorize:
    """A dependency that verifies the key and requires every scope given (and a plan)."""

    def __init__(self, *scopes: Scope, min_plan: str | None = None) -> None:
        self.scopes = frozenset(scopes)
        self.min_plan = min_plan

    def __call__(
        self,
        request: Request,
        background: BackgroundTasks,
        runtime: Annotated[Runtime, Depends(get_runtime)],
        x_api_key: Annotated[str | None, Depends(api_key_header)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        _documented_cookie: Annotated[str | None, Depends(session_cookie)],
    ) -> Caller:
        session_token = request.cookies.get(sessions.cookie_name(runtime))
        if x_api_key is None and credentials is None and session_token:
            caller = self._signed_in(request, runtime, session_token)
        else:
            key = presented_key(x_api_key, credentials)
            try:
                caller = runtime.verifier.verify(key)
            except (NotAuthenticated, Forbidden) as refused:  # audited, at most 1/minute/source
                key_hash = runtime.verifier.hash(key) if tokens.is_well_formed(key) else None
                runtime.sign_ins.failed(source_of(request), failure_reason(refused), key_hash)
                raise
            note_use(runtime.sign_ins, request, background, caller)
        request.state.key_expires_at = caller.key_expires_at
        request.state.key_prefix = caller.key_prefix

        decision = runtime.rate_limiter.hit(caller.key_id)
        if decision.allowed and caller.tenant_id is not None:
            # Every key of the tenant draws on one shared budget too.
            decision = binding(decision, runtime.rate_limiter.hit_tenant(caller.tenant_id))
        request.state.rate_limit = decision
        if not decision.allowed:
            raise RateLimited(decision.retry_after)

        missing = self.scopes - caller.scopes
        if missing:
            holder = "Your role" if caller.session_id is not None else "API key"
            raise Forbidden(f"{holder} lacks the required scope: {', '.join(sort_scopes(missing))}")

        if self.min_plan is not None:
            catalog = runtime.catalog
            if caller.plan is None or catalog.plan_rank(caller.plan) < catalog.plan_rank(
                self.min_plan
            ):
                raise PlanRestriction(
                    f"This feature requires the '{self.min_plan}' plan or higher "
                    f"(current plan: '{caller.plan}')"
                )

        if caller.session_id is None and runtime.verifier.use_is_due(caller):
            # Written after the response is sent, outside the request's transaction.
            background.add_task(runtime.verifier.write_last_used, caller.key_id)
        return caller

    @staticmethod
    def _signed_in(request: Request, runtime: Runtime, token: str) -> Caller:
        """The portal's person (no key presented): their session, and for a state-changing
        request the session's CSRF token."""
        caller = sessions.authenticate(runtime, token)
        if request.method not in sessions.SAFE_METHODS:
            sessions.check_csrf(runtime, token, request)
        return caller
