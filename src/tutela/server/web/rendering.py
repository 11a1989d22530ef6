"""How the portal's pages are made: Jinja2 templates (autoescaped), the signed-in person, and
the security headers every page carries.

Pages are read on the server; every action on a page is a form whose ``data-api`` names the
public endpoint it calls (``portal.js`` sends it with the session cookie and the CSRF token), so
the browser's network tab shows the documented API. ``tests/server/web/test_portal_actions.py``
holds each ``data-api`` against the OpenAPI document.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from tutela import __version__
from tutela.server.auth import sessions
from tutela.server.auth.caller import Caller
from tutela.server.auth.scopes import Scope
from tutela.server.errors import Forbidden, NotAuthenticated
from tutela.server.runtime import Runtime

STATIC_PATH = "/portal/static"

# Only our own files, no inline script or style, no frame, no plug-in; images may be the
# charts' data: URIs. form-action 'self' keeps a forged form from posting elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Pages may carry one-time tokens in their address: never send it to another site.
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# The main navigation: (path, label, scope needed to see it or None). Only pages that exist.
NAV: list[tuple[str, str, Scope | None]] = [
    ("/portal/", "Dashboard", None),
    ("/portal/api-keys", "API keys", Scope.KEYS_READ),
    ("/portal/reports", "Reports", Scope.REPORT_READ),
    ("/portal/scan", "Scan", Scope.SCAN_RUN),
    ("/portal/governance", "Governance", Scope.GOVERNANCE_READ),
    ("/portal/encryption", "Encryption", Scope.ENCRYPTION_READ),
    ("/portal/account", "Account", Scope.TENANT_READ),
    ("/portal/admin/tenants", "Tenants", Scope.ADMIN_READ),
    ("/portal/admin/audit", "Audit log", Scope.ADMIN_READ),
]

_templates = Environment(
    loader=PackageLoader("tutela.server.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def secure(response: HTMLResponse | RedirectResponse, runtime: Runtime) -> None:
    response.headers.update(SECURITY_HEADERS)
    if sessions.secure_cookies(runtime):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


class Page:
    """One request for a page: who asks, their CSRF token, and the response it renders."""

    def __init__(
        self, request: Request, runtime: Runtime, caller: Caller | None, token: str | None
    ):
        self.request, self.runtime, self.caller = request, runtime, caller
        self.csrf = sessions.csrf_token(runtime, token) if token else ""

    @property
    def person(self) -> Caller:
        """The signed-in person (a page from ``open_page`` always has one)."""
        assert self.caller is not None
        return self.caller

    def may(self, *scopes: Scope) -> bool:
        return self.caller is not None and set(scopes) <= self.caller.scopes

    def plan_at_least(self, plan: str) -> bool:
        catalog = self.runtime.catalog
        return (
            self.caller is not None
            and self.caller.plan is not None
            and catalog.plan_rank(self.caller.plan) >= catalog.plan_rank(plan)
        )

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = _templates.get_template(template).render(
            page=self,
            person=self.caller,
            csrf=self.csrf,
            static=STATIC_PATH,
            version=__version__,
            path=self.request.url.path,
            nav=[(href, label) for href, label, scope in NAV if scope is None or self.may(scope)],
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        secure(response, self.runtime)
        return response

    def not_found(self, what: str) -> HTMLResponse:
        return self.render("not_found.html", status_code=404, title="Not found", what=what)


class SignInRequired(Exception):
    """A page for signed-in people was asked for without a session: the answer is a redirect
    to sign in that comes back (the app turns this into it: ``sign_in_required``)."""

    def __init__(self, response: RedirectResponse) -> None:
        super().__init__("sign in required")
        self.response = response


def sign_in_required(_request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, SignInRequired)
    return exc.response


def open_page(request: Request, runtime: Runtime) -> Page:
    """The signed-in person's page; without a session, ``SignInRequired``."""
    token = request.cookies.get(sessions.cookie_name(runtime))
    if token:
        try:
            return Page(request, runtime, sessions.authenticate(runtime, token), token)
        except (NotAuthenticated, Forbidden):
            pass
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    secure(response, runtime)
    raise SignInRequired(response)


def public_page(request: Request, runtime: Runtime) -> Page:
    """A page anyone may open (sign-in, links from emails)."""
    return Page(request, runtime, None, None)


def any_page(request: Request, runtime: Runtime) -> Page:
    """The signed-in person's page when there is a session, else a public one."""
    try:
        return open_page(request, runtime)
    except SignInRequired:
        return public_page(request, runtime)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/portal/"
    return target
