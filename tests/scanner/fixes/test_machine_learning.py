"""The declared fixes of the Machine Learning and model-inventory checks make failures pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scanner.fixes.harness import assert_fix_passes, fixed_property
from tutela.scanner.estate import Resource

SUB_ID = "00000000-0000-0000-0000-000000000001"
GROUP = f"/subscriptions/{SUB_ID}/resourceGroups/rg-ml"
WORKSPACE = f"{GROUP}/providers/Microsoft.MachineLearningServices/workspaces/ws1"
ENDPOINT = f"{WORKSPACE}/onlineEndpoints/score1"
ACCOUNT = f"{GROUP}/providers/Microsoft.CognitiveServices/accounts/aoai1"
DEPLOYMENT = f"{ACCOUNT}/deployments/gpt"
LOG_ANALYTICS = f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/law1"
SUBNET = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/pe"


def resource(resource_id: str, resource_type: str, **fields: Any) -> Resource:
    return Resource(
        id=resource_id,
        type=resource_type,
        name=resource_id.rsplit("/", 1)[-1],
        subscription_id=SUB_ID,
        resource_group="rg-ml",
        location="westeurope",
        **fields,
    )


def workspace(**properties: Any) -> Resource:
    return resource(
        WORKSPACE,
        "microsoft.machinelearningservices/workspaces",
        kind="Default",
        properties=dict(properties),
        diagnostic_settings=[],
    )


def endpoint(**properties: Any) -> Resource:
    return resource(
        ENDPOINT,
        "microsoft.machinelearningservices/workspaces/onlineendpoints",
        properties=dict(properties),
    )


@pytest.mark.parametrize(
    ("check_id", "failing", "path", "fixed_value"),
    [
        (
            "AML-WS-PUBLIC-ACCESS",
            workspace(publicNetworkAccess="Enabled"),
            ("publicNetworkAccess",),
            "Disabled",
        ),
        (
            "AML-WS-MANAGED-NET",
            workspace(managedNetwork={"isolationMode": "AllowInternetOutbound"}),
            ("managedNetwork", "isolationMode"),
            "AllowOnlyApprovedOutbound",
        ),
        ("AML-ENDPOINT-AUTH", endpoint(authMode="Key"), ("authMode",), "AADToken"),
        (
            "AML-ENDPOINT-PUBLIC",
            endpoint(authMode="AADToken", publicNetworkAccess="Enabled"),
            ("publicNetworkAccess",),
            "Disabled",
        ),
    ],
)
def test_a_property_fix_sets_the_documented_value(
    check_id: str, failing: Resource, path: tuple[str, ...], fixed_value: str
) -> None:
    fixed = assert_fix_passes(check_id, [failing], failing.id)
    assert fixed_property(fixed, failing.id, path) == fixed_value


def test_the_managed_network_fix_keeps_the_outbound_rules() -> None:
    rules = {"pypi": {"type": "FQDN", "destination": "pypi.org"}}
    failing = workspace(managedNetwork={"isolationMode": "Disabled", "outboundRules": rules})
    fixed = assert_fix_passes("AML-WS-MANAGED-NET", [failing], WORKSPACE)
    ws = fixed.get(WORKSPACE)
    assert ws is not None
    assert ws.properties["managedNetwork"]["outboundRules"] == rules


def test_the_private_link_fix_adds_an_approved_amlworkspace_endpoint() -> None:
    fixed = assert_fix_passes(
        "AML-WS-PRIVATE-LINK",
        [workspace(privateEndpointConnections=[])],
        WORKSPACE,
        {"private_endpoint_subnet_id": SUBNET},
    )
    ws = fixed.get(WORKSPACE)
    assert ws is not None
    (connection,) = ws.properties["privateEndpointConnections"]
    endpoint_id = connection["properties"]["privateEndpoint"]["id"]
    assert endpoint_id.lower() == (
        f"{GROUP}/providers/Microsoft.Network/privateEndpoints/pe-ws1-amlworkspace".lower()
    )


def test_the_diagnostic_fix_sends_all_logs_to_the_given_workspace() -> None:
    fixed = assert_fix_passes(
        "AML-WS-DIAG-LOGS", [workspace()], WORKSPACE, {"log_analytics_workspace_id": LOG_ANALYTICS}
    )
    ws = fixed.get(WORKSPACE)
    assert ws is not None
    assert ws.diagnostic_settings is not None
    (setting,) = ws.diagnostic_settings
    assert setting["properties"]["workspaceId"] == LOG_ANALYTICS
    assert setting["properties"]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


def inventory_resources(account_tags: dict[str, str]) -> list[Resource]:
    """An untagged deployment whose parent account carries ``account_tags``."""
    return [
        resource(ACCOUNT, "microsoft.cognitiveservices/accounts", kind="OpenAI", tags=account_tags),
        resource(DEPLOYMENT, "microsoft.cognitiveservices/accounts/deployments"),
    ]


@pytest.mark.parametrize(
    ("check_id", "account_tags", "param", "value", "tag"),
    [
        ("INV-MODEL-OWNER", {}, "model_owner", "ml-risk@example.com", "model-owner"),
        ("INV-MODEL-ID", {"model_id": " "}, "model_id", "MRM-0042", "model-id"),
        # A tier outside the house policy's on the parent: the deployment's own tag wins.
        (
            "INV-RISK-TIER",
            {"model-risk-tier": "urgent"},
            "model_risk_tier",
            "tier-2",
            "model-risk-tier",
        ),
        (
            "INV-VALIDATION-DATE",
            {"model-validation-date": "2024-01-31"},
            "model_validation_date",
            "2026-11-30",
            "model-validation-date",
        ),
    ],
)
def test_an_inventory_fix_tags_the_failing_resource(
    check_id: str, account_tags: dict[str, str], param: str, value: str, tag: str
) -> None:
    fixed = assert_fix_passes(
        check_id, inventory_resources(account_tags), DEPLOYMENT, {param: value}
    )
    deployment = fixed.get(DEPLOYMENT)
    assert deployment is not None
    assert deployment.tags == {tag: value}


def test_the_identity_fix_makes_a_user_assigned_identity_primary_and_keeps_the_system_one() -> None:
    identity_id = (
        f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ws1".lower()
    )
    failing = workspace()
    failing.identity = {"type": "SystemAssigned", "principalId": "p"}
    fixed = assert_fix_passes(
        "AML-WS-IDENTITY",
        [failing],
        WORKSPACE,
        {"user_assigned_identity_id": identity_id, "user_assigned_identities": {identity_id: {}}},
    )
    ws = fixed.get(WORKSPACE)
    assert ws is not None
    assert ws.properties["primaryUserAssignedIdentity"] == identity_id
    assert ws.identity == {
        "type": "SystemAssigned,UserAssigned",
        "principalId": "p",
        "userAssignedIdentities": {identity_id: {}},
    }
