"""Azure AI Foundry projects and connections from every source, and their secrets kept out.

A Foundry resource is an AI Services account with projects (``accounts/projects``) and
connections on the account and on each project. Each source must give the AIF-* checks the
project's identity and each connection's authType, the account-level AOAI-* checks must judge the
AI Services account as they judge any other kind, and no credential a connection carries in the
input may reach a report.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tests.scanner.sources.replay import ReplayTransport
from tests.scanner.sources.test_azure import SUBSCRIPTION, Principal
from tutela.cli.main import app
from tutela.scanner.ai_scope import ai_scope
from tutela.scanner.catalog import load_catalog
from tutela.scanner.catalog.scoping import load_ai_scope_rules
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.sources import parse_document
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.azure import read_live_estate
from tutela.scanner.sources.azure_arm import Fetched, plan_listings, plan_nested_listings
from tutela.scanner.sources.azure_export import export_live_estate

AS_OF = dt.date(2026, 12, 7)
CATALOG = load_catalog()
CHECKS = ["AIF-PROJECT-IDENTITY", "AIF-CONNECTION-SECRET"]
ACCOUNT_CHECKS = ["AOAI-LOCAL-AUTH", "AOAI-PUBLIC-NETWORK", "AOAI-MANAGED-IDENTITY", "AOAI-CMK"]
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
PROJECTS = "microsoft.cognitiveservices/accounts/projects"
CONNECTIONS = "microsoft.cognitiveservices/accounts/connections"
PROJECT_CONNECTIONS = "microsoft.cognitiveservices/accounts/projects/connections"
# Secrets planted in the inputs; none may appear in any report.
LIVE_KEY = "planted0connection0key0AAAAAAAAAAAAAAAAAAAAAAAA=="
TEMPLATE_KEY = "tmplK3y0literal0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
PLAN_KEY = "planK3y0sensitive0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
PLAN_CUSTOM = "planCustomKey0value0AAAAAAAAAAAAAAAAAAAAAAAAA"


def _statuses(resources: list[Resource], check_ids: list[str]) -> dict[tuple[str, str], str]:
    """(check id, resource name) → status."""
    checks = [CATALOG.check(check_id) for check_id in check_ids]
    results = evaluate_estate(Estate(resources), checks, as_of=AS_OF)
    return {(r.check.id, r.resource.name): r.status for r in results}


# --- the live read and `tutela export` ----------------------------------------------------------

RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ai-prod/providers"
FOUNDRY = f"{RG}/Microsoft.CognitiveServices/accounts/aif-contoso-prod"


def _live() -> tuple[Estate, ReplayTransport]:
    transport = ReplayTransport.of("sign_in.json", "estate.json", "foundry.json")
    live = read_live_estate(Principal(), [SUBSCRIPTION], transport=transport)
    return live.estate, transport


def test_a_live_read_lists_projects_and_both_levels_of_connections() -> None:
    estate, transport = _live()
    assert [p.name for p in estate.of_type(PROJECTS)] == ["risk", "sandbox"]
    [shared] = estate.of_type(CONNECTIONS)
    assert estate.parent(shared) is estate.get(FOUNDRY)
    by_name = {c.name: c for c in estate.of_type(PROJECT_CONNECTIONS)}
    assert set(by_name) == {"search-risk", "vendor-api"}
    risk = estate.get(f"{FOUNDRY}/projects/risk")
    assert estate.parent(by_name["search-risk"]) is risk
    # the Foundry lists use the first GA version with projects and connections
    foundry_calls = transport.sent("management.azure.com", "/aif-contoso-prod/")
    lists = [r.url for r in foundry_calls if "/projects" in r.url or "/connections" in r.url]
    assert len(lists) == 4
    assert all("api-version=2025-06-01" in url for url in lists)
    assert not transport.sent("management.azure.com", "/oai-contoso-prod/projects")


def test_a_live_read_judges_the_foundry_checks() -> None:
    estate, _ = _live()
    status = _statuses(list(estate), CHECKS + ACCOUNT_CHECKS)
    assert status[("AIF-PROJECT-IDENTITY", "risk")] == "pass"
    assert status[("AIF-PROJECT-IDENTITY", "sandbox")] == "fail"
    assert status[("AIF-CONNECTION-SECRET", "aoai-shared")] == "fail"
    assert status[("AIF-CONNECTION-SECRET", "search-risk")] == "pass"
    assert status[("AIF-CONNECTION-SECRET", "vendor-api")] == "fail"
    # the AI Services account is judged by the account checks like any other kind
    assert status[("AOAI-LOCAL-AUTH", "aif-contoso-prod")] == "pass"
    assert status[("AOAI-PUBLIC-NETWORK", "aif-contoso-prod")] == "pass"
    assert status[("AOAI-MANAGED-IDENTITY", "aif-contoso-prod")] == "pass"
    assert status[("AOAI-CMK", "aif-contoso-prod")] == "fail"


def test_a_connection_s_credentials_never_enter_the_estate_or_the_export() -> None:
    estate, _ = _live()
    [shared] = estate.of_type(CONNECTIONS)
    assert shared.properties["authType"] == "ApiKey"
    assert "credentials" not in shared.properties
    transport = ReplayTransport.of("sign_in.json", "estate.json", "foundry.json")
    exported = export_live_estate(Principal(), [SUBSCRIPTION], transport=transport)
    text = json.dumps(exported.document())
    assert LIVE_KEY not in text
    assert "aoai-shared" in text


def test_an_export_is_assessed_as_the_live_read() -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json", "foundry.json")
    document = export_live_estate(Principal(), [SUBSCRIPTION], transport=transport).document()
    resources = resources_from_arg(orjson.loads(orjson.dumps(document)), "export.json")
    live, _ = _live()
    assert _statuses(resources, CHECKS) == _statuses(list(live), CHECKS)


def test_only_an_ai_services_account_has_its_projects_and_connections_listed() -> None:
    def paths(kind: str) -> list[str]:
        account = {"id": FOUNDRY, "type": "microsoft.cognitiveservices/accounts", "kind": kind}
        return [listing.path for listing in plan_listings([account], lambda _record: False)]

    assert paths("AIServices") == ["deployments", "raiPolicies", "projects", "connections"]
    assert paths("OpenAI") == ["deployments", "raiPolicies"]
    project = {"id": f"{FOUNDRY}/projects/risk", "type": PROJECTS}
    assert [x.path for x in plan_listings([project], lambda _record: False)] == ["connections"]


def test_a_project_already_in_resource_graph_has_its_connections_listed_once() -> None:
    account = {"id": FOUNDRY, "type": "microsoft.cognitiveservices/accounts", "kind": "AIServices"}
    project = {"id": f"{FOUNDRY}/projects/risk", "type": PROJECTS}
    listed_twice = {"id": f"{FOUNDRY}/projects/other", "type": PROJECTS}
    planned = plan_listings([account, project], lambda _record: False)
    projects = next(listing for listing in planned if listing.path == "projects")
    # ARM lists both projects; the one Resource Graph also returned is not listed again
    fetched = [Fetched(projects, [project, listed_twice])]
    nested = plan_nested_listings(fetched, planned)
    assert [(x.owner_id, x.path) for x in nested] == [(listed_twice["id"], "connections")]
    assert not any(x.is_diagnostics for x in nested)


# --- a Resource Graph export, as a user hands it over -------------------------------------------


def _record(resource_id: str, resource_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": resource_id,
        "name": resource_id.rsplit("/", 1)[-1],
        "type": resource_type,
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": "rg-ai-prod",
        **fields,
    }


def _export_resources() -> list[Resource]:
    project = f"{FOUNDRY}/projects/risk"
    data = [
        _record(
            FOUNDRY,
            "microsoft.cognitiveservices/accounts",
            kind="AIServices",
            location="swedencentral",
            properties={"allowProjectManagement": True, "disableLocalAuth": False},
        ),
        _record(project, PROJECTS, location="swedencentral", identity=None, properties={}),
        _record(
            f"{FOUNDRY}/projects/ops",
            PROJECTS,
            identity={"type": "UserAssigned", "userAssignedIdentities": {"/x": {}}},
            properties={},
        ),
        _record(f"{project}/connections/aad", PROJECT_CONNECTIONS, properties={"authType": "AAD"}),
        _record(f"{project}/connections/sas", PROJECT_CONNECTIONS, properties={"authType": "SAS"}),
        _record(f"{FOUNDRY}/connections/blob", CONNECTIONS, properties={"category": "AzureBlob"}),
    ]
    return resources_from_arg({"data": data}, "export.json")


def test_an_export_gives_pass_fail_and_unknown() -> None:
    status = _statuses(_export_resources(), [*CHECKS, "AOAI-LOCAL-AUTH"])
    assert status[("AIF-PROJECT-IDENTITY", "risk")] == "fail"  # identity null: none
    assert status[("AIF-PROJECT-IDENTITY", "ops")] == "pass"
    assert status[("AIF-CONNECTION-SECRET", "aad")] == "pass"
    assert status[("AIF-CONNECTION-SECRET", "sas")] == "fail"
    assert status[("AIF-CONNECTION-SECRET", "blob")] == "unknown"  # no authType in the record
    assert status[("AOAI-LOCAL-AUTH", "aif-contoso-prod")] == "fail"


def test_projects_and_connections_are_ai_resources_with_their_account() -> None:
    rules = load_ai_scope_rules()
    for resource_type in (PROJECTS, CONNECTIONS, PROJECT_CONNECTIONS):
        rule = rules.ai_rule(resource_type)
        assert rule is not None
        assert rule.type == "microsoft.cognitiveservices/accounts"
    subscription = _record(
        f"/subscriptions/{SUBSCRIPTION}", "microsoft.resources/subscriptions", name="prod"
    )
    estate = Estate([*_export_resources(), *resources_from_arg({"data": [subscription]}, "x")])
    scope = ai_scope(estate)
    assert not any(scope.is_general_purpose(r.type) for r in estate.of_type(PROJECT_CONNECTIONS))
    # the account, its project and their connections are one AI workload
    assert scope.reason(estate.get(f"/subscriptions/{SUBSCRIPTION}")) == (
        "the subscription holds Azure AI Services account 'aif-contoso-prod'"
    )


# --- ARM templates ------------------------------------------------------------------------------


def _template() -> dict[str, Any]:
    """Bicep's output for a Foundry resource: symbolic names, nested and top-level children."""
    account = "[parameters('foundryName')]"
    return {
        "$schema": SCHEMA,
        "languageVersion": "2.0",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "foundryName": {"type": "string", "defaultValue": "aif-risk"},
            "openAiName": {"type": "string", "defaultValue": "oai-shared"},
            "authType": {"type": "string"},
            "identityType": {"type": "string"},
        },
        "resources": {
            "openAi": {
                "existing": True,
                "type": "Microsoft.CognitiveServices/accounts",
                "apiVersion": "2025-06-01",
                "name": "[parameters('openAiName')]",
            },
            "foundry": {
                "type": "Microsoft.CognitiveServices/accounts",
                "apiVersion": "2025-06-01",
                "name": account,
                "location": "swedencentral",
                "kind": "AIServices",
                "sku": {"name": "S0"},
                "identity": {"type": "SystemAssigned"},
                "properties": {
                    "allowProjectManagement": True,
                    "customSubDomainName": account,
                    "publicNetworkAccess": "Enabled",
                    "disableLocalAuth": True,
                },
                "resources": [
                    {
                        "type": "projects",
                        "apiVersion": "2025-06-01",
                        "name": "risk",
                        "location": "swedencentral",
                        "identity": {"type": "SystemAssigned"},
                        "properties": {"displayName": "Credit risk"},
                        "dependsOn": [account],
                    }
                ],
            },
            "sandbox": {
                "type": "Microsoft.CognitiveServices/accounts/projects",
                "apiVersion": "2025-06-01",
                "name": "[format('{0}/{1}', parameters('foundryName'), 'sandbox')]",
                "location": "swedencentral",
                "properties": {},
                "dependsOn": ["foundry"],
            },
            "byParamProject": {
                "type": "Microsoft.CognitiveServices/accounts/projects",
                "apiVersion": "2025-06-01",
                "name": "[format('{0}/{1}', parameters('foundryName'), 'byparam')]",
                "location": "swedencentral",
                "identity": {"type": "[parameters('identityType')]"},
                "properties": {},
                "dependsOn": ["foundry"],
            },
            # the case: the target's key, read with listKeys(), stored in the connection
            "openAiConnection": {
                "type": "Microsoft.CognitiveServices/accounts/connections",
                "apiVersion": "2025-06-01",
                "name": "[format('{0}/{1}', parameters('foundryName'), 'aoai')]",
                "properties": {
                    "category": "AzureOpenAI",
                    "target": "[reference('openAi').endpoint]",
                    "authType": "ApiKey",
                    "isSharedToAll": True,
                    "credentials": {"key": "[listKeys('openAi', '2025-06-01').key1]"},
                },
                "dependsOn": ["foundry"],
            },
            "vendorConnection": {
                "type": "Microsoft.CognitiveServices/accounts/projects/connections",
                "apiVersion": "2025-06-01",
                "name": "[format('{0}/{1}/{2}', parameters('foundryName'), 'risk', 'vendor')]",
                "properties": {
                    "category": "CustomKeys",
                    "target": "https://api.vendor.example/",
                    "authType": "CustomKeys",
                    "credentials": {"keys": {"x-api-key": TEMPLATE_KEY}},
                },
                "dependsOn": ["foundry"],
            },
            "searchConnection": {
                "type": "Microsoft.CognitiveServices/accounts/projects/connections",
                "apiVersion": "2025-06-01",
                "name": "[format('{0}/{1}/{2}', parameters('foundryName'), 'risk', 'search')]",
                "properties": {
                    "category": "CognitiveSearch",
                    "target": "https://srch-risk.search.windows.net/",
                    "authType": "AAD",
                },
                "dependsOn": ["foundry"],
            },
            "paramConnection": {
                "type": "Microsoft.CognitiveServices/accounts/projects/connections",
                "apiVersion": "2025-06-01",
                "name": "[format('{0}/{1}/{2}', parameters('foundryName'), 'sandbox', 'byparam')]",
                "properties": {
                    "category": "AzureBlob",
                    "target": "https://stsandbox.blob.core.windows.net/",
                    "authType": "[parameters('authType')]",
                },
                "dependsOn": ["sandbox"],
            },
        },
    }


