"""The operators' pages: tenants and the audit log, their actions calls to the admin API with
the operator's portal session; nobody else sees them."""

from __future__ import annotations

from tests.platform import Platform
from tests.server.web.test_portal_pages import PASSWORD, parsed
from tutela.server.admin import service as admin


def operator_signed_in(platform: Platform) -> dict[str, str]:
    with platform.db() as session:
        operator = admin.ensure_operator(session, actor="tests", email="ops@example.com")
        operator_id = operator.id
    return platform.sign_in(platform.set_password(operator_id, PASSWORD), PASSWORD)


def test_an_operator_manages_tenants_through_the_admin_api(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    csrf = operator_signed_in(platform)

    home = platform.client.get("/portal/").text
    assert 'href="/portal/admin/tenants"' in home
    html = platform.client.get("/portal/admin/tenants").text
    assert tenant.id in html
    forms = {a["data-api"] for t, a in parsed(html).tags if t == "form" and "data-api" in a}
    assert {
        "POST /admin/tenants",
        "PUT /admin/tenants/{tenant_id}/plan",
        "POST /admin/tenants/{tenant_id}/suspend",
    } <= forms

    # As portal.js sends them: the admin API, authenticated by the session and its token.
    created = platform.client.post(
        "/admin/tenants",
        json={"owner_email": "new-owner@example.com", "plan": "professional"},
        headers=csrf,
    )
    assert created.status_code == 201, created.text
    assert created.json()["owner_key"]["key"].startswith("tut_")
    moved = platform.client.put(
        f"/admin/tenants/{tenant.id}/plan", json={"plan": "enterprise"}, headers=csrf
    )
    suspended = platform.client.post(f"/admin/tenants/{tenant.id}/suspend", headers=csrf)
    assert (moved.status_code, suspended.status_code) == (200, 200)
    assert platform.client.post(f"/admin/tenants/{tenant.id}/reactivate").status_code == 403

    after = platform.client.get("/portal/admin/tenants", params={"status": "suspended"}).text
    assert tenant.id in after
    assert "Reactivate" in after
    assert "new-owner@example.com" not in after  # active, filtered out
    assert platform.client.get("/tenant/me", headers=tenant.headers).status_code == 403


def test_the_audit_log_page_lists_and_filters_events(platform: Platform) -> None:
    tenant = platform.tenant()
    platform.client.post("/auth/sign-in", json={"email": "x@example.com", "password": "nope"})
    operator_signed_in(platform)

    everything = platform.client.get("/portal/admin/audit").text
    failed = platform.client.get("/portal/admin/audit", params={"action": "signin.failed"}).text
    theirs = platform.client.get("/portal/admin/audit", params={"tenant_id": tenant.id}).text

    assert "signin.succeeded" in everything
    assert "tenant.created" in everything
    assert "signin.failed" in failed
    assert "signin.succeeded" not in failed
    assert "tenant.created" in theirs
    assert "signin.failed" not in theirs


def test_tenants_people_never_see_the_operators_pages(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    platform.sign_in(platform.set_password(tenant.owner_id, PASSWORD), PASSWORD)

    for path in ("/portal/admin/tenants", "/portal/admin/audit"):
        response = platform.client.get(path)
        assert response.status_code == 404
        assert tenant.id not in response.text
    assert 'href="/portal/admin/tenants"' not in platform.client.get("/portal/").text
    assert platform.client.get("/admin/tenants").status_code == 403
