"""Declared fixes of the container registry and AKS checks: the failing resource, fixed, passes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scanner.fixes.harness import assert_fix_passes
from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Resource

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
GROUP = f"{SUB}/resourceGroups/rg-models"
REGISTRY = f"{GROUP}/providers/Microsoft.ContainerRegistry/registries/crmodels"
CLUSTER = f"{GROUP}/providers/Microsoft.ContainerService/managedClusters/aks-scoring"
WORKSPACE = f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/law-audit"
SUBNET = f"{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pe"


def registry(sku: str = "Premium", **properties: Any) -> Resource:
    return Resource(
        id=REGISTRY,
        type="microsoft.containerregistry/registries",
        name="crmodels",
        subscription_id=SUB.rsplit("/", 1)[-1],
        resource_group="rg-models",
        location="westeurope",
        sku={"name": sku},
        properties=dict(properties),
        diagnostic_settings=[],
    )


def cluster(**properties: Any) -> Resource:
    return Resource(
        id=CLUSTER,
        type="microsoft.containerservice/managedclusters",
        name="aks-scoring",
        subscription_id=SUB.rsplit("/", 1)[-1],
        resource_group="rg-models",
        location="westeurope",
        properties=dict(properties),
        diagnostic_settings=[],
    )


def value_at(resource: Resource, path: str) -> Any:
    head, *steps = path.split(".")
    node: Any = getattr(resource, head)
    for step in steps:
        node = node[step]
    return node


# check, failing resource, params, the values the fixed resource must carry
PROPERTY_FIXES = [
    (
        "ACR-ADMIN-USER",
        registry(adminUserEnabled=True),
        {},
        {"properties.adminUserEnabled": False},
    ),
    (
        "ACR-ANON-PULL",
        registry(anonymousPullEnabled=True),
        {},
        {"properties.anonymousPullEnabled": False},
    ),
    (
        "ACR-QUARANTINE",
        registry(policies={"quarantinePolicy": {"status": "disabled"}}),
        {},
        {"properties.policies.quarantinePolicy.status": "enabled"},
    ),
    (
        "ACR-TRUST-POLICY",
        registry(policies={"trustPolicy": {"status": "disabled"}}),
        {},
        {
            "properties.policies.trustPolicy.status": "enabled",
            "properties.policies.trustPolicy.type": "Notary",
        },
    ),
    (
        "ACR-RETENTION",
        registry(policies={"retentionPolicy": {"days": 7, "status": "disabled"}}),
        {"retention_days": 30},
        {
            "properties.policies.retentionPolicy.status": "enabled",
            "properties.policies.retentionPolicy.days": 30,
        },
    ),
    ("ACR-SKU", registry(sku="Standard"), {}, {"sku.name": "Premium"}),
    (
        "ACR-EXPORT",
        registry(publicNetworkAccess="Enabled", policies={"exportPolicy": {"status": "enabled"}}),
        {},
        {
            "properties.policies.exportPolicy.status": "disabled",
            "properties.publicNetworkAccess": "Disabled",
        },
    ),
    (
        "AKS-AAD",
        cluster(enableRBAC=True),
        {"admin_group_object_ids": ["11111111-2222-3333-4444-555555555555"]},
        {
            "properties.aadProfile.managed": True,
            "properties.aadProfile.enableAzureRBAC": True,
            "properties.aadProfile.adminGroupObjectIDs": ["11111111-2222-3333-4444-555555555555"],
        },
    ),
    (
        "AKS-LOCAL-ACCOUNTS",
        cluster(disableLocalAccounts=False),
        {},
        {"properties.disableLocalAccounts": True},
    ),
    (
        "AKS-NETWORK-POLICY",
        cluster(networkProfile={"networkPlugin": "azure", "networkPolicy": "none"}),
        {"network_policy_engine": "calico"},
        {
            "properties.networkProfile.networkPolicy": "calico",
            "properties.networkProfile.networkPlugin": "azure",
        },
    ),
    (
        "AKS-API-EXPOSURE",
        cluster(apiServerAccessProfile={"authorizedIPRanges": ["0.0.0.0/0"]}),
        {"authorized_ip_ranges": ["203.0.113.0/24"]},
        {"properties.apiServerAccessProfile.authorizedIPRanges": ["203.0.113.0/24"]},
    ),
    (
        "AKS-POLICY-ADDON",
        cluster(addonProfiles={"azurepolicy": {"enabled": False}}),
        {},
        {"properties.addonProfiles.azurepolicy.enabled": True},
    ),
    (
        "AKS-DEFENDER",
        cluster(securityProfile={}),
        {"log_analytics_workspace_id": WORKSPACE},
        {
            "properties.securityProfile.defender.securityMonitoring.enabled": True,
            "properties.securityProfile.defender.logAnalyticsWorkspaceResourceId": WORKSPACE,
        },
    ),
    (
        "AKS-AUTO-UPGRADE",
        cluster(autoUpgradeProfile={"upgradeChannel": "none", "nodeOSUpgradeChannel": "None"}),
        {},
        {
            "properties.autoUpgradeProfile.upgradeChannel": "patch",
            "properties.autoUpgradeProfile.nodeOSUpgradeChannel": "NodeImage",
        },
    ),
]


@pytest.mark.parametrize(
    ("check_id", "failing", "params", "expected"),
    PROPERTY_FIXES,
    ids=[case[0] for case in PROPERTY_FIXES],
)
def test_property_fix_makes_the_failing_resource_pass(
    check_id: str, failing: Resource, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    fixed = assert_fix_passes(check_id, [failing], failing.id, params)
    resource = fixed.get(failing.id)
    assert resource is not None
    for path, value in expected.items():
        assert value_at(resource, path) == value, path


def test_fixes_keep_the_other_registry_policies() -> None:
    policies = {"exportPolicy": {"status": "enabled"}, "retentionPolicy": {"status": "disabled"}}
    fixed = assert_fix_passes(
        "ACR-RETENTION", [registry(policies=policies)], REGISTRY, {"retention_days": 7}
    )
    resource = fixed.get(REGISTRY)
    assert resource is not None
    assert resource.properties["policies"]["exportPolicy"] == {"status": "enabled"}


def test_public_registry_is_closed_and_reached_through_a_private_endpoint() -> None:
    failing = registry(publicNetworkAccess="Enabled", networkRuleSet={"defaultAction": "Allow"})
    fixed = assert_fix_passes(
        "ACR-PUBLIC-ACCESS", [failing], REGISTRY, {"private_endpoint_subnet_id": SUBNET}
    )
    resource = fixed.get(REGISTRY)
    assert resource is not None
    assert resource.properties["publicNetworkAccess"] == "Disabled"
    [connection] = resource.properties["privateEndpointConnections"]
    assert connection["properties"]["privateEndpoint"]["id"].endswith(
        "/privateEndpoints/pe-crmodels-registry"
    )
    fix = load_catalog().check("ACR-PUBLIC-ACCESS").fix
    assert fix is not None
    [endpoint] = fix.add
    [link] = endpoint.properties["privateLinkServiceConnections"]
    assert link["properties"]["groupIds"] == ["registry"]


@pytest.mark.parametrize(
    ("check_id", "failing", "categories"),
    [
        (
            "ACR-DIAG-LOGS",
            registry(),
            ["ContainerRegistryLoginEvents", "ContainerRegistryRepositoryEvents"],
        ),
        ("AKS-AUDIT-LOGS", cluster(), ["kube-audit-admin"]),
    ],
)
def test_diagnostic_setting_sends_the_audit_logs_to_the_workspace(
    check_id: str, failing: Resource, categories: list[str]
) -> None:
    fixed = assert_fix_passes(
        check_id, [failing], failing.id, {"log_analytics_workspace_id": WORKSPACE}
    )
    resource = fixed.get(failing.id)
    assert resource is not None
    assert resource.diagnostic_settings is not None
    [setting] = resource.diagnostic_settings
    assert setting["properties"]["workspaceId"] == WORKSPACE
    assert [log["category"] for log in setting["properties"]["logs"]] == categories
    assert all(log["enabled"] is True for log in setting["properties"]["logs"])
