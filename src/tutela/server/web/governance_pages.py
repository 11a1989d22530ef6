"""The portal's pages of continuous governance and of the tenant's encryption (CMK)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tutela.scanner.outputs import charts
from tutela.server.auth.scopes import Scope
from tutela.server.db import transaction
from tutela.server.encryption.router import get_encryption_status
from tutela.server.governance.router import MIN_PLAN, get_governance
from tutela.server.runtime import RuntimeDep
from tutela.server.web.rendering import open_page

router = APIRouter(include_in_schema=False)


@router.get("/portal/governance", response_model=None)
def governance(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page = open_page(request, runtime)
    caller = page.person
    if caller.tenant_id is None or not page.may(Scope.GOVERNANCE_READ):
        return page.not_found("Continuous governance")
    if not page.plan_at_least(MIN_PLAN):  # GET /governance answers 403 naming the plan
        return page.render(
            "governance.html", status_code=403, title="Continuous governance", state=None
        )
    with transaction(runtime.sessions, readonly=True) as session:
        state = get_governance(session, runtime, caller)
    trend = charts.score_trend([(entry.ts, entry.score) for entry in reversed(state.history)])
    return page.render("governance.html", title="Continuous governance", state=state, trend=trend)


@router.get("/portal/encryption", response_model=None)
def encryption(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page = open_page(request, runtime)
    caller = page.person
    if caller.tenant_id is None or not page.may(Scope.ENCRYPTION_READ):
        return page.not_found("Encryption")
    with transaction(runtime.sessions, readonly=True) as session:
        status = get_encryption_status(session, runtime, caller)
    return page.render("encryption.html", title="Encryption", status=status)


@router.get("/portal/encryption/confirm-pmk", response_model=None)
def confirm_pmk(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """The emailed link's landing page: the owner confirms here, the API checks the token."""
    page = open_page(request, runtime)
    caller = page.person
    if caller.tenant_id is None or not page.may(Scope.ENCRYPTION_READ):
        return page.not_found("Encryption")
    with transaction(runtime.sessions, readonly=True) as session:
        status = get_encryption_status(session, runtime, caller)
    return page.render(
        "confirm_pmk.html",
        status_code=200 if page.may(Scope.ENCRYPTION_WRITE) else 403,
        title="Switch back to the platform key",
        status=status,
        token=token,
    )