def test_a_template_gives_the_foundry_checks_their_properties() -> None:
    resources = parse_document(_template(), "foundry.json")
    estate = Estate(resources)
    by_name = {r.name: r for r in resources}
    assert by_name["risk"].type == PROJECTS
    assert estate.parent(by_name["vendor"]) is by_name["risk"]
    assert estate.parent(by_name["aoai"]) is by_name["aif-risk"]
    status = _statuses(resources, CHECKS + ACCOUNT_CHECKS)
    assert status[("AIF-PROJECT-IDENTITY", "risk")] == "pass"
    assert status[("AIF-PROJECT-IDENTITY", "sandbox")] == "fail"
    assert status[("AIF-PROJECT-IDENTITY", "byparam")] == "unknown"  # a parameter without value
    assert status[("AIF-CONNECTION-SECRET", "aoai")] == "fail"
    assert status[("AIF-CONNECTION-SECRET", "vendor")] == "fail"
    assert status[("AIF-CONNECTION-SECRET", "search")] == "pass"
    assert status[("AIF-CONNECTION-SECRET", "byparam")] == "unknown"
    assert status[("AOAI-LOCAL-AUTH", "aif-risk")] == "pass"
    assert status[("AOAI-PUBLIC-NETWORK", "aif-risk")] == "fail"
    assert status[("AOAI-MANAGED-IDENTITY", "aif-risk")] == "pass"
    assert status[("AOAI-CMK", "aif-risk")] == "fail"


