"""The portal's pages. Each reads through the same services as the API and shows what the
person's role may see; each action on it calls a public endpoint from the browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tutela.scanner.outputs import charts
from tutela.server.auth.scopes import Scope, sort_scopes
from tutela.server.db import transaction, utcnow
from tutela.server.errors import DomainError, domain_error_json
from tutela.server.governance import service as governance
from tutela.server.keys.router import list_api_keys
from tutela.server.reports import service as reports
from tutela.server.reports.models import Report
from tutela.server.runtime import RuntimeDep
from tutela.server.sso.flow import SIGN_IN_ERRORS as SSO_ERRORS
from tutela.server.tenants import service as tenants
from tutela.server.tenants.router import tenant_me
from tutela.server.web import (
    account_pages,
    admin_pages,
    governance_pages,
    insights_pages,
    report_pages,
    scan_pages,
)
from tutela.server.web.rendering import (
    STATIC_PATH,
    SignInRequired,
    any_page,
    open_page,
    public_page,
    safe_next,
    sign_in_required,
)

router = APIRouter(include_in_schema=False)
for area in (
    report_pages,
    scan_pages,
    governance_pages,
    insights_pages,
    account_pages,
    admin_pages,
):
    router.include_router(area.router)
# The portal's own CSS and JS, from the installed package: nothing from elsewhere.
static = StaticFiles(packages=[("tutela.server.web", "static")])

SEVERITIES = ("critical", "high", "medium", "low")
TREND_REPORTS = 30  # the dashboard's score trend: this many latest reports


@router.get("/", response_model=None)
def root() -> RedirectResponse:
    return RedirectResponse("/portal/", status_code=303)


@router.get("/login", response_model=None)
def login(
    request: Request,
    runtime: RuntimeDep,
    next_page: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    sso_error: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    # A code, not a text: a crafted link shows one of our sentences, never words of its own.
    sso_message = SSO_ERRORS.get(sso_error, SSO_ERRORS["failed"]) if sso_error else None
    return public_page(request, runtime).render(
        "login.html", title="Sign in", next_page=safe_next(next_page), sso_error=sso_message
    )


@router.get("/portal/forgot-password", response_model=None)
def forgot_password(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return public_page(request, runtime).render("forgot_password.html", title="Reset your password")


# The pages of the emailed one-time links: (title, endpoint the form calls, its button).
LINK_PAGES = {
    "/portal/reset-password": (
        "Choose a new password",
        "POST /auth/password-reset/confirm",
        "Set password and sign in",
    ),
    "/portal/accept-invitation": (
        "Accept your invitation",
        "POST /auth/invitations/accept",
        "Choose password and sign in",
    ),
}


@router.get("/portal/reset-password", response_model=None)
@router.get("/portal/accept-invitation", response_model=None)
def set_password(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Query(max_length=128)] = "",
) -> HTMLResponse:
    title, endpoint, button = LINK_PAGES[request.url.path]
    return public_page(request, runtime).render(
        "set_password.html", title=title, token=token, endpoint=endpoint, button=button
    )


@router.get("/portal/", response_model=None)
def dashboard(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page = open_page(request, runtime)
    caller = page.person
    if caller.tenant_id is None:  # an operator: the admin pages are theirs
        return page.render("operator.html", title="Operator")
    now = utcnow()
    with transaction(runtime.sessions, readonly=True) as session:
        me = tenant_me(session, tenants.profile(session, caller, runtime.catalog), runtime.catalog)
        rows: list[Report] = []
        if page.may(Scope.REPORT_READ):
            rows, _ = reports.list_reports(
                session,
                caller,
                runtime.catalog,
                now,
                report_type=None,
                cursor=None,
                limit=TREND_REPORTS,
            )
        state = None
        if page.may(Scope.GOVERNANCE_READ) and page.plan_at_least("professional"):
            state = governance.view(session, caller, runtime.catalog, now).as_dict()
    latest = rows[0] if rows else None
    trend = charts.score_trend([(row.created_at, row.aggregate_score) for row in reversed(rows)])
    severity = (
        charts.severity_counts({s: getattr(latest, f"{s}_count") for s in SEVERITIES})
        if latest is not None
        else None
    )
    return page.render(
        "dashboard.html",
        title="Dashboard",
        me=me,
        latest=latest,
        recent=rows[:5],
        trend=trend,
        severity=severity,
        severities=SEVERITIES,
        governance=state,
    )


@router.get("/portal/api-keys", response_model=None)
def api_keys(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page = open_page(request, runtime)
    caller = page.person
    if not page.may(Scope.KEYS_READ):
        return page.not_found("API keys")
    with transaction(runtime.sessions, readonly=True) as session:
        listed = list_api_keys(session, caller, limit=200, cursor=None)  # as GET /api-keys
    return page.render(
        "api_keys.html",
        title="API keys",
        keys=listed.items,
        grantable=sort_scopes(caller.scopes),
        default_days=30,
        max_days=runtime.settings.key_expiry_max_days,
    )


@router.get("/portal/{unknown:path}", response_model=None)
def not_found(unknown: str, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """Any other address under /portal/: the 404 page, not the API's JSON."""
    return any_page(request, runtime).not_found("This page")


def install_portal(app: FastAPI) -> None:
    """The portal's pages and its own static files on ``app``; a page asked for without a
    session answers with the way to sign in."""
    app.mount(STATIC_PATH, static, name="portal-static")  # before the pages' catch-all
    app.include_router(router)
    app.add_exception_handler(SignInRequired, sign_in_required)

    async def domain_error(request: Request, exc: Exception) -> Response:
        """A page that hits an API error (a report that fails its integrity check, a
        customer-managed key that is unavailable) answers with a page saying so; the API
        keeps its JSON."""
        assert isinstance(exc, DomainError)
        if not request.url.path.startswith("/portal/"):
            return await domain_error_json(request, exc)
        detail = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
        title = "Temporarily unavailable" if exc.status_code == 503 else "Something went wrong"
        return any_page(request, request.app.state.runtime).render(
            "error.html",
            status_code=exc.status_code,
            title=title,
            detail=detail,
            status=exc.status_code,
        )

    app.add_exception_handler(DomainError, domain_error)
