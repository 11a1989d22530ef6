"""Databricks workspaces and Cosmos DB accounts from every source: a live read asks Resource Graph
for them, a Resource Graph export, an ARM template and a Terraform plan give the checks the ARM
properties they read, and a Foundry connection puts its Cosmos DB account in the AI workload."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tutela.scanner.ai_scope import ai_scope
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import UNKNOWN, Estate, Resource
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import parse_document
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.azure import resources_query, scanned_types

AS_OF = dt.date(2026, 12, 7)
CATALOG = load_catalog()
CHECKS = [c for c in CATALOG.checks if c.id.startswith(("DBW-", "COSMOS-"))]
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
DATABRICKS = "microsoft.databricks/workspaces"
COSMOS = "microsoft.documentdb/databaseaccounts"
# Cosmos DB's firewall rule for "accept connections from within Azure datacenters".
AZURE_DATACENTERS = "0.0.0.0"  # noqa: S104 -- an IP rule, not an address to bind


def _statuses(resources: list[Resource]) -> dict[tuple[str, str], str]:
    """(check id, resource name) → status, for the Databricks and Cosmos DB checks."""
    results = evaluate_estate(Estate(resources), CHECKS, as_of=AS_OF)
    return {(r.check.id, r.resource.name): r.status for r in results}


# --- live read and Resource Graph export --------------------------------------------------------


def test_a_live_read_asks_resource_graph_for_both_types() -> None:
    types = scanned_types()
    assert DATABRICKS in types
    assert COSMOS in types
    assert f"'{COSMOS}'" in resources_query(types)


def _record(arm_type: str, name: str, properties: dict[str, Any], **fields: Any) -> dict[str, Any]:
    group = "/subscriptions/00000000-0000-0000-0000-0000000000e1/resourceGroups/rg-data"
    return {
        "id": f"{group}/providers/{arm_type}/{name}",
        "name": name,
        "type": arm_type.lower(),
        "location": "westeurope",
        "resourceGroup": "rg-data",
        "subscriptionId": "00000000-0000-0000-0000-0000000000e1",
        "properties": properties,
        **fields,
    }


def test_an_export_is_judged_and_leaves_an_unstated_no_public_ip_unknown() -> None:
    records = [
        _record(
            "Microsoft.Databricks/workspaces",
            "dbw-stated",
            {"publicNetworkAccess": "Enabled", "parameters": {"enableNoPublicIp": {"value": True}}},
            sku={"name": "premium"},
        ),
        # An export holds no API version: the default that changed with 2024-05-01 cannot apply.
        _record("Microsoft.Databricks/workspaces", "dbw-unstated", {}, sku={"name": "standard"}),
        _record(
            "Microsoft.DocumentDB/databaseAccounts",
            "cosmos-x",
            {"disableLocalAuth": True, "ipRules": [{"ipAddressOrRange": AZURE_DATACENTERS}]},
            kind="GlobalDocumentDB",
        ),
    ]
    status = _statuses(resources_from_arg({"data": records}, "export.json"))
    assert status[("DBW-PUBLIC-NETWORK", "dbw-stated")] == "fail"
    assert status[("DBW-NO-PUBLIC-IP", "dbw-stated")] == "pass"
    assert status[("DBW-NO-PUBLIC-IP", "dbw-unstated")] == "unknown"
    assert status[("DBW-SKU-PREMIUM", "dbw-unstated")] == "fail"
    assert ("DBW-CMK", "dbw-unstated") not in status  # the standard tier has no CMK
    assert status[("COSMOS-LOCAL-AUTH", "cosmos-x")] == "pass"
    assert status[("COSMOS-AZURE-DATACENTERS", "cosmos-x")] == "fail"
    assert status[("COSMOS-FIREWALL", "cosmos-x")] == "pass"


# --- ARM templates ------------------------------------------------------------------------------


def _template() -> dict[str, Any]:
    cosmos_id = "[resourceId('Microsoft.DocumentDB/databaseAccounts', 'cosmos-threads')]"
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"access": {"type": "string"}},
        "resources": [
            {
                "type": "Microsoft.Databricks/workspaces",
                "apiVersion": "2024-05-01",
                "name": "dbw-new",
                "location": "westeurope",
                "sku": {"name": "premium"},
                "properties": {
                    "managedResourceGroupId": "[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'mrg-new')]",  # noqa: E501
                    "publicNetworkAccess": "[parameters('access')]",
                },
            },
            {
                "type": "Microsoft.Databricks/workspaces",
                "apiVersion": "2023-02-01",
                "name": "dbw-old",
                "location": "westeurope",
                "sku": {"name": "standard"},
                "properties": {"publicNetworkAccess": "Disabled"},
            },
            {
                "type": "Microsoft.DocumentDB/databaseAccounts",
                "apiVersion": "2024-11-15",
                "name": "cosmos-threads",
                "location": "westeurope",
                "kind": "GlobalDocumentDB",
                "properties": {
                    "databaseAccountOfferType": "Standard",
                    "DisableLocalAuth": True,
                    "publicNetworkAccess": "Disabled",
                    "disableKeyBasedMetadataWriteAccess": False,
                    "locations": [{"locationName": "westeurope", "failoverPriority": 0}],
                },
            },
            {
                "type": "Microsoft.DocumentDB/databaseAccounts",
                "apiVersion": "2015-04-08",
                "name": "cosmos-legacy",
                "location": "westeurope",
                "kind": "GlobalDocumentDB",
                "properties": {
                    "databaseAccountOfferType": "Standard",
                    "ipRangeFilter": "203.0.113.7,198.51.100.0/24",
                },
            },
            {
                "type": "Microsoft.CognitiveServices/accounts",
                "apiVersion": "2025-06-01",
                "name": "aif-agents",
                "location": "westeurope",
                "kind": "AIServices",
                "sku": {"name": "S0"},
                "properties": {"allowProjectManagement": True},
                "resources": [
                    {
                        "type": "projects",
                        "apiVersion": "2025-06-01",
                        "name": "proj-agents",
                        "location": "westeurope",
                        "dependsOn": ["aif-agents"],
                        "properties": {},
                        "resources": [
                            {
                                "type": "connections",
                                "apiVersion": "2025-06-01",
                                "name": "threads",
                                "dependsOn": ["proj-agents"],
                                "properties": {
                                    "category": "CosmosDB",
                                    "authType": "AAD",
                                    "target": "https://cosmos-threads.documents.azure.com:443/",
                                    "metadata": {"ApiType": "Azure", "ResourceId": cosmos_id},
                                },
                            }
                        ],
                    }
                ],
            },
        ],
    }


def test_a_template_gives_the_checks_their_properties_and_api_version_defaults() -> None:
    status = _statuses(parse_document(_template(), "template.json"))
    assert status[("DBW-PUBLIC-NETWORK", "dbw-new")] == "unknown"  # a parameter without a value
    assert status[("DBW-NO-PUBLIC-IP", "dbw-new")] == "pass"  # unset: true from 2024-05-01
    assert status[("DBW-NO-PUBLIC-IP", "dbw-old")] == "fail"  # unset: public IPs before it
    assert status[("DBW-PUBLIC-NETWORK", "dbw-old")] == "pass"
    assert status[("DBW-CMK", "dbw-new")] == "fail"
    assert status[("COSMOS-LOCAL-AUTH", "cosmos-threads")] == "pass"  # any spelling, as ARM
    assert status[("COSMOS-PUBLIC-NETWORK", "cosmos-threads")] == "pass"
    assert status[("COSMOS-KEY-METADATA-WRITE", "cosmos-threads")] == "fail"
    assert status[("COSMOS-FIREWALL", "cosmos-legacy")] == "pass"  # the older ipRangeFilter
    assert status[("COSMOS-LOCAL-AUTH", "cosmos-legacy")] == "fail"


def test_a_template_s_foundry_connection_puts_its_cosmos_account_in_scope() -> None:
    estate = Estate(parse_document(_template(), "template.json"))
    by_name = {r.name: r for r in estate}
    reason = ai_scope(estate).reason(by_name["cosmos-threads"])
    assert reason is not None
    assert reason.startswith("Cosmos DB account of connection 'threads' of ")
    assert ai_scope(estate).reason(by_name["cosmos-legacy"]) is None
    assert ai_scope(estate).reason(by_name["dbw-new"]) is None


# --- Terraform plans ----------------------------------------------------------------------------


def _change(address: str, after: dict[str, Any], unknown: dict[str, Any]) -> dict[str, Any]:
    tf_type = address.split(".")[0]
    change = {"actions": ["create"], "after": after, "after_unknown": unknown}
    return {"address": address, "mode": "managed", "type": tf_type, "change": change}


KEY_ID = "https://kv-data.vault.azure.net/keys/dbw-disk/0123456789abcdef0123456789abcdef"


def _plan() -> dict[str, Any]:
    placed = {"resource_group_name": "rg-data", "location": "westeurope"}
    vnet = "/subscriptions/x/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/v"
    changes = [
        _change(
            "azurerm_databricks_workspace.sealed",
            {
                "name": "dbw-sealed",
                "sku": "premium",
                "public_network_access_enabled": False,
                "network_security_group_rules_required": "NoAzureDatabricksRules",
                "custom_parameters": [
                    {
                        "no_public_ip": True,
                        "virtual_network_id": vnet,
                        "public_subnet_name": "snet-host",
                        "private_subnet_name": "snet-container",
                    }
                ],
                "managed_disk_cmk_key_vault_key_id": KEY_ID,
                "managed_disk_cmk_rotation_to_latest_version_enabled": True,
                **placed,
            },
            # the managed services key is created in the same plan
            {"id": True, "managed_services_cmk_key_vault_key_id": True},
        ),
        _change(
            "azurerm_databricks_workspace.v3",
            {
                "name": "dbw-v3",
                "sku": "standard",
                "public_network_access_enabled": True,
                "custom_parameters": [{"no_public_ip": False}],
                **placed,
            },
            {"id": True},
        ),
        _change(
            "azurerm_cosmosdb_account.memory",
            {
                "name": "cosmos-memory",
                "kind": "GlobalDocumentDB",
                "offer_type": "Standard",
                "public_network_access_enabled": True,
                "local_authentication_disabled": False,
                "access_key_metadata_writes_enabled": True,
                "ip_range_filter": [AZURE_DATACENTERS, "203.0.113.7"],
                "is_virtual_network_filter_enabled": False,
                "capabilities": [{"name": "EnableNoSQLVectorSearch"}],
                **placed,
            },
            {"id": True},
        ),
        _change(
            "azurerm_cosmosdb_account.v3",
            {
                "name": "cosmos-v3",
                "kind": "GlobalDocumentDB",
                "offer_type": "Standard",
                "public_network_access_enabled": False,
                "local_authentication_disabled": True,
                "access_key_metadata_writes_enabled": False,
                "ip_range_filter": "198.51.100.0/24,203.0.113.7",
                "virtual_network_rule": [
                    {"id": f"{vnet}/subnets/app", "ignore_missing_vnet_service_endpoint": False}
                ],
                "is_virtual_network_filter_enabled": True,
                **placed,
            },
            {"id": True, "key_vault_key_id": True},
        ),
    ]
    return {"format_version": "1.2", "resource_changes": changes}


def test_the_terraform_reader_maps_databricks_workspaces() -> None:
    resources = {r.name: r for r in parse_document(_plan(), "plan.json")}
    sealed = resources["dbw-sealed"]
    assert sealed.type == DATABRICKS
    assert sealed.sku == {"name": "premium"}
    entities = sealed.properties["encryption"]["entities"]
    assert entities["managedServices"] == {
        "keySource": "Microsoft.Keyvault",
        "keyVaultProperties": UNKNOWN,
    }
    assert entities["managedDisk"] == {
        "keySource": "Microsoft.Keyvault",
        "keyVaultProperties": {
            "keyVaultUri": "https://kv-data.vault.azure.net/",
            "keyName": "dbw-disk",
            "keyVersion": "0123456789abcdef0123456789abcdef",
        },
        "rotationToLatestKeyVersionEnabled": True,
    }
    assert sealed.properties["parameters"]["enableNoPublicIp"] == {"value": True}
    assert sealed.properties["publicNetworkAccess"] == "Disabled"
    assert sealed.properties["requiredNsgRules"] == "NoAzureDatabricksRules"


def test_the_terraform_reader_maps_cosmos_accounts() -> None:
    resources = {r.name: r for r in parse_document(_plan(), "plan.json")}
    memory, v3 = resources["cosmos-memory"], resources["cosmos-v3"]
    assert memory.type == COSMOS
    assert memory.properties["ipRules"] == [
        {"ipAddressOrRange": AZURE_DATACENTERS},
        {"ipAddressOrRange": "203.0.113.7"},
    ]
    assert memory.properties["disableKeyBasedMetadataWriteAccess"] is False
    assert memory.properties["capabilities"] == [{"name": "EnableNoSQLVectorSearch"}]
    assert v3.properties["ipRules"] == [
        {"ipAddressOrRange": "198.51.100.0/24"},
        {"ipAddressOrRange": "203.0.113.7"},
    ]
    assert v3.properties["virtualNetworkRules"][0]["ignoreMissingVNetServiceEndpoint"] is False
    assert v3.properties["keyVaultKeyUri"] is UNKNOWN


def test_a_plan_is_judged_by_every_check() -> None:
    status = _statuses(parse_document(_plan(), "plan.json"))
    for check in ("DBW-PUBLIC-NETWORK", "DBW-NO-PUBLIC-IP", "DBW-VNET-INJECTION", "DBW-CMK"):
        assert status[(check, "dbw-sealed")] == "pass", check
    assert status[("DBW-SKU-PREMIUM", "dbw-sealed")] == "pass"
    for check in ("DBW-PUBLIC-NETWORK", "DBW-NO-PUBLIC-IP", "DBW-VNET-INJECTION"):
        assert status[(check, "dbw-v3")] == "fail", check
    assert status[("DBW-SKU-PREMIUM", "dbw-v3")] == "fail"
    expected_memory = {
        "COSMOS-LOCAL-AUTH": "fail",
        "COSMOS-PUBLIC-NETWORK": "fail",
        "COSMOS-FIREWALL": "pass",
        "COSMOS-AZURE-DATACENTERS": "fail",
        "COSMOS-CMK": "fail",
        "COSMOS-KEY-METADATA-WRITE": "fail",
    }
    for check, expected in expected_memory.items():
        assert status[(check, "cosmos-memory")] == expected, check
    expected_v3 = {
        "COSMOS-LOCAL-AUTH": "pass",
        "COSMOS-PUBLIC-NETWORK": "pass",
        "COSMOS-FIREWALL": "pass",
        "COSMOS-AZURE-DATACENTERS": "pass",
        "COSMOS-CMK": "unknown",  # a key created in the same plan
        "COSMOS-KEY-METADATA-WRITE": "pass",
    }
    for check, expected in expected_v3.items():
        assert status[(check, "cosmos-v3")] == expected, check


def test_a_plan_s_vector_store_is_in_scope_and_its_plain_account_is_not() -> None:
    estate = Estate(parse_document(_plan(), "plan.json"))
    by_name = {r.name: r for r in estate}
    scope = ai_scope(estate)
    assert scope.reason(by_name["cosmos-memory"]) == (
        "its capabilities include vector search (EnableNoSQLVectorSearch)"
    )
    assert scope.reason(by_name["cosmos-v3"]) is None
    assert scope.reason(by_name["dbw-sealed"]) is None


def test_a_plan_s_account_keys_and_connection_strings_are_never_read() -> None:
    secret = "c2VjcmV0LWNvc21vcy1rZXktbmV2ZXItcmVhZA=="
    change = _change(
        "azurerm_cosmosdb_account.keys",
        {
            "name": "cosmos-keys",
            "resource_group_name": "rg-data",
            "location": "westeurope",
            "primary_key": secret,
            "secondary_readonly_key": secret,
            "primary_sql_connection_string": f"AccountEndpoint=https://x/;AccountKey={secret};",
        },
        {"id": True},
    )
    resources = parse_document({"format_version": "1.2", "resource_changes": [change]}, "p")
    assert secret not in repr([r.properties for r in resources])
    report = run_scan(Estate(resources), ["dora"], scan_ts=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))[
        1
    ]
    text = json.dumps(report.to_dict(), default=str)
    assert "cosmos-keys" in text  # the account was judged
    assert secret not in text