@pytest.mark.parametrize("output_format", ["table", "json", "sarif", "junit", "csv", "html"])
def test_a_key_in_a_template_reaches_no_report(tmp_path: Path, output_format: str) -> None:
    template = tmp_path / "foundry.json"
    template.write_text(json.dumps(_template()), encoding="utf-8")
    report = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "scan",
            str(template),
            "--format",
            output_format,
            "--output",
            str(report),
            "--fail-on",
            "none",
        ],
    )
    assert result.exit_code == 0, result.output
    written = report.read_text(encoding="utf-8")
    assert "AIF-CONNECTION-SECRET" in written
    if output_format == "json":  # the narrative names the resource in the domain's words
        assert "The AI Foundry connection 'aoai' fails AIF-CONNECTION-SECRET" in written
    assert TEMPLATE_KEY not in written
    assert TEMPLATE_KEY not in result.output


def test_a_classic_template_nests_connections_two_levels_down() -> None:
    template = {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.CognitiveServices/accounts",
                "apiVersion": "2025-06-01",
                "name": "aif-nested",
                "location": "swedencentral",
                "kind": "AIServices",
                "properties": {"allowProjectManagement": True},
                "resources": [
                    {
                        "type": "connections",
                        "apiVersion": "2025-06-01",
                        "name": "blob",
                        "properties": {"authType": "AccountKey", "category": "AzureBlob"},
                    },
                    {
                        "type": "projects",
                        "apiVersion": "2025-06-01",
                        "name": "p1",
                        "location": "swedencentral",
                        "resources": [
                            {
                                "type": "connections",
                                "apiVersion": "2025-06-01",
                                "name": "mi",
                                "properties": {"authType": "ManagedIdentity"},
                            }
                        ],
                    },
                ],
            }
        ],
    }
    resources = parse_document(template, "nested.json")
    types = {r.name: r.type for r in resources}
    assert types["blob"] == CONNECTIONS
    assert types["p1"] == PROJECTS
    assert types["mi"] == PROJECT_CONNECTIONS
    status = _statuses(resources, CHECKS)
    assert status[("AIF-CONNECTION-SECRET", "blob")] == "fail"
    assert status[("AIF-CONNECTION-SECRET", "mi")] == "pass"
    assert status[("AIF-PROJECT-IDENTITY", "p1")] == "fail"


