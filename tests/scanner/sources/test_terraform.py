"""The Terraform source: `terraform show -json` of plans and states into the estate."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tutela.scanner.estate import SUBSCRIPTION_TYPE, UNKNOWN, Estate, Resource
from tutela.scanner.sources import SourceError, parse_document
from tutela.scanner.sources.terraform import (
    PLACEHOLDER_SUBSCRIPTION,
    resources_from_terraform,
    unsupported_types,
)
from tutela.scanner.sources.terraform_map import MAPPINGS, render_markdown

FIXTURES = Path(__file__).parent / "fixtures"
SUB = "6a1f3c2e-9b4d-4f8a-a2c7-3e5d8b0f1a94"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers"
OPENAI = f"{RG}/Microsoft.CognitiveServices/accounts/oai-contoso-prod"
FOUNDRY = f"{RG}/Microsoft.CognitiveServices/accounts/ais-contoso-prod"
STORAGE = f"{RG}/Microsoft.Storage/storageAccounts/stcontosoaiprod"
WORKSPACE = f"{RG}/Microsoft.MachineLearningServices/workspaces/mlw-contoso-prod"
LOGS = f"{RG}/Microsoft.OperationalInsights/workspaces/log-ai-prod"
ROLES = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions"


def _document(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _parse(name: str) -> dict[str, Resource]:
    resources = resources_from_terraform(_document(name), f"{name}.json")
    by_id = {resource.id.lower(): resource for resource in resources}
    assert len(by_id) == len(resources), "ids must be unique"
    return by_id


@pytest.fixture(scope="module")
def zone() -> dict[str, Resource]:
    return _parse("tf_plan_ai_landing_zone")


def _get(resources: dict[str, Resource], resource_id: str) -> Resource:
    return resources[resource_id.lower()]


# --- the AI landing zone plan -------------------------------------------------------------------


def test_plan_resources_get_arm_types_and_ids_built_from_names(zone: dict[str, Resource]) -> None:
    types = {resource.id: resource.type for resource in zone.values()}
    assert types[OPENAI] == "microsoft.cognitiveservices/accounts"
    assert (
        types[f"{OPENAI}/deployments/gpt-4o"] == "microsoft.cognitiveservices/accounts/deployments"
    )
    assert types[f"{OPENAI}/raiPolicies/relaxed-violence"].endswith("accounts/raipolicies")
    assert types[f"{WORKSPACE}/computes/ci-dev-anna"].endswith("workspaces/computes")
    assert types[f"{WORKSPACE}/onlineEndpoints/ep-scoring"].endswith("workspaces/onlineendpoints")
    assert types[f"{RG}/Microsoft.KeyVault/vaults/kv-contoso-ai-prod/keys/cmk-ai"] == (
        "microsoft.keyvault/vaults/keys"
    )
    assert (
        types[f"{STORAGE}/blobServices/default"] == "microsoft.storage/storageaccounts/blobservices"
    )
    assert types[f"/subscriptions/{SUB}"] == SUBSCRIPTION_TYPE
    account = _get(zone, OPENAI)
    assert (account.name, account.subscription_id, account.resource_group) == (
        "oai-contoso-prod",
        SUB,
        "rg-ai-prod",
    )
    assert account.origin == "tf_plan_ai_landing_zone.json: azurerm_cognitive_account.openai"
    assert (account.kind, account.sku, account.location) == ("OpenAI", {"name": "S0"}, "westeurope")
    assert account.tags["model-owner"] == "ml-platform@contoso.com"


def test_attributes_become_arm_properties_with_their_conversions(
    zone: dict[str, Resource],
) -> None:
    openai, foundry = _get(zone, OPENAI).properties, _get(zone, FOUNDRY)
    assert openai["disableLocalAuth"] is False  # local_auth_enabled = true
    assert openai["publicNetworkAccess"] == "Enabled"
    assert foundry.kind == "AIServices"
    assert foundry.properties["disableLocalAuth"] is True
    assert foundry.properties["publicNetworkAccess"] == "Disabled"
    assert foundry.properties["networkAcls"] == {
        "bypass": "AzureServices",
        "defaultAction": "Deny",
        "ipRules": [{"value": "203.0.113.10"}],
    }
    assert foundry.properties["restrictOutboundNetworkAccess"] is True
    storage = _get(zone, STORAGE)
    assert storage.sku == {"name": "Standard_ZRS", "tier": "Standard"}
    assert storage.properties["allowBlobPublicAccess"] is True
    assert storage.properties["minimumTlsVersion"] == "TLS1_0"
    assert storage.properties["supportsHttpsTrafficOnly"] is True  # https_traffic_only_enabled
    registry = _get(zone, f"{RG}/Microsoft.ContainerRegistry/registries/acrcontosoaiprod")
    assert registry.properties["adminUserEnabled"] is True
    assert registry.properties["policies"] == {
        "exportPolicy": {"status": "enabled"},
        "retentionPolicy": {"status": "enabled", "days": 7},
        "trustPolicy": {"status": "disabled"},
    }
    key = _get(zone, f"{RG}/Microsoft.KeyVault/vaults/kv-contoso-ai-prod/keys/cmk-ai")
    expires = dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
    assert key.properties["attributes"] == {"enabled": True, "exp": int(expires.timestamp())}
    vault = _get(zone, f"{RG}/Microsoft.KeyVault/vaults/kv-contoso-ai-prod").properties
    assert vault["enableRbacAuthorization"] is True  # the v4 spelling
    assert vault["enablePurgeProtection"] is True


def test_compute_and_cluster_settings_land_under_properties_properties(
    zone: dict[str, Resource],
) -> None:
    instance = _get(zone, f"{WORKSPACE}/computes/ci-dev-anna").properties
    assert instance["computeType"] == "ComputeInstance"
    assert instance["disableLocalAuth"] is False
    assert instance["properties"]["enableNodePublicIp"] is True
    assert instance["properties"]["sshSettings"]["sshPublicAccess"] == "Enabled"
    cluster = _get(zone, f"{WORKSPACE}/computes/cc-train").properties
    assert cluster["properties"]["remoteLoginPortPublicAccess"] == "Disabled"
    assert cluster["properties"]["scaleSettings"]["minNodeCount"] == 0
    aks = _get(zone, f"{RG}/Microsoft.ContainerService/managedClusters/aks-ai-prod").properties
    assert aks["addonProfiles"]["azurepolicy"]["enabled"] is True
    assert aks["aadProfile"]["enableAzureRBAC"] is True
    assert aks["securityProfile"]["defender"]["securityMonitoring"]["enabled"] is True
    assert aks["securityProfile"]["defender"]["logAnalyticsWorkspaceResourceId"] == LOGS
    assert aks["autoUpgradeProfile"] == {
        "upgradeChannel": "stable",
        "nodeOSUpgradeChannel": "NodeImage",
    }


def test_values_known_only_after_apply_are_unknown(zone: dict[str, Resource]) -> None:
    search = _get(zone, f"{RG}/Microsoft.Search/searchServices/srch-contoso-prod")
    assert search.properties["replicaCount"] is UNKNOWN
    foundry = _get(zone, FOUNDRY)
    assert foundry.identity is not None
    assert foundry.identity["userAssignedIdentities"] is UNKNOWN
    storage = _get(zone, STORAGE).properties
    assert storage["networkAcls"]["defaultAction"] is UNKNOWN  # network_rules computed
    cluster = _get(zone, f"{WORKSPACE}/computes/cc-train").properties
    assert cluster["properties"]["subnet"]["id"] is UNKNOWN  # an azurerm_subnet: not mapped


def test_unset_attributes_stay_absent_for_the_checks_defaults(zone: dict[str, Resource]) -> None:
    openai = _get(zone, OPENAI).properties
    assert "networkAcls" not in openai
    assert "allowedFqdnList" not in openai  # fqdns = null
    registry = _get(zone, f"{RG}/Microsoft.ContainerRegistry/registries/acrcontosoaiprod")
    assert "quarantinePolicy" not in registry.properties["policies"]
    assert "keySource" not in _get(zone, STORAGE).properties["encryption"]


def test_references_place_children_and_resolve_ids(zone: dict[str, Resource]) -> None:
    deployment = _get(zone, f"{OPENAI}/deployments/gpt-4o")
    assert deployment.parent_id == OPENAI
    assert deployment.sku == {"name": "GlobalStandard", "capacity": 50}
    assert deployment.properties["raiPolicyName"] == "relaxed-violence"
    policy = _get(zone, f"{OPENAI}/raiPolicies/relaxed-violence").properties
    violence = next(f for f in policy["contentFilters"] if f["name"] == "Violence")
    assert violence == {
        "name": "Violence",
        "enabled": True,
        "blocking": False,
        "severityThreshold": "High",
        "source": "Completion",
    }
    workspace = _get(zone, WORKSPACE).properties
    assert workspace["keyVault"] == f"{RG}/Microsoft.KeyVault/vaults/kv-contoso-ai-prod"
    assert workspace["storageAccount"] == STORAGE
    assert workspace["applicationInsights"] is UNKNOWN  # its resource is not in the plan
    endpoint = _get(zone, f"{WORKSPACE}/onlineEndpoints/ep-scoring")
    assert endpoint.kind == "Managed"
    assert endpoint.properties == {"authMode": "Key", "publicNetworkAccess": "Enabled"}


def test_amending_resources_merge_into_their_target(zone: dict[str, Resource]) -> None:
    encryption = _get(zone, OPENAI).properties["encryption"]
    assert encryption["keySource"] == "Microsoft.KeyVault"  # azurerm_..._customer_managed_key
    assert encryption["keyVaultProperties"] is UNKNOWN
    aks = _get(zone, f"{RG}/Microsoft.ContainerService/managedClusters/aks-ai-prod")
    pools = aks.properties["agentPoolProfiles"]
    assert [(p["name"], p["mode"], p["enableNodePublicIP"]) for p in pools] == [
        ("system", "System", False),
        ("gpu", "User", True),
    ]
    assert not any(r.origin and "cluster_node_pool" in r.origin for r in zone.values())


def test_diagnostic_settings_join_their_targets(zone: dict[str, Resource]) -> None:
    settings = _get(zone, OPENAI).diagnostic_settings
    assert settings is not None
    assert [s["name"] for s in settings] == ["diag-oai"]
    assert settings[0]["properties"]["workspaceId"] == LOGS
    assert settings[0]["properties"]["logs"] == [{"categoryGroup": "audit", "enabled": True}]
    blob = _get(zone, f"{STORAGE}/blobServices/default").diagnostic_settings
    assert blob is not None
    assert [log["category"] for log in blob[0]["properties"]["logs"]] == [
        "StorageRead",
        "StorageWrite",
    ]
    assert _get(zone, STORAGE).diagnostic_settings == []
    assert _get(zone, FOUNDRY).diagnostic_settings == []  # seen: the plan declares none
    assert not any(r.type == "microsoft.insights/diagnosticsettings" for r in zone.values())


def test_role_assignments_stay_resources_and_join_their_scope(zone: dict[str, Resource]) -> None:
    assignments = [r for r in zone.values() if r.type == "microsoft.authorization/roleassignments"]
    names = {r.name for r in assignments}
    owner = str(uuid.uuid5(uuid.NAMESPACE_URL, "terraform:azurerm_role_assignment.owner"))
    assert owner in names
    subscription = _get(zone, f"/subscriptions/{SUB}")
    assert subscription.role_assignments is not None
    (assignment,) = subscription.role_assignments
    assert assignment["properties"]["roleDefinitionId"] == (
        f"{ROLES}/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"  # "Owner"
    )
    assert assignment["properties"]["principalType"] == "User"
    on_account = _get(zone, OPENAI).role_assignments
    assert on_account is not None
    assert on_account[0]["properties"]["roleDefinitionId"].endswith(
        "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"  # Cognitive Services OpenAI User
    )
    assert on_account[0]["properties"]["principalId"] is UNKNOWN
    assert _get(zone, FOUNDRY).role_assignments == []


def test_pricings_and_policy_assignments_join_the_subscription(zone: dict[str, Resource]) -> None:
    subscription = _get(zone, f"/subscriptions/{SUB}")
    assert subscription.security_pricings is not None
    (pricing,) = subscription.security_pricings
    assert (pricing["name"], pricing["properties"]["pricingTier"]) == ("AI", "Standard")
    assert pricing["properties"]["extensions"] == [
        {"name": "AIPromptEvidence", "isEnabled": "True"}
    ]
    assert subscription.policy_assignments is not None
    (policy,) = subscription.policy_assignments
    assert policy["properties"]["enforcementMode"] == "DoNotEnforce"
    assert policy["properties"]["policyDefinitionId"].endswith(
        "1308bccf-446a-4283-a4e0-0c983fe7a572"
    )


def test_private_endpoint_gives_its_target_an_approved_connection(
    zone: dict[str, Resource],
) -> None:
    endpoint = _get(zone, f"{RG}/Microsoft.Network/privateEndpoints/pe-ais-contoso-prod")
    (connection,) = endpoint.properties["privateLinkServiceConnections"]
    assert connection["properties"] == {"privateLinkServiceId": FOUNDRY, "groupIds": ["account"]}
    (listed,) = _get(zone, FOUNDRY).properties["privateEndpointConnections"]
    assert listed["properties"]["privateEndpoint"]["id"] == endpoint.id
    assert listed["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert "privateEndpointConnections" not in _get(zone, OPENAI).properties


def test_deleted_data_and_unsupported_resources_are_left_out(zone: dict[str, Resource]) -> None:
    assert not any(r.name == "stlegacy" for r in zone.values())  # actions = ["delete"]
    assert not any(r.origin and "data." in r.origin for r in zone.values())
    assert unsupported_types("tf_plan_ai_landing_zone.json") == {"azurerm_subnet": 1}
    assert unsupported_types("never-parsed.json") == {}


def test_catalogue_checks_decide_on_the_plan(zone: dict[str, Resource]) -> None:
    from tutela.scanner.catalog.loader import load_catalog
    from tutela.scanner.engine.evaluate import evaluate_estate

    catalog = load_catalog()
    checks = [catalog.check("AOAI-LOCAL-AUTH"), catalog.check("AOAI-DIAG-LOGS")]
    results = evaluate_estate(Estate(zone.values()), checks, as_of=dt.date(2025, 3, 14))
    status = {(r.check.id, r.resource.name): r.status for r in results}
    assert status[("AOAI-LOCAL-AUTH", "oai-contoso-prod")] == "fail"
    assert status[("AOAI-LOCAL-AUTH", "ais-contoso-prod")] == "pass"
    assert status[("AOAI-DIAG-LOGS", "oai-contoso-prod")] == "pass"
    assert status[("AOAI-DIAG-LOGS", "ais-contoso-prod")] == "fail"


# --- modules, states, fallbacks -------------------------------------------------------------------

MOD_RG = "/subscriptions/c0ffee00-1234-4abc-9def-0123456789ab/resourceGroups/rg-chat/providers"
CHAT = f"{MOD_RG}/Microsoft.CognitiveServices/accounts/oai-chat"


def test_references_are_followed_through_module_outputs_and_variables() -> None:
    plan = _parse("tf_plan_modules")
    # The provider's subscription_id is a variable: the client config the plan read gives it.
    assert _get(plan, CHAT).subscription_id == "c0ffee00-1234-4abc-9def-0123456789ab"
    for key in ("gpt-4o", "embed"):  # for_each instances inside the module
        assert _get(plan, f"{CHAT}/deployments/{key}").parent_id == CHAT
    policy = _get(plan, f"{CHAT}/raiPolicies/strict")  # nested module, var.account_id
    assert policy.properties["mode"] == "Blocking"
    settings = _get(plan, CHAT).diagnostic_settings
    assert settings is not None
    logs_id = f"{MOD_RG}/Microsoft.OperationalInsights/workspaces/log-chat"
    assert settings[0]["properties"]["workspaceId"] == logs_id  # var → root resource
    readers = _get(plan, CHAT).role_assignments  # root for_each, scope = module.chat.account_id
    assert readers is not None
    assert sorted(r["properties"]["principalId"][:8] for r in readers) == ["1f0e2d3c", "2a1b3c4d"]
    vault = _get(plan, f"{MOD_RG}/Microsoft.KeyVault/vaults/kv-chat")  # module.kv[0] output
    assert vault.role_assignments is not None
    assert vault.role_assignments[0]["properties"]["roleDefinitionId"].endswith(
        "00482a5a-887f-4fb3-b363-3b7fe8e74483"
    )
    (listed,) = _get(plan, CHAT).properties["privateEndpointConnections"]
    assert listed["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"


def test_names_known_only_after_apply_become_the_address() -> None:
    plan = _parse("tf_plan_modules")
    storage = _get(
        plan, f"{MOD_RG}/Microsoft.Storage/storageAccounts/<azurerm_storage_account.logs>"
    )
    assert storage.properties["networkAcls"] == {
        "defaultAction": "Deny",
        "bypass": "AzureServices, Logging",
    }
    assert unsupported_types("tf_plan_modules.json") == {"azurerm_virtual_network": 1}


STATE_RG = (
    "/subscriptions/9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d/resourceGroups/rg-ml-legacy/providers"
)


def test_a_state_keeps_its_known_ids_and_reads_child_modules() -> None:
    document = _document("tf_state")
    state = {r.id.lower(): r for r in parse_document(document, "tf_state.json")}
    account = f"{STATE_RG}/Microsoft.CognitiveServices/accounts/oai-legacy"
    assert _get(state, account).properties["disableLocalAuth"] is False
    assert "customSubDomainName" not in _get(state, account).properties  # "" in a state is unset
    assert _get(state, f"{account}/deployments/gpt-35-turbo").sku == {
        "name": "Standard",
        "capacity": 120,
    }
    settings = _get(state, account).diagnostic_settings  # azurerm id "<target>|<name>" rebuilt
    assert settings is not None
    assert settings[0]["properties"]["logs"] == [{"category": "Audit", "enabled": False}]
    role = next(r for r in state.values() if r.type == "microsoft.authorization/roledefinitions")
    assert role.name == "4f6e2a1b-9c8d-4e7f-a1b2-c3d4e5f6a7b8"
    assert role.properties["permissions"][0]["actions"] == ["Microsoft.CognitiveServices/*"]
    storage = _get(state, f"{STATE_RG}/Microsoft.Storage/storageAccounts/stmllegacy")
    assert storage.origin == "tf_state.json: module.storage.azurerm_storage_account.this"
    assert storage.properties["supportsHttpsTrafficOnly"] is True  # v3 enable_https_traffic_only
    assert unsupported_types("tf_state.json") == {"azurerm_storage_container": 1}


def _minimal_plan(**after: Any) -> dict[str, Any]:
    values = {"name": "oai-x", "resource_group_name": "rg-x", "local_auth_enabled": True} | after
    record = {"address": "azurerm_cognitive_account.x", "mode": "managed"}
    record |= {"type": "azurerm_cognitive_account", "name": "x", "values": values}
    return {"format_version": "1.2", "planned_values": {"root_module": {"resources": [record]}}}


def test_planned_values_are_read_without_resource_changes_and_subscription_placeholder() -> None:
    (account, subscription) = resources_from_terraform(_minimal_plan(), "planned.json")
    assert account.id == (
        f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}/resourceGroups/rg-x"
        "/providers/Microsoft.CognitiveServices/accounts/oai-x"
    )
    assert account.properties == {"disableLocalAuth": False}
    assert subscription.id == f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}"


def test_azapi_body_as_json_text_and_body_unknown_at_plan_time() -> None:
    def azapi(address: str, after: dict[str, Any], unknown: dict[str, Any]) -> dict[str, Any]:
        change = {"actions": ["create"], "after": after, "after_unknown": unknown}
        return {"address": address, "mode": "managed", "type": "azapi_resource", "change": change}

    parent = "/subscriptions/s1/resourceGroups/rg"
    body = json.dumps({"properties": {"publicNetworkAccess": "Disabled"}, "sku": {"name": "S0"}})
    kind = "Microsoft.CognitiveServices/accounts@2024-10-01"
    document = {
        "format_version": "1.2",
        "resource_changes": [
            azapi(
                "azapi_resource.a",
                {"type": kind, "name": "a", "parent_id": parent, "body": body},
                {},
            ),
            azapi(
                "azapi_resource.b", {"type": kind, "name": "b", "parent_id": parent}, {"body": True}
            ),
        ],
    }
    resources = {r.id: r for r in resources_from_terraform(document, "azapi.json")}
    account = resources[f"{parent}/providers/Microsoft.CognitiveServices/accounts/a"]
    assert (account.sku, account.properties) == (
        {"name": "S0"},
        {"publicNetworkAccess": "Disabled"},
    )
    assert not any(r.name == "b" for r in resources.values())
    assert unsupported_types("azapi.json") == {
        "azapi_resource (type or body known only after apply)": 1
    }


# --- malformed input --------------------------------------------------------------------------


def broken_plan(path: str, value: Any) -> dict[str, Any]:
    """tf_plan_modules with the value at the dotted ``path`` replaced (KeyError: removed)."""
    document: dict[str, Any] = copy.deepcopy(_document("tf_plan_modules"))
    node: Any = document
    *steps, last = path.split(".")
    for step in steps:
        node = node[int(step)] if step.isdigit() else node[step]
    if value is KeyError:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return document


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([{"address": "x"}], "got a list"),
        ({"terraform_version": "1.9.0"}, "not `terraform show -json` output"),
        (broken_plan("resource_changes", {"a": 1}), "resource_changes is an object, not a list"),
        (broken_plan("resource_changes.2", "azurerm_x.y"), "resource_changes[2] is a string"),
        (
            broken_plan("resource_changes.1.type", KeyError),
            "resource_changes[1] (azurerm_resource_group.rg) has no type",
        ),
        (broken_plan("resource_changes.2.address", 7), "resource_changes[2] has no address"),
        (
            broken_plan("resource_changes.3.change", None),
            "resource_changes[3] (azurerm_virtual_network.main) has no change",
        ),
        (
            broken_plan("resource_changes.3.change.actions", "create"),
            "resource_changes[3].change.actions is not a list",
        ),
        (
            broken_plan("resource_changes.3.change.after", [1]),
            "resource_changes[3].change.after is a list",
        ),
        ({"format_version": "1.0", "values": []}, "values is not an object"),
        (
            {"format_version": "1.0", "values": {"root_module": {"resources": {}}}},
            "values.root_module.resources is not a list",
        ),
        (
            {
                "planned_values": {
                    "root_module": {
                        "resources": [{"address": "a.b", "type": "azurerm_x", "values": 3}]
                    }
                }
            },
            "planned_values.root_module.resources[0].values is not an object",
        ),
        (
            {"values": {"root_module": {"child_modules": [[]]}}},
            "values.root_module.child_modules[0] is a list",
        ),
    ],
)
def test_malformed_documents_are_named_errors(document: Any, problem: str) -> None:
    with pytest.raises(SourceError) as raised:
        resources_from_terraform(document, "bad.json")
    assert problem in str(raised.value)
    assert str(raised.value).startswith("bad.json: ")


def test_an_empty_state_is_an_empty_estate() -> None:
    assert resources_from_terraform({"format_version": "1.0"}, "empty.json") == []


def test_a_malformed_configuration_only_loses_reference_resolution() -> None:
    document = _document("tf_plan_modules")
    document["configuration"] = {"root_module": ["not", "a", "module"], "provider_config": 3}
    resources = resources_from_terraform(document, "odd.json")
    deployment = next(r for r in resources if r.name == "gpt-4o")
    assert "<module.chat.azurerm_cognitive_deployment.models" in deployment.id


# --- the mapping table ------------------------------------------------------------------------


def test_committed_mapping_document_is_the_rendered_table() -> None:
    committed = Path(__file__).parents[3] / "src/tutela/scanner/sources/TERRAFORM.md"
    rendered = render_markdown()
    assert committed.read_text() == rendered, "run render_markdown() into TERRAFORM.md"
    for tf_type in MAPPINGS:
        assert f"## {tf_type} " in rendered


def _record(address: str, values: dict[str, Any]) -> dict[str, Any]:
    tf_type, name = address.split(".")
    return {"address": address, "mode": "managed", "type": tf_type, "name": name, "values": values}


def test_hub_project_amendments_and_custom_roles_from_planned_values() -> None:
    sub = f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}"  # no provider subscription_id
    mcsb = "policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
    hub_id = (
        f"{sub}/resourceGroups/rg-hub/providers/Microsoft.MachineLearningServices/workspaces/hub"
    )
    account_id = f"{sub}/resourceGroups/rg-hub/providers/Microsoft.Storage/storageAccounts/sthub"
    records = [
        _record(
            "azurerm_ai_foundry.hub",
            {
                "name": "hub",
                "resource_group_name": "rg-hub",
                "public_network_access": "Disabled",
                "managed_network": [{"isolation_mode": "AllowInternetOutbound"}],
                "encryption": [
                    {
                        "key_id": "https://kv.vault.azure.net/keys/k/1",
                        "key_vault_id": "/subscriptions/x/kv",
                    }
                ],
            },
        ),
        _record("azurerm_ai_foundry_project.p", {"name": "proj", "ai_services_hub_id": hub_id}),
        _record(
            "azurerm_storage_account.sthub", {"name": "sthub", "resource_group_name": "rg-hub"}
        ),
        _record(
            "azurerm_storage_account_network_rules.r",
            {
                "storage_account_id": account_id,
                "default_action": "Deny",
                "ip_rules": ["198.51.100.7"],
            },
        ),
        _record(
            "azurerm_storage_account_customer_managed_key.k",
            {
                "storage_account_id": account_id,
                "key_name": "cmk",
                "key_vault_uri": "https://kv.vault.azure.net/",
            },
        ),
        _record(
            "azurerm_role_definition.ops",
            {"name": "AI Ops", "scope": sub, "permissions": [{"actions": ["*"]}]},
        ),
        _record(
            "azurerm_management_group_policy_assignment.mcsb",
            {
                "name": "mcsb",
                "management_group_id": "/providers/Microsoft.Management/managementGroups/contoso",
                "policy_definition_id": f"/providers/Microsoft.Authorization/{mcsb}",
                "enforce": True,
            },
        ),
    ]
    document = {"format_version": "1.2", "planned_values": {"root_module": {"resources": records}}}
    resources = {r.id: r for r in resources_from_terraform(document, "hub.json")}
    hub = resources[hub_id]
    assert (hub.kind, hub.properties["managedNetwork"]["isolationMode"]) == (
        "Hub",
        "AllowInternetOutbound",
    )
    assert hub.properties["encryption"]["status"] == "Enabled"
    project = resources[hub_id.replace("/hub", "/proj")]  # in the hub's resource group
    assert (project.kind, project.properties["hubResourceId"]) == ("Project", hub_id)
    account = resources[account_id].properties
    assert account["networkAcls"] == {
        "defaultAction": "Deny",
        "ipRules": [{"value": "198.51.100.7"}],
    }
    assert account["encryption"]["keySource"] == "Microsoft.Keyvault"
    assert account["encryption"]["keyvaultproperties"]["keyname"] == "cmk"
    role = next(
        r for r in resources.values() if r.type == "microsoft.authorization/roledefinitions"
    )
    assert role.id == f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{role.name}"
    assert uuid.UUID(role.name)  # role_definition_id unknown: a GUID from the address
    assert role.properties["type"] == "CustomRole"
    policy = next(r for r in resources.values() if r.name == "mcsb")
    assert policy.id.startswith(
        "/providers/Microsoft.Management/managementGroups/contoso/providers/"
    )
    assert policy.subscription_id is None
    assert policy.properties["enforcementMode"] == "Default"


def test_for_each_references_pair_instances_with_the_same_key() -> None:
    changes = []
    for key in ("eu", "us"):
        account = {"name": f"oai-{key}", "resource_group_name": "rg", "kind": "OpenAI"}
        setting = {"name": "diag", "enabled_log": [{"category_group": "allLogs"}]}
        for address, after, unknown in (
            ("azurerm_cognitive_account.acc", account, {"id": True}),
            ("azurerm_monitor_diagnostic_setting.d", setting, {"target_resource_id": True}),
        ):
            change = {"actions": ["create"], "after": after, "after_unknown": unknown}
            record = {"address": f'{address}["{key}"]', "type": address.split(".")[0]}
            changes.append(record | {"mode": "managed", "index": key, "change": change})
    # target_resource_id = azurerm_cognitive_account.acc[each.key].id: the key is not in refs
    target = {"references": ["azurerm_cognitive_account.acc"]}
    config = {"address": "azurerm_monitor_diagnostic_setting.d"}
    config["expressions"] = {"target_resource_id": target}
    document = {
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": [config]}},
    }
    accounts = [r for r in resources_from_terraform(document, "fe.json") if r.kind == "OpenAI"]
    assert len(accounts) == 2
    for account in accounts:
        assert account.diagnostic_settings is not None
        (setting,) = account.diagnostic_settings
        assert setting["id"].startswith(account.id + "/providers/Microsoft.Insights/")


def test_a_counted_module_output_is_found_without_its_key() -> None:
    document = _document("tf_plan_modules")
    for resource in document["configuration"]["root_module"]["resources"]:
        if resource["address"] == "azurerm_role_assignment.kv_admin":
            resource["expressions"]["scope"]["references"] = ["module.kv.vault_id", "module.kv"]
    resources = {r.id.lower(): r for r in resources_from_terraform(document, "kv.json")}
    vault = _get(resources, f"{MOD_RG}/Microsoft.KeyVault/vaults/kv-chat")
    assert vault.role_assignments is not None
    assert len(vault.role_assignments) == 1
