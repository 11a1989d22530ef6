"""Declared fixes of the Databricks and Cosmos DB checks make the failing resource pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scanner.fixes.harness import assert_fix_passes, fixed_property
from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Resource

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
GROUP = f"{SUB}/resourceGroups/rg-data"
WORKSPACE = f"{GROUP}/providers/Microsoft.Databricks/workspaces/dbw1"
COSMOS = f"{GROUP}/providers/Microsoft.DocumentDB/databaseAccounts/cosmos1"
SUBNET = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/endpoints"
KEY = {
    "key_vault_uri": "https://kv1.vault.azure.net/",
    "key_name": "dbw-cmk",
    "key_version": "0123456789abcdef0123456789abcdef",
}


def workspace(sku: str = "premium", name: str = "dbw1", **properties: Any) -> Resource:
    return Resource(
        id=WORKSPACE.rsplit("/", 1)[0] + f"/{name}",
        type="microsoft.databricks/workspaces",
        name=name,
        subscription_id=SUB.rsplit("/", 1)[-1],
        resource_group="rg-data",
        location="westeurope",
        sku={"name": sku},
        properties=dict(properties),
        diagnostic_settings=[],
    )


def cosmos(**properties: Any) -> Resource:
    return Resource(
        id=COSMOS,
        type="microsoft.documentdb/databaseaccounts",
        name="cosmos1",
        subscription_id=SUB.rsplit("/", 1)[-1],
        resource_group="rg-data",
        location="westeurope",
        kind="GlobalDocumentDB",
        properties=dict(properties),
        diagnostic_settings=[],
    )


@pytest.mark.parametrize(
    ("check_id", "failing", "params", "path", "expected"),
    [
        (
            "DBW-PUBLIC-NETWORK",
            workspace(publicNetworkAccess="Enabled"),
            None,
            ("publicNetworkAccess",),
            "Disabled",
        ),
        (
            "DBW-NO-PUBLIC-IP",
            workspace(parameters={"enableNoPublicIp": {"type": "Bool", "value": False}}),
            None,
            ("parameters", "enableNoPublicIp", "value"),
            True,
        ),
        (
            "DBW-CMK",
            workspace(),
            KEY,
            ("encryption", "entities", "managedDisk", "keyVaultProperties", "keyName"),
            "dbw-cmk",
        ),
        ("COSMOS-LOCAL-AUTH", cosmos(), None, ("disableLocalAuth",), True),
        (
            "COSMOS-FIREWALL",
            cosmos(publicNetworkAccess="Enabled", ipRules=[]),
            {"allowed_ip_range": "203.0.113.0/24"},
            ("ipRules",),
            [{"ipAddressOrRange": "203.0.113.0/24"}],
        ),
        (
            "COSMOS-CMK",
            cosmos(),
            {"key_uri": "https://kv1.vault.azure.net/keys/cosmos-cmk"},
            ("keyVaultKeyUri",),
            "https://kv1.vault.azure.net/keys/cosmos-cmk",
        ),
        (
            "COSMOS-KEY-METADATA-WRITE",
            cosmos(disableKeyBasedMetadataWriteAccess=False),
            None,
            ("disableKeyBasedMetadataWriteAccess",),
            True,
        ),
    ],
)
def test_a_property_fix_makes_the_failing_resource_pass(
    check_id: str,
    failing: Resource,
    params: dict[str, Any] | None,
    path: tuple[str, ...],
    expected: Any,
) -> None:
    fixed = assert_fix_passes(check_id, [failing], failing.id, params)
    assert fixed_property(fixed, failing.id, path) == expected


def test_the_premium_tier_fix_changes_the_sku() -> None:
    fixed = assert_fix_passes("DBW-SKU-PREMIUM", [workspace("standard")], WORKSPACE)
    resource = fixed.get(WORKSPACE)
    assert resource is not None
    assert resource.sku == {"name": "premium"}


def test_the_cosmos_public_network_fix_adds_an_approved_sql_endpoint() -> None:
    fixed = assert_fix_passes(
        "COSMOS-PUBLIC-NETWORK",
        [cosmos(publicNetworkAccess="Enabled")],
        COSMOS,
        {"private_endpoint_subnet_id": SUBNET},
    )
    account = fixed.get(COSMOS)
    assert account is not None
    assert account.properties["publicNetworkAccess"] == "Disabled"
    (connection,) = account.properties["privateEndpointConnections"]
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    fix = load_catalog().check("COSMOS-PUBLIC-NETWORK").fix
    assert fix is not None
    (endpoint,) = fix.add
    (link,) = endpoint.properties["privateLinkServiceConnections"]
    assert link["properties"]["groupIds"] == ["Sql"]
