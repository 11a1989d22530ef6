"""GET /tenant/encryption and /tenant/encryption/status: the seed's fields, plan and scope."""

from __future__ import annotations

from tests.platform import Platform, auth
from tests.server.encryption.fake_vault import FakeVault
from tests.server.encryption.helpers import cmk_tenant, status
from tutela.server.auth.scopes import Scope

SEED_FIELDS = {
    "plan",
    "cmk_supported",
    "cmk_configured",
    "key_vault_url",
    "key_vault_secret_name",
    "cmk_key_version",
    "cmk_verified_at",
    "cmk_blocked",
    "cmk_last_error",
    "cmk_downgrade_pending",
    "upgrade_required",
}


def test_below_professional_cmk_is_not_supported(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    seen = status(platform, tenant)

    assert set(seen) == SEED_FIELDS | {"key_vault_key_name"}
    assert seen["plan"] == "starter"
    assert (seen["cmk_supported"], seen["upgrade_required"]) == (False, True)
    assert (seen["cmk_configured"], seen["key_vault_url"], seen["cmk_key_version"]) == (
        False,
        None,
        None,
    )


def test_professional_without_cmk(platform: Platform) -> None:
    seen = status(platform, platform.tenant("professional"), extended=True)

    assert (seen["cmk_supported"], seen["upgrade_required"]) == (True, False)
    assert seen["encryption_mode"] == "pmk"
    assert seen["encryption_mode_history"] == []
    assert set(seen) >= SEED_FIELDS - {"plan"} | {"encryption_mode", "encryption_mode_history"}


def test_extended_status_under_cmk(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform, key="tutela-kek")
    seen = status(platform, tenant, extended=True)

    assert seen["encryption_mode"] == "cmk"
    assert seen["key_vault_key_name"] == "tutela-kek"
    assert seen["key_vault_secret_name"] is None
    assert seen["cmk_key_version"] == vault.keys["tutela-kek"][-1].version
    [entry] = seen["encryption_mode_history"]
    assert set(entry) == {
        "mode",
        "changed_at",
        "changed_by",
        "previous_mode",
        "reason",
        "vault_uri",
        "key_name",
        "key_version",
    }


def test_reading_needs_encryption_read(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    _, member_key = platform.user(tenant, "member")
    without = platform.key(tenant, [Scope.TENANT_READ])
    for path in ("/tenant/encryption", "/tenant/encryption/status"):
        assert platform.client.get(path, headers=auth(member_key)).status_code == 200
        refused = platform.client.get(path, headers=auth(without))
        assert refused.status_code == 403
        assert "encryption:read" in refused.json()["detail"]
