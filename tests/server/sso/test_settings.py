"""/tenant/sso: a provider is stored only once its discovery document names it, its secret is
sealed and never shown, and every change is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.platform import Platform
from tests.server.sso.conftest import SsoTenant, configure
from tests.server.sso.provider import CLIENT_ID, CLIENT_SECRET, LocalProvider
from tutela.server.audit.models import AuditEvent
from tutela.server.sso.models import TenantSso


def audited(platform: Platform, action: str) -> list[AuditEvent]:
    with platform.db() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        session.expunge_all()
        return rows


def test_a_provider_is_set_shown_without_its_secret_and_removed(
    platform: Platform, provider: LocalProvider
) -> None:
    tenant = platform.tenant("professional")
    before = platform.client.get("/tenant/sso", headers=tenant.headers)
    assert before.status_code == 200
    assert (before.json()["configured"], before.json()["issuer"]) == (False, None)

    stored = configure(platform, tenant, provider.issuer, email_claim="preferred_username")

    assert stored.status_code == 200, stored.text
    shown = platform.client.get("/tenant/sso", headers=tenant.headers).json()
    assert shown == stored.json()
    assert shown["configured"] is True
    assert (shown["issuer"], shown["client_id"]) == (provider.issuer, CLIENT_ID)
    assert (shown["required"], shown["email_claim"]) == (False, "preferred_username")
    assert shown["redirect_uri"] == "http://127.0.0.1:8000/auth/sso/callback"
    assert CLIENT_SECRET not in stored.text
    with platform.db() as session:
        row = session.get(TenantSso, tenant.id)
        assert row is not None
        assert CLIENT_SECRET.encode() not in row.client_secret  # sealed
    [event] = audited(platform, "sso.configured")
    assert event.details["issuer"] == provider.issuer
    assert CLIENT_SECRET not in str(event.details)

    removed = platform.client.delete("/tenant/sso", headers=tenant.headers)

    assert removed.status_code == 204
    assert platform.client.get("/tenant/sso", headers=tenant.headers).json()["configured"] is False
    assert len(audited(platform, "sso.removed")) == 1


def test_an_issuer_that_cannot_be_used_is_refused_with_why(
    platform: Platform, provider: LocalProvider
) -> None:
    tenant = platform.tenant()
    cases = {
        # Nothing listens on the loopback's port 9.
        "http://127.0.0.1:9": "could not be reached",
        # The document is found, but names the issuer without the trailing slash.
        provider.issuer + "/": f"names another issuer ({provider.issuer})",
        "http://idp.example.com/tenant/v2.0": "must be an https:// URL",
        provider.issuer + "/nothing-here": "answered HTTP 404",
    }
    for issuer, why in cases.items():
        response = configure(platform, tenant, issuer)

        assert response.status_code == 422, (issuer, response.text)
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "issuer"]
        assert error["msg"].startswith("The issuer ")
        assert why in error["msg"], error["msg"]
    assert platform.client.get("/tenant/sso", headers=tenant.headers).json()["configured"] is False
    assert audited(platform, "sso.configured") == []


def test_only_an_admin_may_change_single_sign_on(
    platform: Platform, sso_tenant: SsoTenant, provider: LocalProvider
) -> None:
    _, member_key = platform.user(sso_tenant.tenant, "member")

    assert platform.client.get("/tenant/sso", headers={"X-API-Key": member_key}).status_code == 200
    refused = platform.client.delete("/tenant/sso", headers={"X-API-Key": member_key})

    assert refused.status_code == 403
    assert platform.client.get("/tenant/sso", headers={"X-API-Key": member_key}).json()[
        "configured"
    ]


def test_a_short_secret_or_an_unknown_email_claim_is_refused(
    platform: Platform, provider: LocalProvider
) -> None:
    tenant = platform.tenant()

    short = configure(platform, tenant, provider.issuer, client_secret="too short")
    claim = configure(platform, tenant, provider.issuer, email_claim="name")

    assert (short.status_code, claim.status_code) == (422, 422)
    assert "too short" not in short.text


def test_by_default_a_provider_on_a_private_or_local_address_is_refused(
    settings_factory: Any, provider: LocalProvider
) -> None:
    """A tenant's admin chooses the issuer, and the server fetches it: unless the operator
    allows internal providers, nothing on the server's own network is reached."""
    with Platform(settings_factory()) as platform:
        tenant = platform.tenant()
        cases = {
            provider.issuer: "must be an https:// URL",  # http, even to this machine
            "https://127.0.0.1:9/v2.0": "private or local network address",
            "https://10.1.2.3/tenant/v2.0": "private or local network address",
            "https://169.254.169.254/metadata": "private or local network address",
            "https://localhost/realms/x": "private or local network address",
        }
        for issuer, why in cases.items():
            response = configure(platform, tenant, issuer)
            assert response.status_code == 422, (issuer, response.text)
            message = response.json()["detail"][0]["msg"]
            assert why in message, issuer
            if why.startswith("private"):
                assert "TUTELA_SSO_ALLOW_INTERNAL_PROVIDERS=true" in message
        shown = platform.client.get("/tenant/sso", headers=tenant.headers).json()
        assert shown["configured"] is False
