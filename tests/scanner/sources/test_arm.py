"""ARM templates: the resources they declare, their related facts, and malformed templates."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest

from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import SUBSCRIPTION_TYPE, UNKNOWN, Estate, Resource, is_unknown
from tutela.scanner.sources import SourceError, read_estate
from tutela.scanner.sources.arm import (
    PLACEHOLDER_SUBSCRIPTION_ID,
    UnknownObject,
    parameter_values,
    resources_from_arm,
    resources_from_template,
)

FIXTURES = Path(__file__).parent / "fixtures"
SUB = PLACEHOLDER_SUBSCRIPTION_ID
RG = f"/subscriptions/{SUB}/resourceGroups/rg-template"
ACCOUNT = f"{RG}/providers/Microsoft.CognitiveServices/accounts/contoso-ai-aoai"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def _fixture(name: str) -> Any:
    return orjson.loads((FIXTURES / f"{name}.json").read_bytes())


def _by_id(resources: list[Resource]) -> dict[str, Resource]:
    return {resource.id: resource for resource in resources}


def _template(*resources: Any, **extra: Any) -> dict[str, Any]:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": list(resources), **extra}


def _account(**properties: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.CognitiveServices/accounts",
        "apiVersion": "2024-10-01",
        "name": "acct",
        "kind": "OpenAI",
        "properties": properties,
    }


LANDING_ZONE = _fixture("arm_ai_landing_zone")


def test_the_landing_zone_declares_its_resources_with_arm_ids_and_names() -> None:
    resources = _by_id(resources_from_arm(LANDING_ZONE, "lz.json"))
    account = resources[ACCOUNT]
    assert account.type == "microsoft.cognitiveservices/accounts"
    assert account.name == "contoso-ai-aoai"
    assert (account.subscription_id, account.resource_group) == (SUB, "rg-template")
    assert account.kind == "OpenAI"
    assert account.sku == {"name": "S0"}
    assert account.identity == {"type": "SystemAssigned"}
    assert account.tags == {
        "workload": "genai",
        "environment": "prod",
        "costCenter": "CC-1234",
        "service": "openai",
    }
    assert account.properties["publicNetworkAccess"] == "Disabled"
    assert account.properties["disableLocalAuth"] is True
    assert is_unknown(account.location)  # [resourceGroup().location], location not given
    assert account.origin == "lz.json: resources[2]"
    nested = resources[f"{ACCOUNT}/deployments/gpt-4o"]
    assert nested.type == "microsoft.cognitiveservices/accounts/deployments"
    assert nested.name == "gpt-4o"
    assert nested.sku == {"name": "GlobalStandard", "capacity": 50}
    assert nested.origin == "lz.json: resources[2].resources[0]"
    top_level_child = resources[f"{ACCOUNT}/deployments/text-embedding-3-large"]
    assert top_level_child.properties["model"]["name"] == "text-embedding-3-large"
    types = sorted(r.type for r in resources.values())
    assert types == [
        "microsoft.authorization/roleassignments",
        "microsoft.cognitiveservices/accounts",
        "microsoft.cognitiveservices/accounts/deployments",
        "microsoft.cognitiveservices/accounts/deployments",
        "microsoft.keyvault/vaults",
        "microsoft.machinelearningservices/workspaces",
        "microsoft.network/privateendpoints",
        "microsoft.resources/subscriptions",
        "microsoft.storage/storageaccounts",
    ]


def test_unresolvable_values_stay_in_properties_as_unknown() -> None:
    resources = resources_from_arm(LANDING_ZONE, "lz.json")
    storage = next(r for r in resources if r.type == "microsoft.storage/storageaccounts")
    vault = next(r for r in resources if r.type == "microsoft.keyvault/vaults")
    workspace = next(
        r for r in resources if r.type == "microsoft.machinelearningservices/workspaces"
    )
    assert storage.properties["allowSharedKeyAccess"] is UNKNOWN  # a parameter without default
    assert storage.properties["allowBlobPublicAccess"] is False
    assert storage.name.startswith("st")
    assert len(storage.name) == 15
    assert vault.properties["tenantId"] is UNKNOWN
    assert (
        workspace.properties["storageAccount"]
        == f"{RG}/providers/Microsoft.Storage/storageAccounts/{storage.name}"
    )


def test_the_landing_zone_relates_its_setting_assignment_and_endpoint_to_the_account() -> None:
    resources = _by_id(resources_from_arm(LANDING_ZONE, "lz.json"))
    account = resources[ACCOUNT]
    assert account.diagnostic_settings is not None
    [setting] = account.diagnostic_settings
    assert setting["name"] == "send-to-law"
    assert setting["properties"]["logs"][0] == {"categoryGroup": "audit", "enabled": True}
    assert setting["properties"]["workspaceId"] == "{logAnalyticsWorkspaceId}"
    assert not any(r.type == "microsoft.insights/diagnosticsettings" for r in resources.values())
    assert account.role_assignments is not None
    [assignment] = account.role_assignments
    assert assignment["properties"]["scope"] == ACCOUNT
    assert assignment["properties"]["roleDefinitionId"].endswith(
        "/roleDefinitions/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
    )
    assert assignment["id"] in resources  # also a resource of its own
    [connection] = account.properties["privateEndpointConnections"]
    endpoint = f"{RG}/providers/Microsoft.Network/privateEndpoints/pe-contoso-ai-aoai"
    assert connection["properties"]["privateEndpoint"]["id"] == endpoint
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"


def test_a_template_sees_settings_and_assignments_but_not_subscription_facts() -> None:
    resources = resources_from_arm(LANDING_ZONE, "lz.json")
    vault = next(r for r in resources if r.type == "microsoft.keyvault/vaults")
    assert vault.diagnostic_settings == []
    assert vault.role_assignments == []
    [subscription] = [r for r in resources if r.type == SUBSCRIPTION_TYPE]
    assert subscription.id == f"/subscriptions/{SUB}"
    assert subscription.security_pricings is None
    assert subscription.policy_assignments is None


def test_the_deployment_context_and_a_parameters_file_are_used() -> None:
    parameters_file = {
        "parameters": {
            "publicNetworkAccess": {"value": "Enabled"},
            "disableLocalAuth": {"value": False},
            "principalId": {"reference": {"keyVault": {"id": "/x"}, "secretName": "p"}},
        }
    }
    assert PLACEHOLDER_SUBSCRIPTION_ID == "00000000-0000-0000-0000-000000000000"  # the default
    sub = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"
    resources = resources_from_template(
        LANDING_ZONE,
        "lz.json",
        subscription_id=sub,
        resource_group="rg-ai-prod",
        location="swedencentral",
        parameters=parameter_values(parameters_file, "lz.parameters.json"),
    )
    account = next(r for r in resources if r.type == "microsoft.cognitiveservices/accounts")
    assert account.id == (
        f"/subscriptions/{sub}/resourceGroups/rg-ai-prod/providers/"
        "Microsoft.CognitiveServices/accounts/contoso-ai-aoai"
    )
    assert account.location == "swedencentral"
    assert account.properties["publicNetworkAccess"] == "Enabled"
    assert account.properties["disableLocalAuth"] is False


def test_parameter_values_refuses_a_file_without_parameters() -> None:
    with pytest.raises(SourceError, match='"parameters" object'):
        parameter_values({"values": {}}, "p.json")
    with pytest.raises(SourceError, match=r"parameters\.x must be an object"):
        parameter_values({"parameters": {"x": 1}}, "p.json")


def test_checks_decide_on_resolved_values_and_say_unknown_on_unresolved_ones() -> None:
    check = load_catalog().check("AOAI-LOCAL-AUTH")
    statuses = []
    for supplied in ({}, {"disableLocalAuth": False}, {"disableLocalAuth": UNKNOWN}):
        estate = Estate(resources_from_template(LANDING_ZONE, "lz.json", parameters=supplied))
        [result] = evaluate_estate(estate, [check], as_of=dt.date(2026, 1, 1))
        statuses.append(result.status)
    assert statuses == ["pass", "fail", "unknown"]


COPY_LOOPS = _fixture("arm_copy_loops")
COPY_RG = f"/subscriptions/{SUB}/resourceGroups/rg-template/providers"


def test_copy_loops_expand_when_the_count_resolves() -> None:
    resources = resources_from_arm(COPY_LOOPS, "loops.json")
    by_type: dict[str, list[Resource]] = {}
    for resource in resources:
        by_type.setdefault(resource.type, []).append(resource)
    deployments = by_type["microsoft.cognitiveservices/accounts/deployments"]
    assert [d.id for d in deployments] == [
        f"{COPY_RG}/Microsoft.CognitiveServices/accounts/aoai-shared/deployments/gpt-4o",
        f"{COPY_RG}/Microsoft.CognitiveServices/accounts/aoai-shared/deployments/gpt-4o-mini",
    ]
    assert [d.sku for d in deployments] == [
        {"name": "Standard", "capacity": 30},
        {"name": "Standard", "capacity": 60},
    ]
    assert [d.origin for d in deployments] == ["loops.json: resources[1]"] * 2
    storage = by_type["microsoft.storage/storageaccounts"]
    assert [s.name for s in storage] == ["stdata01", "stdata02", "stdata03"]
    assert [s.properties["minimumTlsVersion"] for s in storage] == ["TLS1_2", "TLS1_0", "TLS1_0"]
    assert len(by_type["microsoft.network/publicipaddresses"]) == 800  # ARM's limit
    assert "microsoft.keyvault/vaults" not in by_type  # count 0


def test_a_loop_with_an_unknown_count_gives_one_resource_with_unknown_name_parts() -> None:
    resources = resources_from_arm(COPY_LOOPS, "loops.json")
    [search] = [r for r in resources if r.type == "microsoft.search/searchservices"]
    assert search.name == "srch-{copyIndex}"
    assert search.properties["replicaCount"] is UNKNOWN
    assert search.properties["publicNetworkAccess"] == "disabled"


def test_property_and_variable_copy_loops_expand() -> None:
    resources = resources_from_arm(COPY_LOOPS, "loops.json")
    account = next(r for r in resources if r.type == "microsoft.cognitiveservices/accounts")
    assert account.properties["networkAcls"] == {
        "defaultAction": "Deny",
        "ipRules": [{"value": "203.0.113.10"}, {"value": "198.51.100.0/24"}],
    }
    assert account.properties["modelNames"] == ["gpt-4o", "gpt-4o-mini"]


def test_a_language_version_2_template_reads_symbolic_resources() -> None:
    resources = _by_id(resources_from_arm(_fixture("arm_symbolic"), "hub.json"))
    hub_id = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/aihub-prod"
    hub = resources[hub_id]
    assert hub.origin == "hub.json: resources.hub"
    assert hub.kind == "Hub"
    assert resources[f"{hub_id}/connections/aoai"].properties["authType"] == "ApiKey"
    assert hub.diagnostic_settings is not None
    [setting] = hub.diagnostic_settings
    assert setting["properties"]["workspaceId"].endswith("/workspaces/law-central")
    types = {r.type for r in resources.values()}
    assert "microsoft.operationalinsights/workspaces" not in types  # existing: not deployed
    assert "microsoft.cognitiveservices/accounts" not in types  # its condition is false


def test_nested_deployments_deploy_their_inline_templates() -> None:
    resources = _by_id(resources_from_arm(_fixture("arm_nested"), "sub.json"))
    group = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod"
    assert resources[group].type == "microsoft.resources/subscriptions/resourcegroups"
    inner = resources[f"{group}/providers/Microsoft.CognitiveServices/accounts/aoai-prod"]
    assert inner.properties["disableLocalAuth"] is True  # inner scope: the parameter passed in
    assert inner.location == "westeurope"  # the group this template declares
    assert inner.resource_group == "rg-ai-prod"
    assert inner.origin == "sub.json: resources[3].properties.template.resources[0]"
    outer = resources[f"{group}/providers/Microsoft.Storage/storageAccounts/stmodelsprod"]
    assert outer.location == "westeurope"  # outer scope: the parent's parameters and variables
    assert not any(r.type == "microsoft.resources/deployments" for r in resources.values())


def _module(name: str, passed: dict[str, Any], *resources: Any) -> dict[str, Any]:
    """A nested deployment as Bicep compiles a module: inner scope, parameters passed in."""
    declared = {key: {"type": "string"} for key in passed}
    return {
        "type": "Microsoft.Resources/deployments",
        "apiVersion": "2022-09-01",
        "name": name,
        "properties": {
            "expressionEvaluationOptions": {"scope": "inner"},
            "mode": "Incremental",
            "parameters": {key: {"value": value} for key, value in passed.items()},
            "template": _template(*resources, parameters=declared),
        },
    }


def test_modules_given_unknown_names_still_relate_through_the_same_placeholders() -> None:
    account_name = "[format('{0}-aoai', parameters('baseName'))]"
    account_id = f"[resourceId('Microsoft.CognitiveServices/accounts', {account_name[1:-1]})]"
    endpoint = {
        "type": "Microsoft.Network/privateEndpoints",
        "name": "pe",
        "properties": {
            "privateLinkServiceConnections": [
                {"name": "c", "properties": {"privateLinkServiceId": "[parameters('targetId')]"}}
            ]
        },
    }
    template = _template(
        _module(
            "openai",
            {"accountName": account_name},
            _account() | {"name": "[parameters('accountName')]"},
        ),
        _module("network", {"targetId": account_id}, endpoint),
        parameters={"baseName": {"type": "string"}},
    )
    resources = resources_from_arm(template, "main.json")
    account = next(r for r in resources if r.type == "microsoft.cognitiveservices/accounts")
    assert account.name == "{baseName}-aoai"
    [connection] = account.properties["privateEndpointConnections"]
    assert connection["properties"]["privateEndpoint"]["id"].endswith("/privateEndpoints/pe")


def test_a_subscription_template_sees_the_pricings_and_policy_assignments_it_declares() -> None:
    resources = resources_from_arm(_fixture("arm_nested"), "sub.json")
    [subscription] = [r for r in resources if r.type == SUBSCRIPTION_TYPE]
    assert subscription.security_pricings is not None
    assert [p["name"] for p in subscription.security_pricings] == ["AI"]
    assert subscription.security_pricings[0]["properties"]["pricingTier"] == "Standard"
    assert subscription.policy_assignments is not None
    assert [p["name"] for p in subscription.policy_assignments] == ["deny-aoai-public"]
    pricing = next(r for r in resources if r.type == "microsoft.security/pricings")
    assert pricing.id == f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/AI"


def test_extension_resources_declared_by_type_attach_to_their_parent() -> None:
    setting = {"logs": [{"category": "Audit", "enabled": True}], "workspaceId": "/w"}
    template = _template(
        {
            **_account(),
            "resources": [
                {
                    "type": "providers/diagnosticSettings",
                    "name": "Microsoft.Insights/nested",
                    "properties": setting,
                }
            ],
        },
        {
            "type": "Microsoft.CognitiveServices/accounts/providers/diagnosticSettings",
            "name": "acct/Microsoft.Insights/top",
            "properties": setting,
        },
        {
            "type": "Microsoft.Insights/diagnosticSettings",
            "name": "by-full-id",
            "scope": "[resourceId('Microsoft.CognitiveServices/accounts', 'acct')]",
            "properties": setting,
        },
        {
            "type": "Microsoft.Storage/storageAccounts/providers/roleAssignments",
            "name": "st/Microsoft.Authorization/r1",
            "properties": {"principalId": "p"},
        },
    )
    resources = resources_from_arm(template, "t.json")
    account = next(r for r in resources if r.type == "microsoft.cognitiveservices/accounts")
    assert account.diagnostic_settings is not None
    assert sorted(s["name"] for s in account.diagnostic_settings) == ["by-full-id", "nested", "top"]
    [assignment] = [r for r in resources if r.type == "microsoft.authorization/roleassignments"]
    assert assignment.properties["scope"] == f"{RG}/providers/Microsoft.Storage/storageAccounts/st"


UNRESOLVABLE = _template({**_account(), "properties": "[reference('other').properties]"})


def test_an_unresolvable_properties_object_reads_every_property_as_unknown() -> None:
    account = resources_from_arm(UNRESOLVABLE, "t.json")[0]
    assert isinstance(account.properties, UnknownObject)
    assert account.properties.get("disableLocalAuth") is UNKNOWN
    assert "disableLocalAuth" not in account.properties


def test_a_check_on_an_unresolvable_properties_object_is_unknown() -> None:
    estate = Estate(resources_from_arm(UNRESOLVABLE, "t.json"))
    [result] = evaluate_estate(
        estate, [load_catalog().check("AOAI-LOCAL-AUTH")], as_of=dt.date(2026, 1, 1)
    )
    assert result.status == "unknown"


def test_a_name_that_cannot_be_resolved_is_a_placeholder_not_an_error() -> None:
    child = {
        "type": "Microsoft.CognitiveServices/accounts/deployments",
        "name": "[reference('elsewhere').name]",
    }
    nested_child = {"type": "deployments", "name": "[reference('elsewhere').name]"}
    resources = resources_from_arm(
        _template({**_account(), "resources": [nested_child]}, child), "t.json"
    )
    names = [r.id.removeprefix(f"{RG}/providers/") for r in resources[:3]]
    assert names == [
        "Microsoft.CognitiveServices/accounts/acct",
        "Microsoft.CognitiveServices/accounts/acct/deployments/"
        "{unknown name of resources[0].resources[0]}",
        "Microsoft.CognitiveServices/accounts/{unknown name of resources[1]}"
        "/deployments/{unknown name of resources[1]}",
    ]


def test_a_malformed_expression_is_unknown_not_an_error() -> None:
    [account, _subscription] = resources_from_arm(
        _template(_account(disableLocalAuth="[not(]", publicNetworkAccess="[[Disabled]")), "t.json"
    )
    assert account.properties["disableLocalAuth"] is UNKNOWN
    assert account.properties["publicNetworkAccess"] == "[Disabled]"


def test_read_estate_detects_a_template(tmp_path: Path) -> None:
    path = tmp_path / "main.json"
    path.write_bytes(orjson.dumps(LANDING_ZONE))
    estate = read_estate([path])
    assert estate.get(ACCOUNT) is not None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "must be a JSON object"),
        ({"$schema": SCHEMA}, '"resources" is missing'),
        (_template() | {"resources": "x"}, '"resources" must be an array'),
        (_template(), None),
        (_template(parameters=[]), '"parameters" must be an object'),
        (_template(variables="x"), '"variables" must be an object'),
    ],
)
def test_malformed_templates_are_refused_with_the_problem_named(
    document: Any, problem: str | None
) -> None:
    if problem is None:
        assert [r.type for r in resources_from_arm(document, "t.json")] == []
        return
    with pytest.raises(SourceError) as raised:
        resources_from_arm(copy.deepcopy(document), "t.json")
    assert str(raised.value).startswith("t.json: ")
    assert problem in str(raised.value)
