"""The operators' pages: tenants (create, plan, suspend, reactivate) and the audit log. Their
actions call the admin API (`/admin/...`) as an operator's key would."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tutela.server.admin.router import list_audit_events, list_tenants
from tutela.server.auth.scopes import Scope
from tutela.server.db import transaction
from tutela.server.pagination import CursorParam
from tutela.server.runtime import RuntimeDep
from tutela.server.web.rendering import open_page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/portal/admin/tenants", response_model=None)
def tenants(
    request: Request,
    runtime: RuntimeDep,
    status: Annotated[Literal["active", "suspended"] | None, Query()] = None,
    cursor: CursorParam = None,
) -> HTMLResponse:
    page = open_page(request, runtime)
    caller = page.person
    if not page.may(Scope.ADMIN_READ):
        return page.not_found("The operators' pages")
    with transaction(runtime.sessions, readonly=True) as session:
        listed = list_tenants(  # as GET /admin/tenants
            session,
            caller,
            status=status,
            limit=PAGE_SIZE,
            cursor=cursor,
        )
    return page.render(
        "admin_tenants.html",
        title="Tenants",
        tenants=listed.items,
        next_cursor=listed.next_cursor,
        status=status,
        plans=[plan.id for plan in runtime.catalog.plans],
    )


@router.get("/portal/admin/audit", response_model=None)
def audit(
    request: Request,
    runtime: RuntimeDep,
    tenant_id: Annotated[str | None, Query(max_length=36)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorParam = None,
) -> HTMLResponse:
    page = open_page(request, runtime)
    caller = page.person
    if not page.may(Scope.ADMIN_READ):
        return page.not_found("The audit log")
    with transaction(runtime.sessions, readonly=True) as session:
        listed = list_audit_events(  # as GET /admin/audit-events
            session,
            caller,
            tenant_id=tenant_id or None,
            action=action or None,
            limit=PAGE_SIZE,
            cursor=cursor,
        )
    return page.render(
        "admin_audit.html",
        title="Audit log",
        events=listed.items,
        next_cursor=listed.next_cursor,
        tenant_id=tenant_id or "",
        action=action or "",
    )
