"""POST /tenant/encryption/rotate: re-reads the version; a new one is recorded, stamped and
mailed; a vault that fails is a 503 naming the cause, recorded as cmk_last_error / cmk_blocked."""

from __future__ import annotations

from sqlalchemy import select

from tests.platform import Platform, auth
from tests.server.encryption.fake_vault import VAULT_URL, FakeVault
from tests.server.encryption.helpers import (
    cmk_tenant,
    mails_to,
    owner_email,
    status,
    with_principal,
)
from tutela.server.audit.models import AuditEvent
from tutela.server.auth.scopes import Scope


def rotate(platform: Platform, headers: dict[str, str]) -> dict[str, object]:
    response = platform.client.post("/tenant/encryption/rotate", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_an_unchanged_version_is_re_verified(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    version = vault.secrets["tutela-key"][-1].version
    before = status(platform, tenant)["cmk_verified_at"]

    body = rotate(platform, tenant.headers)

    assert body["rotated"] is False
    assert body["old_version"] == body["new_version"] == version
    assert body["cmk_verified_at"] >= before  # type: ignore[operator]
    assert len(status(platform, tenant, extended=True)["encryption_mode_history"]) == 1
    assert len(mails_to(platform, owner_email(platform, tenant))) == 1  # the enable email only


def test_a_new_version_is_recorded_stamped_audited_and_mailed(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)
    old = vault.secrets["tutela-key"][-1].version
    new = vault.rotate_secret("tutela-key")

    body = rotate(platform, tenant.headers)

    assert body == {
        "ok": True,
        "rotated": True,
        "old_version": old,
        "new_version": new,
        "cmk_verified_at": body["cmk_verified_at"],
        "message": "Key rotation confirmed — version fingerprint updated.",
    }
    seen = status(platform, tenant, extended=True)
    assert seen["cmk_key_version"] == new
    latest = seen["encryption_mode_history"][0]
    assert (latest["reason"], latest["mode"], latest["previous_mode"]) == (
        "cmk_rotate",
        "cmk",
        "cmk",
    )
    assert (latest["vault_uri"], latest["key_name"], latest["key_version"]) == (
        VAULT_URL,
        "tutela-key",
        new,
    )
    subject, text = mails_to(platform, owner_email(platform, tenant))[-1]
    assert "rotation detected" in subject
    assert old in text
    assert new in text
    with platform.db() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.tenant_id == tenant.id)
        ).all()
    assert "encryption.key_rotated" in actions


def test_history_keeps_the_last_ten_newest_first(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform, key="tutela-kek")
    versions = []
    for _ in range(11):  # eleven rotations, each seen by a rotate call
        versions.append(vault.rotate_key("tutela-kek"))
        assert rotate(platform, tenant.headers)["new_version"] == versions[-1]

    history = status(platform, tenant, extended=True)["encryption_mode_history"]
    assert len(history) == 10
    assert [h["key_version"] for h in history] == versions[::-1][:10]
    assert {h["reason"] for h in history} == {"cmk_rotate"}  # the configure entry fell off


def test_rotating_without_cmk_is_a_400(platform: Platform, vault: FakeVault) -> None:
    tenant = with_principal(platform)
    response = platform.client.post("/tenant/encryption/rotate", headers=tenant.headers)

    assert response.status_code == 400
    assert "not configured" in response.json()["detail"]
    assert vault.requests == []


def test_an_unreachable_vault_is_a_503_recorded_and_cleared_on_recovery(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)
    vault.unreachable = True

    response = platform.client.post("/tenant/encryption/rotate", headers=tenant.headers)

    assert response.status_code == 503
    assert response.json()["detail"].startswith("Key Vault check failed (unreachable): ")
    assert "kv-contoso.vault.azure.net" in response.json()["detail"]
    seen = status(platform, tenant)
    assert seen["cmk_blocked"] is True
    assert seen["cmk_last_error"].startswith("unreachable: cannot reach https://kv-contoso")

    vault.restore()
    assert rotate(platform, tenant.headers)["rotated"] is False
    seen = status(platform, tenant)
    assert (seen["cmk_blocked"], seen["cmk_last_error"]) == (False, None)


def test_each_blocking_failure_blocks(platform: Platform, vault: FakeVault) -> None:
    breakers = {
        "access_denied": lambda: vault.deny(),
        "not_found": lambda: vault.delete_secret("tutela-key"),
        "unusable": lambda: vault.disable_secret("tutela-key"),
    }
    for kind, break_it in breakers.items():
        vault.restore()
        vault.add_secret("tutela-key")
        tenant = cmk_tenant(platform)
        break_it()
        response = platform.client.post("/tenant/encryption/rotate", headers=tenant.headers)
        assert response.status_code == 503, kind
        assert f"({kind.replace('_', ' ')})" in response.json()["detail"]
        seen = status(platform, tenant)
        assert seen["cmk_blocked"] is True, kind
        assert seen["cmk_last_error"].startswith(f"{kind}: "), kind


def test_a_refused_sign_in_is_recorded_without_blocking(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)
    vault.refuse_sign_in = True

    response = platform.client.post("/tenant/encryption/rotate", headers=tenant.headers)

    assert response.status_code == 503
    seen = status(platform, tenant)
    assert seen["cmk_blocked"] is False
    assert seen["cmk_last_error"].startswith("sign_in: ")
    assert "AADSTS7000215" in seen["cmk_last_error"]


def test_rotating_needs_encryption_write(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    _, admin_key = platform.user(tenant, "admin")
    response = platform.client.post("/tenant/encryption/rotate", headers=auth(admin_key))

    assert response.status_code == 403
    assert "encryption:write" in response.json()["detail"]
    reader = platform.key(tenant, [Scope.ENCRYPTION_READ])
    assert (
        platform.client.post("/tenant/encryption/rotate", headers=auth(reader)).status_code == 403
    )
