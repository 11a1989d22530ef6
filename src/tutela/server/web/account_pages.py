"""The portal's account page: linked subscriptions, the Azure service principal (write-only),
the tenant's people with their roles, and its single sign-on provider (owners and admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tutela.server.auth.scopes import Role, Scope
from tutela.server.db import transaction
from tutela.server.runtime import RuntimeDep
from tutela.server.sso.router import get_sso
from tutela.server.tenants import service as tenants
from tutela.server.tenants.router import tenant_me
from tutela.server.users.router import list_users
from tutela.server.web.rendering import open_page

router = APIRouter(include_in_schema=False)

PEOPLE_PAGE = 200  # people listed on the page; a tenant with more pages through the API
ASSIGNABLE = (Role.ADMIN, Role.MEMBER, Role.AUDITOR)
EMAIL_CLAIMS = ("email", "preferred_username", "upn")


@router.get("/portal/account", response_model=None)
def account(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page = open_page(request, runtime)
    caller = page.person
    if caller.tenant_id is None:
        return page.not_found("An account page")
    with transaction(runtime.sessions, readonly=True) as session:
        me = tenant_me(session, tenants.profile(session, caller, runtime.catalog), runtime.catalog)
        people = (
            list_users(session, caller, limit=PEOPLE_PAGE, cursor=None)  # as GET /tenant/users
            if page.may(Scope.TENANT_WRITE)
            else None
        )
        sso = get_sso(session, runtime, caller)  # as GET /tenant/sso
    # Only the owner names admins (the API refuses an admin doing it: 403).
    roles = [r.value for r in ASSIGNABLE if caller.role == Role.OWNER or r != Role.ADMIN]
    return page.render(
        "account.html",
        title="Account",
        me=me,
        people=people.items if people is not None else None,
        more_people=people is not None and people.next_cursor is not None,
        roles=roles,
        sso=sso,
        email_claims=EMAIL_CLAIMS,
    )