# --- Terraform plans ----------------------------------------------------------------------------


def _change(address: str, after: dict[str, Any], unknown: dict[str, Any]) -> dict[str, Any]:
    tf_type = address.split(".")[0]
    change = {"actions": ["create"], "after": after, "after_unknown": unknown}
    return {"address": address, "mode": "managed", "type": tf_type, "change": change}


def _refs(address: str, attribute: str, target: str) -> dict[str, Any]:
    return {
        "address": address,
        "expressions": {attribute: {"references": [f"{target}.id", target]}},
    }


def _plan() -> dict[str, Any]:
    placed = {"resource_group_name": "rg-ai", "location": "swedencentral"}
    connection = {"category": "AzureOpenAI", "target": "https://oai.openai.azure.com/"}
    changes = [
        _change(
            "azurerm_cognitive_account.foundry",
            {
                "name": "aif-risk",
                "kind": "AIServices",
                "sku_name": "S0",
                "local_auth_enabled": True,
                "public_network_access_enabled": False,
                "project_management_enabled": True,
                "custom_subdomain_name": "aif-risk",
                "identity": [{"type": "SystemAssigned", "identity_ids": None}],
                **placed,
            },
            {"id": True},
        ),
        _change(
            "azurerm_ai_services.legacy",
            {
                "name": "ais-legacy",
                "sku_name": "S0",
                "local_authentication_enabled": True,
                **placed,
            },
            {"id": True},
        ),
        _change(
            "azurerm_cognitive_account_project.risk",
            {
                "name": "risk",
                "location": "swedencentral",
                "display_name": "Credit risk",
                "identity": [{"type": "SystemAssigned", "identity_ids": None}],
            },
            {"id": True, "cognitive_account_id": True},
        ),
        _change(
            "azurerm_cognitive_account_project.later",
            {"name": "later", "location": "swedencentral", "identity": [{"identity_ids": None}]},
            {"id": True, "cognitive_account_id": True, "identity": [{"type": True}]},
        ),
        _change(
            "azurerm_cognitive_account_connection.aoai",
            {"name": "aoai", "auth_type": "ApiKey", "api_key": PLAN_KEY, **connection},
            {"id": True, "cognitive_account_id": True},
        ),
        _change(
            "azurerm_cognitive_account_project_connection.vendor",
            {
                "name": "vendor",
                "auth_type": "CustomKeys",
                "custom_keys": {"x-api-key": PLAN_CUSTOM},
                **connection,
            },
            {"id": True, "cognitive_project_id": True},
        ),
        _change(
            "azurerm_cognitive_account_project_connection.search",
            {"name": "search", "auth_type": "AAD", **connection},
            {"id": True, "cognitive_project_id": True},
        ),
        _change(
            "azurerm_cognitive_account_project_connection.later",
            {"name": "later", **connection},
            {"id": True, "cognitive_project_id": True, "auth_type": True},
        ),
    ]
    config = [
        _refs(
            "azurerm_cognitive_account_project.risk",
            "cognitive_account_id",
            "azurerm_cognitive_account.foundry",
        ),
        _refs(
            "azurerm_cognitive_account_project.later",
            "cognitive_account_id",
            "azurerm_cognitive_account.foundry",
        ),
        _refs(
            "azurerm_cognitive_account_connection.aoai",
            "cognitive_account_id",
            "azurerm_cognitive_account.foundry",
        ),
        *(
            _refs(
                f"azurerm_cognitive_account_project_connection.{name}",
                "cognitive_project_id",
                "azurerm_cognitive_account_project.risk",
            )
            for name in ("vendor", "search", "later")
        ),
    ]
    return {
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": config}},
    }


