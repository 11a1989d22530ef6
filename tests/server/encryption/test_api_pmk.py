"""The two-step switch back to the platform key: POST /tenant/encryption/pmk mails a one-time
link; POST /tenant/encryption/confirm-pmk?token=… completes it (400 / 403 / 410, single use)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from tests.platform import Platform, TenantCtx, auth
from tests.server.encryption.fake_vault import FakeVault
from tests.server.encryption.helpers import (
    cmk_tenant,
    enable,
    mails_to,
    owner_email,
    status,
    with_principal,
)
from tutela.server.encryption.models import PendingDowngrade
from tutela.server.encryption.tokens import digest

LINK = re.compile(r"https?://\S+")


def start(platform: Platform, tenant: TenantCtx) -> str:
    """Start the switch; the token from the link mailed to the owner."""
    response = platform.client.post("/tenant/encryption/pmk", headers=tenant.headers)
    assert response.status_code == 200, response.text
    _, text = mails_to(platform, owner_email(platform, tenant))[-1]
    [link] = LINK.findall(text)
    [token] = parse_qs(urlsplit(link).query)["token"]
    return token


def confirm(platform: Platform, tenant: TenantCtx, token: str) -> tuple[int, dict[str, object]]:
    response = platform.client.post(
        "/tenant/encryption/confirm-pmk", params={"token": token}, headers=tenant.headers
    )
    body: dict[str, object] = response.json()
    return response.status_code, body


def pending(platform: Platform, tenant: TenantCtx) -> PendingDowngrade | None:
    with platform.db() as session:
        row = session.get(PendingDowngrade, tenant.id)
        if row is not None:
            session.expunge(row)
        return row


def test_starting_mails_the_owner_a_one_time_link(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    owner = owner_email(platform, tenant)
    response = platform.client.post("/tenant/encryption/pmk", headers=tenant.headers)

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "pending": True,
        "email_sent": True,
        "message": f"A confirmation link has been sent to {owner}. Click it within 30 minutes "
        "to complete the switch to PMK.",
    }
    subject, text = mails_to(platform, owner)[-1]
    assert "confirm the switch to the platform key" in subject
    [link] = LINK.findall(text)
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}" == platform.settings.resolved_public_url
    assert url.path == "/portal/encryption/confirm-pmk"
    [token] = parse_qs(url.query)["token"]
    assert len(token) >= 43
    assert text.count(token) == 1  # in the link only
    assert "It opens the web portal" in text  # the page is built; the API stays an option
    assert "POST /tenant/encryption/confirm-pmk" in text
    row = pending(platform, tenant)
    assert row is not None
    assert row.token_hash == digest(token) != token  # stored hashed only
    remaining = row.expires_at.replace(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=29) < remaining <= dt.timedelta(minutes=30)
    assert status(platform, tenant)["cmk_downgrade_pending"] is True
    assert token not in response.text


def test_confirming_switches_to_pmk_once(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    version = vault.secrets["tutela-key"][-1].version
    token = start(platform, tenant)

    code, body = confirm(platform, tenant, token)

    assert code == 200
    assert body == {
        "ok": True,
        "mode": "pmk",
        "cmk_was_accessible": True,
        "warning": None,
        "message": "Encryption switched to Platform-Managed Key. Future scans use Tutela's PMK.",
    }
    seen = status(platform, tenant, extended=True)
    assert (seen["encryption_mode"], seen["cmk_configured"]) == ("pmk", False)
    assert seen["cmk_downgrade_pending"] is False
    latest = seen["encryption_mode_history"][0]
    assert (latest["mode"], latest["previous_mode"], latest["reason"]) == (
        "pmk",
        "cmk",
        "pmk_confirm",
    )
    assert (latest["key_name"], latest["key_version"]) == ("tutela-key", version)
    subject, text = mails_to(platform, owner_email(platform, tenant))[-1]
    assert "switched to the platform key" in subject
    assert token not in text
    # Single use: the same token again finds nothing pending.
    assert confirm(platform, tenant, token)[0] == 400
    assert pending(platform, tenant) is None


def test_an_unreachable_vault_does_not_stop_the_switch(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform, key="tutela-kek")
    token = start(platform, tenant)
    vault.unreachable = True

    code, body = confirm(platform, tenant, token)

    assert code == 200
    assert body["cmk_was_accessible"] is False
    warning = str(body["warning"])
    assert warning.startswith("Your Key Vault key could not be reached: cannot reach")
    assert "cannot be read until the vault answers again" in warning
    assert status(platform, tenant, extended=True)["encryption_mode"] == "pmk"
    _, text = mails_to(platform, owner_email(platform, tenant))[-1]
    assert warning in text


def test_nothing_pending_is_a_400(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    code, body = confirm(platform, tenant, "x" * 43)

    assert code == 400
    assert str(body["detail"]).startswith("No pending downgrade request found")


def test_a_wrong_token_is_a_403_and_keeps_the_request(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    token = start(platform, tenant)

    assert confirm(platform, tenant, token[:-1] + ("A" if token[-1] != "A" else "B")) == (
        403,
        {"detail": "Invalid token"},
    )
    assert status(platform, tenant)["cmk_configured"] is True
    assert confirm(platform, tenant, token)[0] == 200


def test_an_expired_token_is_a_410_and_the_request_is_removed(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)
    token = start(platform, tenant)
    with platform.db() as session:
        row = session.get(PendingDowngrade, tenant.id)
        assert row is not None
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert status(platform, tenant)["cmk_downgrade_pending"] is False

    code, body = confirm(platform, tenant, token)

    assert code == 410
    assert str(body["detail"]).startswith("Token expired")
    assert pending(platform, tenant) is None
    assert confirm(platform, tenant, token)[0] == 400
    assert status(platform, tenant, extended=True)["encryption_mode"] == "cmk"


def test_a_new_request_replaces_the_earlier_token(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    first = start(platform, tenant)
    second = start(platform, tenant)

    assert confirm(platform, tenant, first)[0] == 403
    assert confirm(platform, tenant, second)[0] == 200


def test_another_tenants_token_does_nothing(platform: Platform, vault: FakeVault) -> None:
    a, b = cmk_tenant(platform), cmk_tenant(platform)
    token_a = start(platform, a)

    assert confirm(platform, b, token_a)[0] == 400  # b has nothing pending
    start(platform, b)
    assert confirm(platform, b, token_a)[0] == 403  # nor does a's token match b's
    for tenant in (a, b):
        assert status(platform, tenant, extended=True)["encryption_mode"] == "cmk"
    assert pending(platform, a) is not None
    assert confirm(platform, a, token_a)[0] == 200


def test_starting_without_cmk_is_a_400(platform: Platform, vault: FakeVault) -> None:
    tenant = with_principal(platform)
    response = platform.client.post("/tenant/encryption/pmk", headers=tenant.headers)

    assert response.status_code == 400
    assert mails_to(platform, owner_email(platform, tenant)) == []


def test_only_the_owner_may_start_or_confirm(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    _, admin_key = platform.user(tenant, "admin")
    assert (
        platform.client.post("/tenant/encryption/pmk", headers=auth(admin_key)).status_code == 403
    )
    token = start(platform, tenant)
    refused = platform.client.post(
        "/tenant/encryption/confirm-pmk", params={"token": token}, headers=auth(admin_key)
    )
    assert refused.status_code == 403
    assert "encryption:write" in refused.json()["detail"]
    assert confirm(platform, tenant, token)[0] == 200


def test_re_enabling_cmk_voids_a_pending_switch(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    token = start(platform, tenant)
    assert enable(platform, tenant, key="tutela-kek").status_code == 200

    assert confirm(platform, tenant, token)[0] == 400
    with platform.db() as session:
        assert session.scalars(select(PendingDowngrade)).all() == []
