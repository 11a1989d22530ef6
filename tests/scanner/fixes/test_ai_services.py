"""Declared fixes of the AI Services and AI Search checks make the failing resource pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scanner.fixes.harness import assert_fix_passes, fixed_property, status
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.fixes import apply_fix
from tutela.scanner.estate import Estate, Resource

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
GROUP = f"{SUB}/resourceGroups/rg-ai"
ACCOUNT = f"{GROUP}/providers/Microsoft.CognitiveServices/accounts/aoai1"
DEPLOYMENT = f"{ACCOUNT}/deployments/gpt4o"
SEARCH = f"{GROUP}/providers/Microsoft.Search/searchServices/srch1"
WORKSPACE = f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/law1"
SUBNET = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/endpoints"


def account(kind: str = "OpenAI", **properties: Any) -> Resource:
    return Resource(
        id=ACCOUNT,
        type="microsoft.cognitiveservices/accounts",
        name="aoai1",
        subscription_id=SUB.rsplit("/", 1)[-1],
        resource_group="rg-ai",
        location="swedencentral",
        kind=kind,
        sku={"name": "S0"},
        properties=dict(properties),
        diagnostic_settings=[],
    )


def deployment(sku: str = "Standard", **properties: Any) -> Resource:
    return Resource(
        id=DEPLOYMENT,
        type="microsoft.cognitiveservices/accounts/deployments",
        name="gpt4o",
        subscription_id=SUB.rsplit("/", 1)[-1],
        resource_group="rg-ai",
        sku={"name": sku, "capacity": 10},
        properties={"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}
        | properties,
    )


def search(sku: str = "basic", **properties: Any) -> Resource:
    return Resource(
        id=SEARCH,
        type="microsoft.search/searchservices",
        name="srch1",
        subscription_id=SUB.rsplit("/", 1)[-1],
        resource_group="rg-ai",
        location="swedencentral",
        sku={"name": sku},
        properties=dict(properties),
        diagnostic_settings=[],
    )


@pytest.mark.parametrize(
    ("check_id", "failing", "params", "path", "expected"),
    [
        ("AOAI-LOCAL-AUTH", account(), None, ("disableLocalAuth",), True),
        (
            "AOAI-PUBLIC-NETWORK",
            account(publicNetworkAccess="Enabled"),
            None,
            ("publicNetworkAccess",),
            "Disabled",
        ),
        (
            "AOAI-OUTBOUND-RESTRICT",
            account(kind="AIServices"),
            {"allowed_fqdns": ["srch1.search.windows.net"]},
            ("allowedFqdnList",),
            ["srch1.search.windows.net"],
        ),
        (
            "AOAI-CUSTOM-SUBDOMAIN",
            account(),
            {"custom_subdomain_name": "aoai1-contoso"},
            ("customSubDomainName",),
            "aoai1-contoso",
        ),
        (
            "AOAI-CMK",
            account(kind="OpenAI", encryption={"keySource": "Microsoft.CognitiveServices"}),
            {
                "key_vault_uri": "https://kv1.vault.azure.net/",
                "key_name": "aoai-cmk",
                "key_version": "0123456789abcdef0123456789abcdef",
                "identity_client_id": "11111111-2222-3333-4444-555555555555",
            },
            ("encryption", "keyVaultProperties", "keyName"),
            "aoai-cmk",
        ),
        ("SRCH-LOCAL-AUTH", search(), None, ("disableLocalAuth",), True),
        ("SRCH-REPLICAS-SLA", search(replicaCount=1), None, ("replicaCount",), 2),
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


@pytest.mark.parametrize(
    "acls",
    [
        None,  # no networkAcls: ARM allows every network
        {"defaultAction": "Allow"},
        {"defaultAction": "Deny", "ipRules": [{"value": "0.0.0.0/0"}]},
    ],
)
def test_network_acls_deny_by_default_and_admit_only_the_listed_ranges(
    acls: dict[str, Any] | None,
) -> None:
    subnet_rule = {"id": SUBNET, "ignoreMissingVnetServiceEndpoint": False}
    properties: dict[str, Any] = {"publicNetworkAccess": "Enabled"}
    if acls is not None:
        properties["networkAcls"] = acls | {"virtualNetworkRules": [subnet_rule]}
    rules = [{"value": "203.0.113.0/24"}]
    fixed = assert_fix_passes(
        "AOAI-NETWORK-ACLS", [account(**properties)], ACCOUNT, {"allowed_ip_rules": rules}
    )
    fixed_account = fixed.get(ACCOUNT)
    assert fixed_account is not None
    network = fixed_account.properties["networkAcls"]
    assert network["defaultAction"] == "Deny"
    assert network["ipRules"] == rules
    # The account's existing virtual network rules are kept, not replaced.
    assert network.get("virtualNetworkRules", []) == ([subnet_rule] if acls is not None else [])


def test_the_managed_identity_fix_turns_on_a_system_assigned_identity() -> None:
    failing = account()
    failing.identity = {"type": "None"}
    fixed = assert_fix_passes("AOAI-MANAGED-IDENTITY", [failing], ACCOUNT)
    fixed_account = fixed.get(ACCOUNT)
    assert fixed_account is not None
    assert fixed_account.identity == {"type": "SystemAssigned"}


@pytest.mark.parametrize(
    ("check_id", "failing", "category"),
    [
        ("AOAI-DIAG-LOGS", account(), "Audit"),
        ("SRCH-DIAG-LOGS", search(), "OperationLogs"),
    ],
)
def test_the_diagnostic_setting_fix_sends_the_logs_to_the_workspace(
    check_id: str, failing: Resource, category: str
) -> None:
    params = {"log_analytics_workspace_id": WORKSPACE}
    fixed = assert_fix_passes(check_id, [failing], failing.id, params)
    resource = fixed.get(failing.id)
    assert resource is not None
    assert resource.diagnostic_settings is not None
    (setting,) = resource.diagnostic_settings
    assert setting["properties"]["workspaceId"] == WORKSPACE
    assert {"category": category, "enabled": True} in setting["properties"]["logs"]


@pytest.mark.parametrize(
    ("check_id", "failing", "group_id"),
    [
        ("AOAI-PRIVATE-LINK", account(), "account"),
        ("SRCH-PUBLIC-ACCESS", search(publicNetworkAccess="Enabled"), "searchService"),
    ],
)
def test_the_private_endpoint_fix_connects_an_approved_endpoint(
    check_id: str, failing: Resource, group_id: str
) -> None:
    fixed = assert_fix_passes(
        check_id, [failing], failing.id, {"private_endpoint_subnet_id": SUBNET}
    )
    resource = fixed.get(failing.id)
    assert resource is not None
    (connection,) = resource.properties["privateEndpointConnections"]
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    fix = load_catalog().check(check_id).fix
    assert fix is not None
    (endpoint,) = fix.add
    (link,) = endpoint.properties["privateLinkServiceConnections"]
    assert link["properties"]["groupIds"] == [group_id]


def test_the_search_public_access_fix_disables_public_access() -> None:
    fixed = assert_fix_passes(
        "SRCH-PUBLIC-ACCESS",
        [search(publicNetworkAccess="enabled")],
        SEARCH,
        {"private_endpoint_subnet_id": SUBNET},
    )
    service = fixed.get(SEARCH)
    assert service is not None
    assert service.properties["publicNetworkAccess"] == "Disabled"


def test_the_search_local_auth_fix_clears_auth_options() -> None:
    failing = search(
        authOptions={"aadOrApiKey": {"aadAuthFailureMode": "http401WithBearerChallenge"}}
    )
    fixed = assert_fix_passes("SRCH-LOCAL-AUTH", [failing], SEARCH)
    service = fixed.get(SEARCH)
    assert service is not None
    assert service.properties["authOptions"] is None


def test_cmk_enforcement_passes_once_every_object_is_already_encrypted() -> None:
    failing = search(
        "standard",
        encryptionWithCmk={"enforcement": "Unspecified", "encryptionComplianceStatus": "Compliant"},
    )
    fixed = assert_fix_passes("SRCH-CMK-ENFORCE", [failing], SEARCH)
    service = fixed.get(SEARCH)
    assert service is not None
    assert service.properties["encryptionWithCmk"]["enforcement"] == "Enabled"


def test_cmk_enforcement_alone_leaves_unencrypted_objects_failing() -> None:
    # What the fix's note says: objects stored without a key need re-creating (data plane).
    estate = Estate(
        [
            search(
                "standard",
                encryptionWithCmk={
                    "enforcement": "Unspecified",
                    "encryptionComplianceStatus": "NonCompliant",
                },
            )
        ]
    )
    fix = load_catalog().check("SRCH-CMK-ENFORCE").fix
    assert fix is not None
    assert fix.note
    assert "re-created" in fix.note
    service = estate.get(SEARCH)
    assert service is not None
    apply_fix(estate, service, fix)
    assert status(estate, "SRCH-CMK-ENFORCE", SEARCH) == "fail"


def rai_policy(**properties: Any) -> Resource:
    return Resource(
        id=f"{ACCOUNT}/raiPolicies/lenient",
        type="microsoft.cognitiveservices/accounts/raipolicies",
        name="lenient",
        subscription_id=SUB.rsplit("/", 1)[-1],
        properties=dict(properties),
    )


@pytest.mark.parametrize(
    "resources",
    [
        [account(), deployment(raiPolicyName="Microsoft.Nil")],
        [
            account(),
            deployment(raiPolicyName="lenient"),
            rai_policy(
                mode="Asynchronous_filter",
                basePolicyName="Microsoft.DefaultV2",
                contentFilters=[
                    {"name": "Hate", "source": "Prompt", "enabled": True, "blocking": False}
                ],
            ),
        ],
    ],
    ids=["unfiltered", "custom-non-blocking"],
)
def test_the_content_filter_fix_points_the_deployment_at_the_default_policy(
    resources: list[Resource],
) -> None:
    fixed = assert_fix_passes("AOAI-DEPLOY-CONTENT-FILTER", resources, DEPLOYMENT)
    fixed_deployment = fixed.get(DEPLOYMENT)
    assert fixed_deployment is not None
    assert fixed_deployment.properties["raiPolicyName"] == "Microsoft.DefaultV2"


def test_the_version_upgrade_fix_waits_for_the_current_version_to_expire() -> None:
    failing = deployment(versionUpgradeOption="OnceNewDefaultVersionAvailable")
    fixed = assert_fix_passes("AOAI-DEPLOY-VERSION-UPGRADE", [account(), failing], DEPLOYMENT)
    fixed_deployment = fixed.get(DEPLOYMENT)
    assert fixed_deployment is not None
    assert fixed_deployment.properties["versionUpgradeOption"] == "OnceCurrentVersionExpired"