def test_a_plan_maps_projects_and_connections_under_their_parents() -> None:
    resources = parse_document(_plan(), "plan.json")
    estate = Estate(resources)
    by_name = {r.name: r for r in resources}
    account = by_name["aif-risk"]
    assert account.properties["allowProjectManagement"] is True
    project = by_name["risk"]
    assert project.type == PROJECTS
    assert estate.parent(project) is account
    assert estate.parent(by_name["aoai"]) is account
    assert estate.parent(by_name["vendor"]) is project
    assert by_name["vendor"].properties == {
        "authType": "CustomKeys",
        "category": "AzureOpenAI",
        "target": "https://oai.openai.azure.com/",
    }


def test_a_plan_gives_the_foundry_checks_their_properties() -> None:
    resources = parse_document(_plan(), "plan.json")
    status = _statuses(resources, CHECKS + ACCOUNT_CHECKS)
    assert status[("AIF-PROJECT-IDENTITY", "risk")] == "pass"
    assert status[("AIF-PROJECT-IDENTITY", "later")] == "unknown"  # type known after apply
    assert status[("AIF-CONNECTION-SECRET", "aoai")] == "fail"
    assert status[("AIF-CONNECTION-SECRET", "vendor")] == "fail"
    assert status[("AIF-CONNECTION-SECRET", "search")] == "pass"
    assert status[("AIF-CONNECTION-SECRET", "later")] == "unknown"
    assert status[("AOAI-LOCAL-AUTH", "aif-risk")] == "fail"
    assert status[("AOAI-LOCAL-AUTH", "ais-legacy")] == "fail"
    assert status[("AOAI-PUBLIC-NETWORK", "aif-risk")] == "pass"
    assert status[("AOAI-PUBLIC-NETWORK", "ais-legacy")] == "fail"
    assert status[("AOAI-MANAGED-IDENTITY", "aif-risk")] == "pass"
    assert status[("AOAI-MANAGED-IDENTITY", "ais-legacy")] == "fail"


def test_a_plan_s_connection_secrets_reach_no_report(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan()), encoding="utf-8")
    for output_format in ("json", "sarif", "csv", "html", "junit", "table"):
        report = tmp_path / f"report.{output_format}"
        args = ["scan", str(plan), "--format", output_format, "--output", str(report)]
        result = CliRunner().invoke(app, [*args, "--fail-on", "none"])
        assert result.exit_code == 0, result.output
        written = report.read_text(encoding="utf-8")
        assert "AIF-CONNECTION-SECRET" in written
        for secret in (PLAN_KEY, PLAN_CUSTOM):
            assert secret not in written
            assert secret not in result.output
