"""The declared fixes of the Storage and Key Vault checks make their failing resources pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scanner.fixes.harness import assert_fix_passes, fixed_property
from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Resource

SUB_ID = "00000000-0000-0000-0000-000000000001"
GROUP = f"/subscriptions/{SUB_ID}/resourceGroups/rg"
ACCOUNT = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/st1"
BLOB_SERVICE = f"{ACCOUNT}/blobServices/default"
VAULT = f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv1"
WORKSPACE = f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/law1"
SUBNET = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/endpoints"


def storage(**properties: Any) -> Resource:
    return Resource(
        id=ACCOUNT,
        type="microsoft.storage/storageaccounts",
        name="st1",
        subscription_id=SUB_ID,
        resource_group="rg",
        location="westeurope",
        properties=dict(properties),
    )


def vault(**properties: Any) -> Resource:
    return Resource(
        id=VAULT,
        type="microsoft.keyvault/vaults",
        name="kv1",
        subscription_id=SUB_ID,
        resource_group="rg",
        location="westeurope",
        properties=dict(properties),
        diagnostic_settings=[],
    )


@pytest.mark.parametrize(
    ("check_id", "failing", "path", "fixed_value"),
    [
        ("STG-PUBLIC-BLOB", {"allowBlobPublicAccess": True}, ("allowBlobPublicAccess",), False),
        ("STG-SHARED-KEY", {}, ("allowSharedKeyAccess",), False),
        ("STG-MIN-TLS", {"minimumTlsVersion": "TLS1_1"}, ("minimumTlsVersion",), "TLS1_2"),
        (
            "STG-HTTPS-ONLY",
            {"supportsHttpsTrafficOnly": False},
            ("supportsHttpsTrafficOnly",),
            True,
        ),
        (
            "STG-CROSS-TENANT-REPL",
            {"allowCrossTenantReplication": True},
            ("allowCrossTenantReplication",),
            False,
        ),
    ],
)
def test_storage_property_fixes(
    check_id: str, failing: dict[str, Any], path: tuple[str, ...], fixed_value: object
) -> None:
    fixed = assert_fix_passes(check_id, [storage(**failing)], ACCOUNT)
    assert fixed_property(fixed, ACCOUNT, path) == fixed_value


def test_storage_network_fix_denies_by_default_and_keeps_existing_rules() -> None:
    rules = [{"value": "203.0.113.0/24", "action": "Allow"}]
    account = storage(
        publicNetworkAccess="Enabled",
        networkAcls={"defaultAction": "Allow", "bypass": "AzureServices", "ipRules": rules},
    )
    fixed = assert_fix_passes("STG-PUBLIC-NETWORK", [account], ACCOUNT).get(ACCOUNT)
    assert fixed is not None
    assert fixed.properties["networkAcls"] == {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": rules,
    }


def test_storage_cmk_fix_points_encryption_at_the_given_key() -> None:
    params = {"key_vault_uri": "https://kv1.vault.azure.net", "key_name": "storage-cmk"}
    account = storage(encryption={"keySource": "Microsoft.Storage", "services": {}})
    fixed = assert_fix_passes("STG-CMK", [account], ACCOUNT, params).get(ACCOUNT)
    assert fixed is not None
    encryption = fixed.properties["encryption"]
    assert encryption["keySource"] == "Microsoft.Keyvault"
    assert encryption["keyvaultproperties"] == {
        "keyvaulturi": "https://kv1.vault.azure.net",
        "keyname": "storage-cmk",
    }
    assert encryption["services"] == {}


def test_blob_diagnostic_fix_sends_read_write_delete_to_the_workspace() -> None:
    service = Resource(
        id=BLOB_SERVICE,
        type="microsoft.storage/storageaccounts/blobservices",
        name="default",
        subscription_id=SUB_ID,
        resource_group="rg",
        diagnostic_settings=[],
    )
    params = {"log_analytics_workspace_id": WORKSPACE}
    fixed = assert_fix_passes("STG-BLOB-DIAG-LOGS", [service], BLOB_SERVICE, params)
    service_fixed = fixed.get(BLOB_SERVICE)
    assert service_fixed is not None
    assert service_fixed.diagnostic_settings is not None
    (setting,) = service_fixed.diagnostic_settings
    assert setting["properties"]["workspaceId"] == WORKSPACE
    categories = {log["category"] for log in setting["properties"]["logs"] if log["enabled"]}
    assert categories == {"StorageRead", "StorageWrite", "StorageDelete"}


@pytest.mark.parametrize(
    ("check_id", "failing", "expected"),
    [
        (
            "KV-PURGE-PROTECTION",
            {"enableSoftDelete": False},
            {"enableSoftDelete": True, "enablePurgeProtection": True},
        ),
        ("KV-SOFT-DELETE", {"enableSoftDelete": False}, {"enableSoftDelete": True}),
        ("KV-RBAC-MODEL", {"accessPolicies": []}, {"enableRbacAuthorization": True}),
    ],
)
def test_vault_property_fixes(
    check_id: str, failing: dict[str, Any], expected: dict[str, object]
) -> None:
    fixed = assert_fix_passes(check_id, [vault(**failing)], VAULT).get(VAULT)
    assert fixed is not None
    assert {key: fixed.properties[key] for key in expected} == expected


@pytest.mark.parametrize(
    "network_acls",
    [
        {"defaultAction": "Allow"},
        # Deny with an all-addresses rule is still open: the fix must close it too.
        {"defaultAction": "Deny", "ipRules": [{"value": "0.0.0.0/0"}]},
    ],
)
def test_vault_network_fix_disables_public_access(network_acls: dict[str, Any]) -> None:
    failing = vault(publicNetworkAccess="Enabled", networkAcls=network_acls)
    fixed = assert_fix_passes("KV-PUBLIC-NETWORK", [failing], VAULT).get(VAULT)
    assert fixed is not None
    assert fixed.properties["publicNetworkAccess"] == "Disabled"


def test_vault_private_link_fix_adds_an_approved_vault_endpoint() -> None:
    params = {"private_endpoint_subnet_id": SUBNET}
    fixed = assert_fix_passes("KV-PRIVATE-LINK", [vault()], VAULT, params).get(VAULT)
    assert fixed is not None
    (connection,) = fixed.properties["privateEndpointConnections"]
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    endpoint_id = connection["properties"]["privateEndpoint"]["id"]
    assert (
        endpoint_id.lower()
        == f"{GROUP}/providers/Microsoft.Network/privateEndpoints/pe-kv1-vault".lower()
    )


def test_vault_private_link_fix_targets_the_vault_sub_resource() -> None:
    fix = load_catalog().check("KV-PRIVATE-LINK").fix
    assert fix is not None
    (endpoint,) = fix.add
    (link,) = endpoint.properties["privateLinkServiceConnections"]
    assert link["properties"]["groupIds"] == ["vault"]
    assert endpoint.properties["subnet"] == {"id": {"param": "private_endpoint_subnet_id"}}


def test_vault_diagnostic_fix_sends_audit_events_to_the_workspace() -> None:
    params = {"log_analytics_workspace_id": WORKSPACE}
    fixed = assert_fix_passes("KV-DIAG-LOGS", [vault()], VAULT, params).get(VAULT)
    assert fixed is not None
    assert fixed.diagnostic_settings is not None
    (setting,) = fixed.diagnostic_settings
    assert setting["properties"] == {
        "workspaceId": WORKSPACE,
        "logs": [{"category": "AuditEvent", "enabled": True}],
    }
