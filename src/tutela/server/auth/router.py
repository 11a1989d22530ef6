"""HTTP for /auth/*: signing in to the portal with a password, the session, signing out,
password resets and accepting an invitation. JSON like the rest of the API: the portal's pages
call these as they call every other endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select

from tutela.server.audit import service as audit
from tutela.server.audit.signins import source_of
from tutela.server.auth import emails, links, passwords, sessions
from tutela.server.auth.schemas import Accepted, NewPassword, ResetRequest, SessionOut, SignIn
from tutela.server.db import transaction
from tutela.server.errors import Forbidden, InvalidInput, NotAuthenticated
from tutela.server.runtime import Runtime, RuntimeDep
from tutela.server.schemas import ErrorOut
from tutela.server.sso import service as sso
from tutela.server.tenants.models import User

router = APIRouter(prefix="/auth", tags=["auth"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Email or password is incorrect"},
    403: {"model": ErrorOut, "description": "The tenant is suspended, or requires single sign-on"},
    429: {"model": ErrorOut, "description": "Too many attempts, or the account is locked"},
}


def _signed_in(runtime: Runtime, response: Response, started: sessions.Started) -> SessionOut:
    sessions.set_cookie(runtime, response, started)
    caller = sessions.authenticate(runtime, started.token)
    return SessionOut.of(caller, started.csrf_token)


@router.post(
    "/sign-in",
    summary="Sign in with email and password (sets the session cookie)",
    responses=_REFUSED,
)
def sign_in(body: SignIn, request: Request, response: Response, runtime: RuntimeDep) -> SessionOut:
    started = sessions.sign_in(
        runtime,
        email=body.email,
        password=body.password,
        tenant_id=body.tenant_id,
        source=source_of(request),
    )
    return _signed_in(runtime, response, started)


def _cookie(request: Request, runtime: Runtime) -> str:
    token = request.cookies.get(sessions.cookie_name(runtime))
    if not token:
        raise NotAuthenticated("Not signed in")
    return token


@router.get(
    "/session",
    summary="The signed-in person and their CSRF token (the session cookie only)",
    openapi_extra={"security": [{"SessionCookie": []}]},
    responses={401: {"model": ErrorOut, "description": "Not signed in"}},
)
def current_session(request: Request, runtime: RuntimeDep) -> SessionOut:
    token = _cookie(request, runtime)
    caller = sessions.authenticate(runtime, token)
    return SessionOut.of(caller, sessions.csrf_token(runtime, token))


@router.post(
    "/sign-out",
    status_code=204,
    summary="Sign out: the session ends on the server",
    openapi_extra={"security": [{"SessionCookie": []}]},
    responses={
        401: {"model": ErrorOut, "description": "Not signed in"},
        403: {"model": ErrorOut, "description": "Missing or wrong X-CSRF-Token"},
    },
)
def sign_out(request: Request, runtime: RuntimeDep) -> Response:
    token = _cookie(request, runtime)
    caller = sessions.authenticate(runtime, token)
    sessions.check_csrf(runtime, token, request)
    with transaction(runtime.sessions) as session:
        sessions.end(session, runtime, token, caller.actor)
    response = Response(status_code=204)
    response.delete_cookie(
        sessions.cookie_name(runtime),
        path="/",
        secure=sessions.secure_cookies(runtime),
        httponly=True,
        samesite="lax",
    )
    return response


@router.post(
    "/password-reset",
    status_code=202,
    summary="Email a password-reset link (the same answer whether or not the account exists)",
)
def request_reset(body: ResetRequest, request: Request, runtime: RuntimeDep) -> Accepted:
    decision = runtime.rate_limiter.hit_sign_in(source_of(request), runtime.settings.sign_in_limit)
    if decision.allowed:
        _mail_reset_links(runtime, body.email)
    return Accepted(
        detail="If an account uses this email, a link to choose a new password is on its way."
    )


def _mail_reset_links(runtime: Runtime, email: str) -> None:
    settings = runtime.settings
    with transaction(runtime.sessions) as session:
        users = session.scalars(
            select(User).where(func.lower(User.email) == email.strip().lower()).limit(10)
        )
        issued = []
        for user in users:
            if sso.required_for(session, user.tenant_id):
                audit.record(
                    session,
                    actor=user.email,
                    action="password.reset_refused",
                    tenant_id=user.tenant_id,
                    target=f"user:{user.id}",
                    details={"reason": "the tenant requires single sign-on"},
                )
                continue
            link = links.issue(
                session,
                user,
                links.RESET,
                lifetime=dt.timedelta(minutes=settings.password_reset_minutes),
                created_by=user.email,
            )
            audit.record(
                session,
                actor=user.email,
                action="password.reset_requested",
                tenant_id=user.tenant_id,
                target=f"user:{user.id}",
            )
            issued.append((user.email, link))
    for address, link in issued:
        emails.send(
            settings,
            emails.password_reset(
                address, link.url(settings.resolved_public_url, links.RESET), link.expires_at
            ),
            event="password_reset",
        )


@router.post(
    "/password-reset/confirm",
    summary="Set a new password with the emailed link's token, and sign in",
    responses={
        403: {"model": ErrorOut, "description": "The tenant requires single sign-on"},
        422: {"model": ErrorOut, "description": "A used, expired or unknown token"},
    },
)
def confirm_reset(
    body: NewPassword, request: Request, response: Response, runtime: RuntimeDep
) -> SessionOut:
    return _signed_in(runtime, response, _set_password(runtime, body, links.RESET, request))


@router.post(
    "/invitations/accept",
    summary="Accept an invitation: choose your password with the emailed link's token, and sign in",
    responses={
        403: {"model": ErrorOut, "description": "The tenant requires single sign-on"},
        422: {"model": ErrorOut, "description": "A used, expired or unknown token"},
    },
)
def accept_invitation(
    body: NewPassword, request: Request, response: Response, runtime: RuntimeDep
) -> SessionOut:
    return _signed_in(runtime, response, _set_password(runtime, body, links.INVITATION, request))


def _set_password(
    runtime: Runtime, body: NewPassword, purpose: str, request: Request
) -> sessions.Started:
    with transaction(runtime.sessions) as session:
        user = links.redeem(session, body.token, purpose)
        if sso.required_for(session, user.tenant_id):
            # A password would open a session that single sign-on never saw (the link stays
            # unused: the transaction rolls back).
            raise Forbidden(
                f"{sessions.SSO_REQUIRED}: sign in with it instead of choosing a password"
            )
        weak = passwords.weakness(body.password, user.email)
        if weak is not None:
            raise InvalidInput(("body", "password"), f"The password {weak}")
        user.password_hash = passwords.hash_password(body.password)
        user.failed_sign_ins, user.locked_until = 0, None
        ended = sessions.end_all(session, user.id)
        audit.record(
            session,
            actor=user.email,
            action="password.reset" if purpose == links.RESET else "invitation.accepted",
            tenant_id=user.tenant_id,
            target=f"user:{user.id}",
            details={"sessions_ended": ended},
        )
        return sessions.start(session, runtime, user, method=purpose, source=source_of(request))
