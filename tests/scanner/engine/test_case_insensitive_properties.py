"""Property names match without case, as ARM matches them, in every source and every evaluator.

``"DisableLocalAuth": true`` in a template is ``disableLocalAuth`` to Azure; read as absent it
would take the service default and fail a secure resource.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.scanner.engine.cases import make_resource
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.conditions import Context, compile_condition, property_value
from tutela.scanner.engine.evaluate import CheckResult, evaluate_estate
from tutela.scanner.estate import UNKNOWN, Estate, Resource, UnknownObject
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.arm import resources_from_arm
from tutela.scanner.sources.terraform import resources_from_terraform

AS_OF = dt.date(2026, 12, 1)
CATALOG = load_catalog()
SUB = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"
ACCOUNT_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/"
    "Microsoft.CognitiveServices/accounts/oai-one"
)
ACCOUNT = "microsoft.cognitiveservices/accounts"
CHECKS = ("AOAI-LOCAL-AUTH", "AOAI-PUBLIC-NETWORK", "AOAI-NETWORK-ACLS")

# The account's properties, secure, as the REST API spells them and as a hand-written template
# might: ARM takes both.
CANONICAL = {
    "disableLocalAuth": True,
    "publicNetworkAccess": "Disabled",
    "networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.7"}]},
}
PASCAL = {
    "DisableLocalAuth": True,
    "PublicNetworkAccess": "Disabled",
    "NetworkAcls": {"DefaultAction": "Deny", "IpRules": [{"Value": "203.0.113.7"}]},
}
SHOUTING = {
    "DISABLELOCALAUTH": "true",
    "publicnetworkaccess": "Disabled",
    "NETWORKACLS": {"DEFAULTACTION": "Deny"},
}


def _statuses(resources: list[Resource]) -> dict[str, str]:
    checks = [CATALOG.check(check_id) for check_id in CHECKS]
    results = evaluate_estate(Estate(resources), checks, as_of=AS_OF)
    return {r.check.id: r.status for r in results if r.resource.type == ACCOUNT}


def _results(resources: list[Resource], check_id: str) -> CheckResult:
    (result,) = evaluate_estate(Estate(resources), [CATALOG.check(check_id)], as_of=AS_OF)
    return result


def _template(properties: dict[str, Any]) -> list[Resource]:
    account = {
        "type": "Microsoft.CognitiveServices/accounts",
        "apiVersion": "2024-10-01",
        "name": "oai-one",
        "location": "swedencentral",
        "kind": "OpenAI",
        "sku": {"name": "S0"},
        "properties": properties,
    }
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [account],
    }
    return resources_from_arm(template, "main.json")


def _export(properties: dict[str, Any]) -> list[Resource]:
    record = {
        "id": ACCOUNT_ID,
        "name": "oai-one",
        "type": "microsoft.cognitiveservices/accounts",
        "kind": "OpenAI",
        "location": "swedencentral",
        "resourceGroup": "rg-ai",
        "subscriptionId": SUB,
        "sku": {"name": "S0"},
        "properties": properties,
    }
    return resources_from_arg({"data": [record]}, "arg.json")


ALL_PASS = dict.fromkeys(CHECKS, "pass")


@pytest.mark.parametrize("spelling", [PASCAL, SHOUTING], ids=["Pascal", "UPPER"])
def test_an_arm_template_decides_any_spelling_as_the_canonical_one(
    spelling: dict[str, Any],
) -> None:
    assert _statuses(_template(CANONICAL)) == ALL_PASS
    assert _statuses(_template(spelling)) == ALL_PASS


def test_a_template_declaration_s_own_members_are_read_in_any_spelling() -> None:
    """ARM reads "Type", "Properties", "ApiVersion" as it reads them in camel case."""
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "Type": "Microsoft.CognitiveServices/accounts",
                "APIVersion": "2024-10-01",
                "Name": "oai-one",
                "Location": "swedencentral",
                "Kind": "OpenAI",
                "SKU": {"name": "S0"},
                "Properties": PASCAL,
            }
        ],
    }
    [account] = [r for r in resources_from_arm(template, "main.json") if r.type == ACCOUNT]
    assert (account.name, account.kind, account.api_version) == ("oai-one", "OpenAI", "2024-10-01")
    assert _statuses([account]) == ALL_PASS


@pytest.mark.parametrize("spelling", [PASCAL, SHOUTING], ids=["Pascal", "UPPER"])
def test_a_resource_graph_export_decides_any_spelling_as_the_canonical_one(
    spelling: dict[str, Any],
) -> None:
    assert _statuses(_export(CANONICAL)) == ALL_PASS
    assert _statuses(_export(spelling)) == ALL_PASS


def test_an_insecure_value_under_another_spelling_still_fails() -> None:
    insecure = {
        "DisableLocalAuth": False,
        "PublicNetworkAccess": "Enabled",
        "NetworkAcls": {"DefaultAction": "Allow"},
    }
    assert _statuses(_template(insecure)) == dict.fromkeys(CHECKS, "fail")
    assert _statuses(_export(insecure)) == dict.fromkeys(CHECKS, "fail")


@pytest.mark.parametrize(("address", "status"), [("203.0.113.7", "pass"), ("0.0.0.0/0", "fail")])
def test_ip_rules_spelt_otherwise_are_counted(address: str, status: str) -> None:
    acls = {"DefaultAction": "Deny", "IpRules": [{"Value": address}]}
    props = {"PublicNetworkAccess": "Enabled", "NetworkAcls": acls}
    assert _statuses(_export(props))["AOAI-NETWORK-ACLS"] == status


def test_the_evidence_names_the_path_as_the_catalogue_does() -> None:
    result = _results(_template({"DisableLocalAuth": False}), "AOAI-LOCAL-AUTH")
    assert result.evidence == (("properties.disableLocalAuth", False),)


def test_terraform_is_mapped_to_the_canonical_names() -> None:
    # azurerm attributes are snake_case; the source maps them to ARM's canonical names, so no
    # other spelling reaches the engine from a plan.
    after = {
        "name": "oai-one",
        "resource_group_name": "rg-ai",
        "location": "swedencentral",
        "kind": "OpenAI",
        "sku_name": "S0",
        "id": ACCOUNT_ID,
        "local_auth_enabled": False,
        "public_network_access_enabled": False,
        "network_acls": [{"default_action": "Deny", "ip_rules": ["203.0.113.7"]}],
    }
    change = {
        "address": "azurerm_cognitive_account.oai",
        "mode": "managed",
        "type": "azurerm_cognitive_account",
        "name": "oai",
        "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": {}},
    }
    plan = {"format_version": "1.2", "terraform_version": "1.9.5", "resource_changes": [change]}
    resources = resources_from_terraform(plan, "plan.json")
    (account,) = [r for r in resources if r.type == ACCOUNT]
    assert account.properties["disableLocalAuth"] is True
    assert account.properties["publicNetworkAccess"] == "Disabled"
    assert account.properties["networkAcls"]["defaultAction"] == "Deny"
    assert _statuses(resources) == ALL_PASS


# --- the condition language ---------------------------------------------------------------------


def _decide(condition: dict[str, Any], target: Resource) -> tuple[bool | None, list[Any]]:
    ctx = Context(target, Estate([target]))
    return compile_condition(condition)(ctx, target), ctx.evidence


@pytest.mark.parametrize(
    "path",
    ["properties.a", "properties.n.a", "properties.n.m.a", "properties.n.m.k.a", "sku.n.a"],
)
def test_every_depth_of_path_matches_without_case(path: str) -> None:
    nested: Any = {"A": "Disabled"}
    for step in reversed(path.split(".")[1:-1]):
        nested = {step.upper(): nested}
    root = path.split(".")[0]
    target = make_resource({"type": ACCOUNT, root: nested})
    verdict, evidence = _decide({"field": path, "equals": "Disabled"}, target)
    assert verdict is True
    assert evidence == [(path, "Disabled")]


def test_the_name_as_spelt_wins_over_another_spelling() -> None:
    target = make_resource({"type": ACCOUNT, "properties": {"Mode": "Off", "mode": "On"}})
    assert _decide({"field": "properties.mode", "equals": "On"}, target)[0] is True


def test_an_absent_property_still_takes_the_default() -> None:
    target = make_resource({"type": ACCOUNT, "properties": {"disableLocalAuthX": True}})
    rule = {"field": "properties.disableLocalAuth", "equals": True, "default": False}
    verdict, evidence = _decide(rule, target)
    assert verdict is False
    assert evidence == [("properties.disableLocalAuth", "<absent; service default False>")]


def test_a_partly_known_object_gives_its_known_keys_in_any_spelling() -> None:
    target = make_resource({"type": ACCOUNT})
    target.properties = UnknownObject({"NetworkAcls": UnknownObject({"DefaultAction": "Deny"})})
    rule = {"field": "properties.networkAcls.defaultAction", "equals": "Deny"}
    assert _decide(rule, target)[0] is True
    other = {"field": "properties.networkAcls.bypass", "equals": "None", "default": "None"}
    assert _decide(other, target)[0] is None  # not among the known keys: unknown, no default


def test_count_reads_its_elements_without_case() -> None:
    props = {"IpRules": [{"Value": "0.0.0.0/0"}, {"VALUE": "203.0.113.7"}]}
    target = make_resource({"type": ACCOUNT, "properties": props})
    rule = {
        "count": {"field": "properties.ipRules", "where": {"field": "value", "like": "0.0.0.0*"}},
        "equals": 1,
    }
    assert _decide(rule, target)[0] is True


def test_tag_names_still_match_without_case() -> None:
    target = make_resource({"type": ACCOUNT, "tags": {"Owner": "ml-team"}})
    assert _decide({"field": "tags.owner", "equals": "ml-team"}, target)[0] is True


def test_property_value_reads_like_get() -> None:
    assert property_value({"Exp": 1}, "exp") == 1
    assert property_value({}, "exp") is None
    assert property_value({}, "exp", "fallback") == "fallback"
    assert property_value(UnknownObject({"Exp": 1}), "exp") == 1
    assert property_value(UnknownObject(), "exp") is UNKNOWN


# --- the evaluators -----------------------------------------------------------------------------


def _evaluate(check_id: str, *resources: Resource) -> CheckResult:
    results = evaluate_estate(Estate(resources), [CATALOG.check(check_id)], as_of=AS_OF)
    (result,) = [r for r in results if r.resource is resources[0]]
    return result


def test_private_endpoint_connections_spelt_otherwise_are_read() -> None:
    connection = {"Properties": {"PrivateLinkServiceConnectionState": {"Status": "Approved"}}}
    account = make_resource(
        {"type": ACCOUNT, "properties": {"PrivateEndpointConnections": [connection]}}
    )
    assert _evaluate("AOAI-PRIVATE-LINK", account).status == "pass"


def test_a_key_expiry_spelt_otherwise_is_read() -> None:
    key = make_resource(
        {
            "type": "microsoft.keyvault/vaults/keys",
            "properties": {"Attributes": {"Exp": 1798761600}},
        }
    )
    assert _evaluate("KV-KEY-EXPIRY", key).status == "pass"


def test_a_diagnostic_setting_spelt_otherwise_is_read() -> None:
    setting = {
        "name": "to-law",
        "Properties": {
            "WorkspaceId": "/law",
            "Logs": [{"CategoryGroup": "audit", "Enabled": True}],
        },
    }
    account = make_resource({"type": ACCOUNT, "diagnostic_settings": [setting]})
    assert _evaluate("AOAI-DIAG-LOGS", account).status == "pass"


def test_node_pools_spelt_otherwise_are_read() -> None:
    pool = {"Name": "system", "EnableNodePublicIP": True}
    cluster = make_resource(
        {
            "type": "microsoft.containerservice/managedclusters",
            "properties": {"AgentPoolProfiles": [pool]},
        }
    )
    result = _evaluate("AKS-NODE-PUBLIC-IP", cluster)
    assert result.status == "fail"
    assert any(path.startswith("agentPools[system].") for path, _ in result.evidence)


def test_a_deployment_model_spelt_otherwise_is_read() -> None:
    deployment = make_resource(
        {
            "type": "microsoft.cognitiveservices/accounts/deployments",
            "properties": {
                "Model": {"Format": "OpenAI", "Name": "gpt-4o", "Version": "0000-00-00"}
            },
        }
    )
    result = _evaluate("AOAI-DEPLOY-MODEL-RETIREMENT", deployment)
    assert ("properties.model", "gpt-4o 0000-00-00") in result.evidence
