"""The portal's pages as the server renders them: sign-in required, security headers and a
strict CSP with nothing inline, each action a documented public endpoint, and what a page
shows (and hides) for the signed-in person."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.resources import files
from typing import Any

import pytest

from tests.platform import Platform, TenantCtx
from tutela.server.web.pages import LINK_PAGES
from tutela.server.web.rendering import CONTENT_SECURITY_POLICY

PASSWORD = "correct horse battery staple"
TEMPLATES = files("tutela.server.web").joinpath("templates")
PUBLIC_PAGES = [
    "/login",
    "/portal/forgot-password",
    "/portal/reset-password?token=abc",
    "/portal/accept-invitation?token=abc",
]
ARM_TEMPLATE = (
    b'{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
    b'deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": ['
    b'{"type": "Microsoft.MachineLearningServices/workspaces", "apiVersion": '
    b'"2024-04-01", "name": "ml", "location": "westeurope", "properties": {}}]}'
)
SIGNED_IN_PAGES = ["/portal/", "/portal/api-keys"]


class Markup(HTMLParser):
    """Every tag with its attributes, and the text of inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.inline.append(f"<{self._open}>{data.strip()[:60]}")

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def parsed(html: str) -> Markup:
    markup = Markup()
    markup.feed(html)
    return markup


@pytest.fixture
def person(platform: Platform) -> TenantCtx:
    tenant = platform.tenant("professional")
    platform.sign_in(platform.set_password(tenant.owner_id, PASSWORD), PASSWORD)
    return tenant


def documented_operations(platform: Platform) -> set[tuple[str, str]]:
    """Every operation of the public API and of the operators' API (mounted at /admin)."""
    operations = set()
    for prefix, url in (("", "/openapi.json"), ("/admin", "/admin/openapi.json")):
        spec: dict[str, Any] = platform.client.get(url).json()
        operations |= {
            (method.upper(), prefix + path)
            for path, item in spec["paths"].items()
            for method in item
            if method in ("get", "post", "put", "patch", "delete")
        }
    return operations


def test_every_portal_action_is_a_documented_public_endpoint(platform: Platform) -> None:
    """The portal is a front end of the API: each form names the endpoint it calls, and a form
    with no public endpoint behind it fails this test."""
    actions = set()
    for template in TEMPLATES.iterdir():
        # A form the script sends (data-api), or a plain GET form the browser follows to an
        # endpoint (action; those to the portal's own pages, /portal/..., are no endpoints).
        found = re.findall(
            r'data-api="(\w+) ([^"]+)"|method="(get)" action="(/(?!portal/)[^"]+)"',
            template.read_text(),
        )
        for api_method, api_path, form_method, form_path in found:
            path = (api_path or form_path).split("?")[0]  # a query is no part of the path
            actions.add(((api_method or form_method).upper(), path))
    dynamic = re.findall(r'endpoint="(\w+) ([^"]+)"', (TEMPLATES / "set_password.html").read_text())
    assert not dynamic  # the set-password page's endpoint comes from pages.py:
    actions |= {tuple(endpoint.split(" ")) for _, endpoint, _ in LINK_PAGES.values()}
    assert len(actions) >= 9
    assert ("GET", "/auth/sso/start") in actions
    missing = actions - documented_operations(platform)
    assert not missing, f"portal actions with no public endpoint: {sorted(missing)}"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_public_page_has_the_security_headers_and_nothing_inline(
    platform: Platform, path: str
) -> None:
    response = platform.client.get(path)

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    markup = parsed(response.text)
    assert markup.inline == []
    for tag, attributes in markup.tags:
        assert "style" not in attributes, tag
        assert not [a for a in attributes if a.startswith("on")], (tag, attributes)
        for name in ("src", "href", "action"):
            value = attributes.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), (tag, value)


