"""The account page: subscriptions, the write-only service principal, and the tenant's people
for owners and admins, each change a call to its public endpoint."""

from __future__ import annotations

import re
from typing import Any

from tests.platform import Platform, TenantCtx
from tests.server.web.test_portal_pages import PASSWORD, parsed

SECRET = "Qx8~kTn3.Vb_q2RzW7yHc-9LmPdF4sJe"


def forms(html: str) -> list[str]:
    return [a["data-api"] or "" for t, a in parsed(html).tags if t == "form" and "data-api" in a]


def invitable_roles(html: str) -> set[str]:
    """The roles the invitation form offers."""
    [select] = re.findall(r'<select id="f-role".*?</select>', html, flags=re.S)
    return set(re.findall(r'<option value="(\w+)"', select))


def signed_in(platform: Platform, tenant: TenantCtx, role: str | None = None) -> dict[str, str]:
    user_id = tenant.owner_id if role is None else platform.user(tenant, role)[0]
    return platform.sign_in(platform.set_password(user_id, PASSWORD), PASSWORD)


def test_the_owner_manages_subscriptions_credentials_and_people(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    csrf = signed_in(platform, tenant)
    member_id, _ = platform.user(tenant, "member")

    html = platform.client.get("/portal/account").text

    assert "No subscription is linked yet: add one below." in html
    assert forms(html)[1:3] == ["PUT /tenant/subscriptions", "PUT /tenant/credentials"]
    assert "POST /tenant/users" in forms(html)
    assert f'data-user_id="{member_id}"' in html
    assert invitable_roles(html) == {"admin", "member", "auditor"}  # the owner may name admins

    # What portal.js sends for each form, as the browser would.
    linked = platform.client.put(
        "/tenant/subscriptions",
        json={"subscription_ids": ["00000000-0000-0000-0000-0000000000a1"]},
        headers=csrf,
    )
    stored = platform.client.put(
        "/tenant/credentials",
        json={
            "tenant_id": "9b1f3c2d-4e5a-4f60-8a7b-6c5d4e3f2a10",
            "client_id": "5e7d9c1b-2a3f-4e6d-8b9c-0f1e2d3c4b5a",
            "client_secret": SECRET,
        },
        headers=csrf,
    )
    invited = platform.client.post(
        "/tenant/users", json={"email": "new@example.com", "role": "auditor"}, headers=csrf
    )
    assert (linked.status_code, stored.status_code, invited.status_code) == (200, 200, 201)

    after = platform.client.get("/portal/account").text
    assert "00000000-0000-0000-0000-0000000000a1" in after
    assert "Credentials are set." in after
    assert SECRET not in after
    assert re.search(r"new@example\.com</td>\s*<td>auditor</td>\s*<td>invited", after)


def test_an_admin_cannot_be_named_by_an_admin_and_a_member_sees_no_people(
    platform: Platform,
) -> None:
    tenant = platform.tenant("professional")
    signed_in(platform, tenant, "admin")
    admin_html = platform.client.get("/portal/account").text
    assert invitable_roles(admin_html) == {"member", "auditor"}

    platform.client.cookies.clear()
    signed_in(platform, tenant, "member")
    member_html = platform.client.get("/portal/account").text
    assert "People" not in member_html
    assert forms(member_html) == ["POST /auth/sign-out"]


def test_another_tenants_people_never_appear(platform: Platform) -> None:
    mine, theirs = platform.tenant(), platform.tenant()
    their_user, _ = platform.user(theirs, "member")
    signed_in(platform, mine)

    html = platform.client.get("/portal/account").text

    assert their_user not in html
    assert (
        platform.client.put(
            f"/tenant/users/{their_user}/role",
            json={"role": "auditor"},
            headers={"X-CSRF-Token": platform.client.get("/auth/session").json()["csrf_token"]},
        ).status_code
        == 404
    )


def test_single_sign_on_is_shown_and_set_from_the_account_page(
    settings_factory: Any,
) -> None:
    from tests.server.sso.provider import CLIENT_ID, CLIENT_SECRET, LocalProvider
    from tutela.server.sso.service import redirect_uri

    settings = settings_factory(sso_allow_internal_providers=True)
    with Platform(settings) as platform, LocalProvider(redirect_uri(settings)) as provider:
        tenant = platform.tenant("professional")
        csrf = signed_in(platform, tenant)
        before = platform.client.get("/portal/account").text
        assert "No OpenID Connect provider is set" in before
        assert redirect_uri(settings) in before
        assert "PUT /tenant/sso" in forms(before)
        assert "DELETE /tenant/sso" not in forms(before)

        saved = platform.client.put(  # what the form sends
            "/tenant/sso",
            json={
                "issuer": provider.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "email_claim": "email",
                "required": False,
            },
            headers=csrf,
        )
        assert saved.status_code == 200, saved.text

        after = platform.client.get("/portal/account").text
        assert provider.issuer in after
        assert CLIENT_SECRET not in after
        assert "Passwords still work too." in after
        assert "DELETE /tenant/sso" in forms(after)
