"""Declared fixes of the Application Insights checks and the newer registry and AKS checks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scanner.fixes.harness import assert_fix_passes
from tutela.scanner.estate import Resource

SUB = "00000000-0000-0000-0000-000000000001"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-models"
COMPONENT = f"{GROUP}/providers/Microsoft.Insights/components/appi-scoring"
REGISTRY = f"{GROUP}/providers/Microsoft.ContainerRegistry/registries/crmodels"
CLUSTER = f"{GROUP}/providers/Microsoft.ContainerService/managedClusters/aks-scoring"
WORKSPACE = f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/law-audit"


def _resource(resource_id: str, resource_type: str, **fields: Any) -> Resource:
    return Resource(
        id=resource_id,
        type=resource_type,
        name=resource_id.rsplit("/", 1)[-1],
        subscription_id=SUB,
        resource_group="rg-models",
        location="westeurope",
        **fields,
    )


def component(**properties: Any) -> Resource:
    return _resource(COMPONENT, "microsoft.insights/components", properties=dict(properties))


def registry(**properties: Any) -> Resource:
    return _resource(
        REGISTRY,
        "microsoft.containerregistry/registries",
        sku={"name": "Premium"},
        properties=dict(properties),
    )


def cluster(sku: dict[str, Any] | None = None, **properties: Any) -> Resource:
    return _resource(
        CLUSTER,
        "microsoft.containerservice/managedclusters",
        sku=sku,
        tags={"environment": "production"},
        properties=dict(properties),
    )


def value_at(resource: Resource, path: str) -> Any:
    head, *steps = path.split(".")
    node: Any = getattr(resource, head)
    for step in steps:
        node = node[step]
    return node


# check, failing resource, params, the values the fixed resource must carry
FIXES = [
    (
        "APPI-LOCAL-AUTH",
        component(DisableLocalAuth=False),
        {},
        {"properties.DisableLocalAuth": True},
    ),
    (
        "APPI-PUBLIC-INGESTION",
        component(publicNetworkAccessForIngestion="Enabled", publicNetworkAccessForQuery="Enabled"),
        {},
        {
            "properties.publicNetworkAccessForIngestion": "Disabled",
            "properties.publicNetworkAccessForQuery": "Enabled",
        },
    ),
    (
        "APPI-PUBLIC-QUERY",
        component(publicNetworkAccessForQuery="Enabled"),
        {},
        {"properties.publicNetworkAccessForQuery": "Disabled"},
    ),
    (
        "APPI-CLASSIC",
        component(IngestionMode="ApplicationInsights"),
        {"log_analytics_workspace_id": WORKSPACE},
        {"properties.WorkspaceResourceId": WORKSPACE},
    ),
    (
        "ACR-DATA-ENDPOINT",
        registry(dataEndpointEnabled=False),
        {},
        {"properties.dataEndpointEnabled": True},
    ),
    (
        "AKS-FREE-TIER",
        cluster(sku={"name": "Base", "tier": "Free"}),
        {},
        {"sku.tier": "Standard", "sku.name": "Base"},
    ),
    (
        "AKS-HTTP-APP-ROUTING",
        cluster(addonProfiles={"httpApplicationRouting": {"enabled": True}}),
        {},
        {"properties.addonProfiles.httpApplicationRouting.enabled": False},
    ),
    (
        "AKS-MONITORING",
        cluster(addonProfiles={"omsagent": {"enabled": False}}),
        {"log_analytics_workspace_id": WORKSPACE},
        {
            "properties.addonProfiles.omsagent.enabled": True,
            "properties.addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID": WORKSPACE,
        },
    ),
    (
        "AKS-KV-SECRET-ROTATION",
        cluster(
            addonProfiles={
                "azureKeyvaultSecretsProvider": {
                    "enabled": True,
                    "config": {"enableSecretRotation": "false", "rotationPollInterval": "5m"},
                }
            }
        ),
        {},
        {
            "properties.addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation": (
                "true"
            ),
            "properties.addonProfiles.azureKeyvaultSecretsProvider.config.rotationPollInterval": (
                "5m"
            ),
        },
    ),
]


@pytest.mark.parametrize(
    ("check_id", "failing", "params", "expected"), FIXES, ids=[case[0] for case in FIXES]
)
def test_fix_makes_the_failing_resource_pass(
    check_id: str, failing: Resource, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    fixed = assert_fix_passes(check_id, [failing], failing.id, params)
    resource = fixed.get(failing.id)
    assert resource is not None
    for path, value in expected.items():
        assert value_at(resource, path) == value, path