def test_signed_in_pages_send_a_stranger_to_sign_in_and_back(platform: Platform) -> None:
    for path in SIGNED_IN_PAGES:
        response = platform.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/portal/api-keys", "/portal/api-keys"),
        ("https://evil.example/", "/portal/"),
        ("//evil.example/", "/portal/"),
        ("/\\evil.example", "/portal/"),
    ],
)
def test_after_sign_in_the_page_goes_only_to_this_site(
    platform: Platform, asked: str, kept: str
) -> None:
    html = platform.client.get("/login", params={"next": asked}).text
    [next_field] = [a for t, a in parsed(html).tags if t == "input" and a.get("name") == "next"]
    assert next_field["value"] == kept


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_a_signed_in_page_has_the_csrf_token_and_no_inline_code(
    platform: Platform, person: TenantCtx, path: str
) -> None:
    response = platform.client.get(path)

    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["cache-control"] == "no-store"
    markup = parsed(response.text)
    assert markup.inline == []
    [meta] = [a for t, a in markup.tags if t == "meta" and a.get("name") == "csrf-token"]
    assert meta["content"] == platform.client.get("/auth/session").json()["csrf_token"]


def test_the_dashboard_shows_the_tenant_its_reports_and_their_charts(
    platform: Platform, person: TenantCtx
) -> None:
    empty = platform.client.get("/portal/").text
    assert "No report yet: run a scan to see your score here." in empty
    assert "No subscription is linked yet." in empty

    for _ in range(2):
        scanned = platform.client.post(
            "/scan/iac",
            headers={**person.headers, "content-type": "application/json"},
            content=ARM_TEMPLATE,
        )
        assert scanned.status_code == 200, scanned.text
    html = platform.client.get("/portal/").text

    report_id = scanned.json()["report_id"]
    assert report_id in html
    images = [a for t, a in parsed(html).tags if t == "img"]
    assert len(images) == 2
    for image in images:
        assert (image["src"] or "").startswith("data:image/svg+xml;base64,")
        assert image["alt"]
    assert "Professional" in html


def test_the_keys_page_lists_keys_and_never_a_secret(platform: Platform, person: TenantCtx) -> None:
    html = platform.client.get("/portal/api-keys").text

    assert person.owner_key not in html
    assert person.owner_key[:12] in html  # its prefix, to recognise it
    boxes = [a for t, a in parsed(html).tags if t == "input" and a.get("name") == "scopes"]
    assert {box["value"] for box in boxes} == set(
        platform.client.get("/auth/session").json()["scopes"]
    )


def test_a_member_sees_the_scopes_of_a_member_only(platform: Platform) -> None:
    tenant = platform.tenant()
    member_id, _ = platform.user(tenant, "member")
    platform.sign_in(platform.set_password(member_id, PASSWORD), PASSWORD)

    html = platform.client.get("/portal/api-keys").text

    boxes = {a["value"] for t, a in parsed(html).tags if t == "input" and a.get("name") == "scopes"}
    assert "scan:run" in boxes
    assert "tenant:write" not in boxes
    assert "encryption:write" not in boxes


def test_the_static_files_are_ours_and_nothing_else_is_served(platform: Platform) -> None:
    for name, media in (("portal.js", "text/javascript"), ("portal.css", "text/css")):
        response = platform.client.get(f"/portal/static/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
    for probe in ("../rendering.py", "%2e%2e/rendering.py", "templates/base.html"):
        assert platform.client.get(f"/portal/static/{probe}").status_code == 404


def test_an_unknown_portal_address_is_the_not_found_page(platform: Platform) -> None:
    for path in ("/portal/nope", "/portal/reports/x/y/z", "/portal/static-ish"):
        response = platform.client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "<h1>Not found</h1>" in response.text
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert platform.client.get("/portal/static/portal.css").status_code == 200  # not shadowed


def test_a_page_that_meets_an_api_error_says_so_as_a_page(
    platform: Platform, person: TenantCtx
) -> None:
    """A report that fails its integrity check: the API answers its JSON 500, the page an HTML
    page with the same words and status."""
    scanned = platform.client.post(
        "/scan/iac",
        headers={**person.headers, "content-type": "application/json"},
        content=ARM_TEMPLATE,
    )
    assert scanned.status_code == 200, scanned.text
    report_id = scanned.json()["report_id"]
    from sqlalchemy import update

    from tutela.server.reports.models import Report

    with platform.db() as session:
        session.execute(
            update(Report).where(Report.report_id == report_id).values(wrapped_key=b"\x01" * 60)
        )

    page = platform.client.get(f"/portal/reports/{report_id}")
    api = platform.client.get(f"/report/{report_id}", headers=person.headers)

    assert page.status_code == api.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "cannot be decrypted" in page.text
    assert api.json()["detail"].startswith(f"Report {report_id} cannot be decrypted")
