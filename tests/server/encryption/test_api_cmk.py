"""POST /tenant/encryption/cmk: the vault is tested before anything is saved; each failure's
detail names its cause; success records the version, the history, the audit log and mails."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.platform import Platform, auth
from tests.server.encryption.fake_vault import VAULT_URL, FakeVault, new_secret_value
from tests.server.encryption.helpers import (
    enable,
    mails_to,
    owner_email,
    status,
    with_principal,
)
from tutela.server.audit.models import AuditEvent
from tutela.server.auth.scopes import Scope
from tutela.server.encryption.models import EncryptionEvent

SUFFIX = ". Fix the issue before enabling CMK."


def test_a_secret_is_tested_then_recorded(platform: Platform, vault: FakeVault) -> None:
    tenant = with_principal(platform)
    response = enable(platform, tenant)

    assert response.status_code == 200, response.text
    version = vault.secrets["tutela-key"][-1].version
    body = response.json()
    assert body["ok"] is True
    assert body["message"] == (
        "CMK enabled — future reports will be encrypted using your Key Vault secret."
    )
    assert body["key_version"] == version
    assert body["cmk_verified_at"].endswith("Z")
    assert vault.sent("/secrets/tutela-key"), "the vault was asked before saving"
    seen = status(platform, tenant)
    assert seen == {
        "plan": "professional",
        "cmk_supported": True,
        "cmk_configured": True,
        "key_vault_url": VAULT_URL,
        "key_vault_secret_name": "tutela-key",
        "key_vault_key_name": None,
        "cmk_key_version": version,
        "cmk_verified_at": body["cmk_verified_at"],
        "cmk_blocked": False,
        "cmk_last_error": None,
        "cmk_downgrade_pending": False,
        "upgrade_required": False,
    }


def test_a_key_is_used_through_wrap_and_unwrap(platform: Platform, vault: FakeVault) -> None:
    tenant = with_principal(platform, "enterprise")
    response = enable(platform, tenant, key="tutela-kek")

    assert response.status_code == 200, response.text
    assert response.json()["message"].endswith("using your Key Vault key.")
    assert response.json()["key_version"] == vault.keys["tutela-kek"][-1].version
    assert vault.sent("/unwrapkey")  # wrapping may use the public key locally
    seen = status(platform, tenant)
    assert (seen["key_vault_key_name"], seen["key_vault_secret_name"]) == ("tutela-kek", None)


def test_success_stamps_history_audits_and_mails_the_owner(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = with_principal(platform)
    version = enable(platform, tenant).json()["key_version"]

    history = status(platform, tenant, extended=True)["encryption_mode_history"]
    assert len(history) == 1
    entry = history[0]
    assert entry["changed_by"].startswith(owner_email(platform, tenant))
    assert "(key tut_" in entry["changed_by"]  # as the audit log names callers
    assert {k: v for k, v in entry.items() if k not in ("changed_at", "changed_by")} == {
        "mode": "cmk",
        "previous_mode": "pmk",
        "reason": "cmk_configure",
        "vault_uri": VAULT_URL,
        "key_name": "tutela-key",
        "key_version": version,
    }
    with platform.db() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.tenant_id == tenant.id)
        ).all()
    assert "encryption.cmk_enabled" in actions

    [(subject, text)] = mails_to(platform, owner_email(platform, tenant))
    assert subject.startswith("Tutela: customer-managed key enabled")
    for mentioned in (VAULT_URL, "tutela-key", version):
        assert mentioned in text
    assert vault.secret_value("tutela-key") not in text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"key_vault_url": VAULT_URL}, None),
        (
            {
                "key_vault_url": VAULT_URL,
                "key_vault_secret_name": "a",
                "key_vault_key_name": "b",
            },
            None,
        ),
        (
            {"key_vault_url": VAULT_URL, "key_vault_secret_name": "bad/name"},
            "key_vault_secret_name",
        ),
        (
            {"key_vault_url": "http://kv-contoso.vault.azure.net/", "key_vault_key_name": "k"},
            "key_vault_url",
        ),
        ({"key_vault_url": "https://169.254.169.254/", "key_vault_key_name": "k"}, "key_vault_url"),
        (
            {"key_vault_url": "https://kv.vault.azure.net.evil.com/", "key_vault_key_name": "k"},
            "key_vault_url",
        ),
        (
            {
                "key_vault_url": "https://kv-contoso.vault.azure.net:8443/",
                "key_vault_key_name": "k",
            },
            "key_vault_url",
        ),
    ],
)
def test_invalid_bodies_are_422_and_reach_nothing(
    platform: Platform, vault: FakeVault, payload: dict[str, str], field: str | None
) -> None:
    tenant = with_principal(platform)
    response = platform.client.post("/tenant/encryption/cmk", headers=tenant.headers, json=payload)

    assert response.status_code == 422, response.text
    if field is not None:
        assert field in response.json()["detail"][0]["loc"]
    assert vault.requests == []
    assert status(platform, tenant)["cmk_configured"] is False


@pytest.mark.parametrize(
    ("break_it", "material", "expected"),
    [
        (lambda v: v.delete_secret("tutela-key"), {}, "Secret 'tutela-key' not found in"),
        (lambda v: v.deny(), {}, "may not get Secret 'tutela-key'"),
        (lambda v: setattr(v, "unreachable", True), {}, "cannot reach https://kv-contoso"),
        (lambda v: v.add_secret("short", new_secret_value(16)), {"secret": "short"}, "short"),
        (lambda v: v.disable_key("tutela-kek"), {"key": "tutela-kek"}, "is disabled in"),
        (lambda v: v.deny("unwrapKey"), {"key": "tutela-kek"}, "unwrapKey"),
        (lambda v: v.add_key("signer", key_ops=["sign"]), {"key": "signer"}, "signer"),
        (lambda v: setattr(v, "refuse_sign_in", True), {}, "AADSTS7000215"),
    ],
    ids=[
        "not_found",
        "access_denied",
        "unreachable",
        "secret_too_short",
        "key_disabled",
        "unwrap_denied",
        "key_without_wrap",
        "sign_in",
    ],
)
def test_each_failure_is_a_400_naming_the_cause_and_saves_nothing(
    platform: Platform,
    vault: FakeVault,
    break_it,
    material: dict[str, str],
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    tenant = with_principal(platform)
    break_it(vault)
    response = enable(platform, tenant, **material)

    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail.startswith("CMK connectivity test failed: ")
    assert detail.endswith(SUFFIX)
    assert expected in detail
    assert "Qx8~" not in detail
    seen = status(platform, tenant, extended=True)
    assert (seen["encryption_mode"], seen["cmk_configured"]) == ("pmk", False)
    assert seen["encryption_mode_history"] == []
    assert mails_to(platform, owner_email(platform, tenant)) == []


def test_no_service_principal_is_a_409(platform: Platform, vault: FakeVault) -> None:
    tenant = platform.tenant("professional")
    response = enable(platform, tenant)

    assert response.status_code == 409
    assert "PUT /tenant/credentials" in response.json()["detail"]
    assert vault.requests == []


def test_below_professional_is_a_403_naming_the_plan(platform: Platform, vault: FakeVault) -> None:
    tenant = with_principal(platform, "starter")
    response = enable(platform, tenant)

    assert response.status_code == 403
    assert "'professional'" in response.json()["detail"]
    assert "'starter'" in response.json()["detail"]
    assert vault.requests == []


def test_only_encryption_write_may_enable(platform: Platform, vault: FakeVault) -> None:
    tenant = with_principal(platform)
    _, admin_key = platform.user(tenant, "admin")  # admins hold every tenant scope but this one
    without = platform.key(tenant, [Scope.ENCRYPTION_READ, Scope.TENANT_WRITE])
    for key in (admin_key, without):
        response = platform.client.post(
            "/tenant/encryption/cmk",
            headers=auth(key),
            json={"key_vault_url": VAULT_URL, "key_vault_secret_name": "tutela-key"},
        )
        assert response.status_code == 403
        assert "encryption:write" in response.json()["detail"]
    assert vault.requests == []


def test_events_belong_to_their_tenant(platform: Platform, vault: FakeVault) -> None:
    a, b = with_principal(platform), with_principal(platform)
    assert enable(platform, a).status_code == 200

    assert status(platform, b, extended=True)["encryption_mode_history"] == []
    with platform.db() as session:
        tenants = session.scalars(select(EncryptionEvent.tenant_id)).all()
    assert tenants == [a.id]
