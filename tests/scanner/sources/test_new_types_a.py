"""Application Insights, registry replications and the newer AKS settings from templates and plans.

Each source must give the checks the ARM properties they read, and the ML workspace's link to its
Application Insights component must put the component in the workspace's AI workload.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.ai_scope import ai_scope
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import UNKNOWN, Estate, Resource
from tutela.scanner.sources import parse_document
from tutela.scanner.sources.arm import PLACEHOLDER_SUBSCRIPTION_ID
from tutela.scanner.sources.terraform import PLACEHOLDER_SUBSCRIPTION

AS_OF = dt.date(2026, 12, 7)
CATALOG = load_catalog()
NEW_CHECKS = [
    "APPI-LOCAL-AUTH",
    "APPI-PUBLIC-INGESTION",
    "APPI-PUBLIC-QUERY",
    "APPI-CLASSIC",
    "ACR-GEO-REPLICATION",
    "ACR-DATA-ENDPOINT",
    "AKS-FREE-TIER",
    "AKS-HTTP-APP-ROUTING",
    "AKS-MONITORING",
    "AKS-DISK-CMK",
    "AKS-KV-SECRET-ROTATION",
]
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def _statuses(resources: list[Resource]) -> dict[tuple[str, str], str]:
    """(check id, resource name) → status, for the new checks."""
    checks = [CATALOG.check(check_id) for check_id in NEW_CHECKS]
    results = evaluate_estate(Estate(resources), checks, as_of=AS_OF)
    return {(r.check.id, r.resource.name): r.status for r in results}


# --- ARM templates ------------------------------------------------------------------------------


def _template() -> dict[str, Any]:
    law = "[resourceId('Microsoft.OperationalInsights/workspaces', 'law-ml')]"
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.Insights/components",
                "apiVersion": "2020-02-02",
                "name": "appi-ml",
                "location": "westeurope",
                "kind": "web",
                "properties": {
                    "Application_Type": "web",
                    "WorkspaceResourceId": law,
                    "DisableLocalAuth": True,
                    "publicNetworkAccessForIngestion": "Enabled",
                    "publicNetworkAccessForQuery": "Disabled",
                },
            },
            {
                "type": "Microsoft.Insights/components",
                "apiVersion": "2020-02-02",
                "name": "appi-legacy",
                "location": "westeurope",
                "kind": "web",
                # camel case, as templates are often written; no workspace: classic
                "properties": {"Application_Type": "web", "disableLocalAuth": False},
            },
            {
                "type": "Microsoft.MachineLearningServices/workspaces",
                "apiVersion": "2024-10-01",
                "name": "mlw-risk",
                "location": "westeurope",
                "properties": {
                    "applicationInsights": (
                        "[resourceId('Microsoft.Insights/components', 'appi-ml')]"
                    ),
                },
            },
            {
                "type": "Microsoft.ContainerRegistry/registries",
                "apiVersion": "2023-07-01",
                "name": "crmodels",
                "location": "westeurope",
                "sku": {"name": "Premium"},
                "tags": {"environment": "Production"},
                "properties": {"dataEndpointEnabled": True},
                "resources": [
                    {
                        "type": "replications",
                        "apiVersion": "2023-07-01",
                        "name": "northeurope",
                        "location": "northeurope",
                        "properties": {},
                    }
                ],
            },
            {
                "type": "Microsoft.ContainerService/managedClusters",
                "apiVersion": "2024-09-01",
                "name": "aks-scoring",
                "location": "westeurope",
                "tags": {"env": "prod"},
                "properties": {
                    "enableRBAC": True,
                    "addonProfiles": {
                        "omsAgent": {"enabled": True},
                        "azureKeyvaultSecretsProvider": {
                            "enabled": True,
                            "config": {"enableSecretRotation": "false"},
                        },
                    },
                },
            },
        ],
    }


def test_a_template_gives_the_new_checks_their_properties() -> None:
    resources = parse_document(_template(), "template.json")
    status = _statuses(resources)
    assert status[("APPI-LOCAL-AUTH", "appi-ml")] == "pass"
    assert status[("APPI-LOCAL-AUTH", "appi-legacy")] == "fail"
    assert status[("APPI-PUBLIC-INGESTION", "appi-ml")] == "fail"
    assert status[("APPI-PUBLIC-QUERY", "appi-ml")] == "pass"
    assert status[("APPI-PUBLIC-QUERY", "appi-legacy")] == "fail"
    assert status[("APPI-CLASSIC", "appi-ml")] == "pass"
    assert status[("APPI-CLASSIC", "appi-legacy")] == "fail"
    # the replication declared inside the registry is its child resource, in another region
    assert status[("ACR-GEO-REPLICATION", "crmodels")] == "pass"
    assert status[("ACR-DATA-ENDPOINT", "crmodels")] == "pass"
    # no sku: the Free tier, which a production cluster fails
    assert status[("AKS-FREE-TIER", "aks-scoring")] == "fail"
    assert status[("AKS-HTTP-APP-ROUTING", "aks-scoring")] == "pass"
    assert status[("AKS-MONITORING", "aks-scoring")] == "pass"
    assert status[("AKS-DISK-CMK", "aks-scoring")] == "fail"
    assert status[("AKS-KV-SECRET-ROTATION", "aks-scoring")] == "fail"


def test_a_template_links_the_workspace_to_its_application_insights() -> None:
    estate = Estate(parse_document(_template(), "template.json"))
    scope = ai_scope(estate)
    by_name = {r.name: r for r in estate}
    assert scope.reason(by_name["appi-ml"]) == (
        "Application Insights component of Azure ML workspace 'mlw-risk'"
    )
    assert scope.reason(by_name["appi-legacy"]) is None
    assert by_name["appi-ml"].id == (
        f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-template"
        "/providers/Microsoft.Insights/components/appi-ml"
    )


# --- Terraform plans ----------------------------------------------------------------------------


def _change(address: str, after: dict[str, Any], unknown: dict[str, Any]) -> dict[str, Any]:
    tf_type = address.split(".")[0]
    change = {"actions": ["create"], "after": after, "after_unknown": unknown}
    return {"address": address, "mode": "managed", "type": tf_type, "change": change}


def _plan() -> dict[str, Any]:
    placed = {"resource_group_name": "rg-ml", "location": "westeurope"}
    changes = [
        _change("azurerm_log_analytics_workspace.law", {"name": "law-ml", **placed}, {"id": True}),
        _change(
            "azurerm_application_insights.ml",
            {
                "name": "appi-ml",
                "application_type": "web",
                "local_authentication_disabled": True,
                "internet_ingestion_enabled": False,
                "internet_query_enabled": True,
                **placed,
            },
            {"id": True, "workspace_id": True},
        ),
        # azurerm's defaults, and no workspace_id: Azure attaches one, known only after apply
        _change(
            "azurerm_application_insights.legacy",
            {
                "name": "appi-legacy",
                "application_type": "web",
                "local_authentication_disabled": False,
                "internet_ingestion_enabled": True,
                "internet_query_enabled": True,
                **placed,
            },
            {"id": True, "workspace_id": True},
        ),
        _change(
            "azurerm_machine_learning_workspace.risk",
            {"name": "mlw-risk", **placed},
            {"id": True, "application_insights_id": True},
        ),
        _change(
            "azurerm_container_registry.models",
            {
                "name": "crmodels",
                "sku": "Premium",
                "data_endpoint_enabled": False,
                "tags": {"stage": "prd"},
                **placed,
            },
            {"id": True},
        ),
        _change(
            "azurerm_kubernetes_cluster.scoring",
            {
                "name": "aks-scoring",
                "sku_tier": "Standard",
                "http_application_routing_enabled": True,
                "monitor_metrics": [{"annotations_allowed": None, "labels_allowed": None}],
                "key_vault_secrets_provider": [{"secret_rotation_enabled": True}],
                "tags": {"Environment": "Production"},
                **placed,
            },
            {"id": True, "disk_encryption_set_id": True},
        ),
    ]
    config = [
        {
            "address": "azurerm_application_insights.ml",
            "expressions": {
                "workspace_id": {
                    "references": [
                        "azurerm_log_analytics_workspace.law.id",
                        "azurerm_log_analytics_workspace.law",
                    ]
                }
            },
        },
        {
            "address": "azurerm_machine_learning_workspace.risk",
            "expressions": {
                "application_insights_id": {
                    "references": [
                        "azurerm_application_insights.ml.id",
                        "azurerm_application_insights.ml",
                    ]
                }
            },
        },
    ]
    return {
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": config}},
    }


def test_the_terraform_reader_maps_application_insights() -> None:
    resources = {r.name: r for r in parse_document(_plan(), "plan.json")}
    component = resources["appi-ml"]
    assert component.type == "microsoft.insights/components"
    assert component.kind == "web"
    group = f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}/resourceGroups/rg-ml/providers"
    assert component.properties == {
        "Application_Type": "web",
        "WorkspaceResourceId": f"{group}/Microsoft.OperationalInsights/workspaces/law-ml",
        "DisableLocalAuth": True,
        "publicNetworkAccessForIngestion": "Disabled",
        "publicNetworkAccessForQuery": "Enabled",
    }
    assert resources["appi-legacy"].properties["WorkspaceResourceId"] is UNKNOWN


def test_a_plan_gives_the_new_checks_their_properties() -> None:
    status = _statuses(parse_document(_plan(), "plan.json"))
    assert status[("APPI-LOCAL-AUTH", "appi-ml")] == "pass"
    assert status[("APPI-LOCAL-AUTH", "appi-legacy")] == "fail"
    assert status[("APPI-PUBLIC-INGESTION", "appi-ml")] == "pass"
    assert status[("APPI-PUBLIC-QUERY", "appi-ml")] == "fail"
    assert status[("APPI-CLASSIC", "appi-ml")] == "pass"
    assert status[("APPI-CLASSIC", "appi-legacy")] == "unknown"
    assert status[("ACR-DATA-ENDPOINT", "crmodels")] == "fail"
    # a plan declares every replication (georeplications): none beyond the home region
    assert status[("ACR-GEO-REPLICATION", "crmodels")] == "fail"
    assert status[("AKS-FREE-TIER", "aks-scoring")] == "pass"
    assert status[("AKS-HTTP-APP-ROUTING", "aks-scoring")] == "fail"
    assert status[("AKS-MONITORING", "aks-scoring")] == "pass"
    assert status[("AKS-DISK-CMK", "aks-scoring")] == "unknown"
    assert status[("AKS-KV-SECRET-ROTATION", "aks-scoring")] == "pass"


def test_a_plan_links_the_workspace_to_its_application_insights() -> None:
    estate = Estate(parse_document(_plan(), "plan.json"))
    scope = ai_scope(estate)
    by_name = {r.name: r for r in estate}
    assert scope.reason(by_name["appi-ml"]) == (
        "Application Insights component of Azure ML workspace 'mlw-risk'"
    )
    assert scope.reason(by_name["appi-legacy"]) is None


def _registry_plan(georeplications: Any, sku: str = "Premium") -> dict[str, Any]:
    values = {"name": "crmodels", "sku": sku, "resource_group_name": "rg-ml"}
    values |= {"location": "westeurope", "tags": {"env": "prod"}}
    unknown = {"id": True}
    if georeplications is UNKNOWN:
        unknown["georeplications"] = True
    else:
        values["georeplications"] = georeplications
    change = _change("azurerm_container_registry.models", values, unknown)
    return {"format_version": "1.2", "resource_changes": [change]}


def test_a_plan_s_georeplications_are_the_registry_s_replications() -> None:
    plan = _registry_plan([{"location": "northeurope", "zone_redundancy_enabled": True}])
    resources = parse_document(plan, "plan.json")
    replicas = sorted(
        (r.name, r.location, r.origin)
        for r in resources
        if r.type == "microsoft.containerregistry/registries/replications"
    )
    assert replicas == [
        ("northeurope", "northeurope", "plan.json: azurerm_container_registry.models"),
        ("westeurope", "westeurope", "plan.json: azurerm_container_registry.models"),
    ]
    assert _statuses(resources)[("ACR-GEO-REPLICATION", "crmodels")] == "pass"


def test_georeplications_known_only_after_apply_leave_the_check_unknown() -> None:
    resources = parse_document(_registry_plan(UNKNOWN), "plan.json")
    assert _statuses(resources)[("ACR-GEO-REPLICATION", "crmodels")] == "unknown"


def test_a_standard_registry_has_no_replication_and_fails() -> None:
    resources = parse_document(_registry_plan([], sku="Standard"), "plan.json")
    assert "microsoft.containerregistry/registries/replications" not in {r.type for r in resources}
    assert _statuses(resources)[("ACR-GEO-REPLICATION", "crmodels")] == "fail"
