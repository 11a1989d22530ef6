"""HTTP for single sign-on: the tenant's provider (/tenant/sso), and signing in through it
(/auth/sso/start and /auth/sso/callback, which a browser follows: redirects, not JSON)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from tutela.server.audit.signins import source_of
from tutela.server.auth import sessions
from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.schemas import ErrorOut
from tutela.server.sso import flow, service
from tutela.server.sso.schemas import SsoOut, SsoUpdate
from tutela.server.web.rendering import safe_next

router = APIRouter()

TenantReader = Annotated[Caller, Depends(Authorize(Scope.TENANT_READ))]
TenantWriter = Annotated[Caller, Depends(Authorize(Scope.TENANT_WRITE))]

_TO_LOGIN: dict[int | str, dict[str, Any]] = {
    303: {
        "description": "To the provider; or back to /login with `sso_error` (a code whose "
        "sentence the page shows) when single sign-on cannot go on",
    },
}


@router.get(
    "/tenant/sso",
    tags=["tenant"],
    summary="Your tenant's single sign-on (OpenID Connect) provider; never the client secret",
)
def get_sso(session: SessionDep, runtime: RuntimeDep, caller: TenantReader) -> SsoOut:
    return SsoOut.model_validate(service.view(session, caller, runtime.settings))


@router.put(
    "/tenant/sso",
    tags=["tenant"],
    summary="Set the single sign-on provider, checked against its discovery document "
    "(audit-logged; the secret is stored sealed)",
    responses={422: {"model": ErrorOut, "description": "Invalid, or the issuer cannot be used"}},
)
def put_sso(
    body: SsoUpdate, session: SessionDep, runtime: RuntimeDep, caller: TenantWriter
) -> SsoOut:
    wanted = service.ProviderSettings(
        issuer=body.issuer,
        client_id=body.client_id,
        client_secret=body.client_secret.get_secret_value(),
        required=body.required,
        email_claim=body.email_claim,
    )
    view = service.configure(
        session, caller, runtime.settings, runtime.keys.credentials_key, wanted
    )
    return SsoOut.model_validate(view)


@router.delete(
    "/tenant/sso",
    tags=["tenant"],
    status_code=204,
    summary="Remove the single sign-on provider: passwords sign in again (audit-logged)",
)
def delete_sso(session: SessionDep, caller: TenantWriter) -> Response:
    service.remove(session, caller)
    return Response(status_code=204)


@router.get(
    "/auth/sso/start",
    tags=["auth"],
    status_code=303,
    response_class=RedirectResponse,
    summary="Sign in with single sign-on: to your tenant's identity provider (a browser link)",
    responses=_TO_LOGIN,
)
def start_sso(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Query(min_length=3, max_length=320)],
    next_page: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    tenant_id: Annotated[
        str | None,
        Query(max_length=36, description="Only when the email is a user of several tenants"),
    ] = None,
) -> RedirectResponse:
    try:
        url = flow.start(
            runtime,
            email=email,
            tenant_id=tenant_id,
            next_path=safe_next(next_page),
            source=source_of(request),
        )
    except flow.SignInRefused as refused:
        return _to_login(refused, next_page)
    return RedirectResponse(url, status_code=303)


@router.get(
    "/auth/sso/callback",
    tags=["auth"],
    status_code=303,
    response_class=RedirectResponse,
    summary="Where the identity provider sends you back: signed in, to the page you asked for",
    responses={303: {"description": "Signed in (the session cookie is set), or back to /login"}},
)
def sso_callback(
    request: Request,
    runtime: RuntimeDep,
    state: Annotated[str, Query(max_length=512)] = "",
    code: Annotated[str, Query(max_length=4096)] = "",
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> RedirectResponse:
    try:
        finished = flow.finish(
            runtime, state=state, code=code, error=error, source=source_of(request)
        )
    except flow.SignInRefused as refused:
        return _to_login(refused, None)
    response = RedirectResponse(safe_next(finished.next_path), status_code=303)
    sessions.set_cookie(runtime, response, finished.started)
    return response


def _to_login(refused: flow.SignInRefused, next_page: str | None) -> RedirectResponse:
    query = {"sso_error": refused.code}
    if next_page is not None:
        query["next"] = safe_next(next_page)
    return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)
