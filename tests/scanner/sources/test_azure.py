"""The live Azure source, against recorded Entra ID, Resource Graph and ARM responses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from tests.scanner.sources.replay import ReplayTransport
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.sources.azure import (
    EstateOverLimit,
    LiveEstate,
    read_live_estate,
    resources_query,
)
from tutela.scanner.sources.azure_arm import plan_listings
from tutela.scanner.sources.azure_identity import AzureSourceError

TENANT = "9b1f3c2d-4e5a-4f60-8a7b-6c5d4e3f2a10"
CLIENT = "5e7d9c1b-2a3f-4e6d-8b9c-0f1e2d3c4b5a"
SECRET = "Qx8~kTn3.Vb_q2RzW7yHc-9LmPdF4sJe"
SUBSCRIPTION = "3f2b8c1e-5d4a-4b7e-9c6f-2a1d0e8b7c54"
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ai-prod/providers"
OPENAI = f"{RG}/Microsoft.CognitiveServices/accounts/oai-contoso-prod"
VAULT = f"{RG}/Microsoft.KeyVault/vaults/kv-contoso-ai"
WORKSPACE = f"{RG}/Microsoft.MachineLearningServices/workspaces/mlw-contoso-prod"
STORAGE = f"{RG}/Microsoft.Storage/storageAccounts/stcontosoaitrain"
ENDPOINT = f"{RG}/Microsoft.Network/privateEndpoints/pe-oai-contoso-prod"
ARM_HOST = "management.azure.com"
LOGIN_HOST = "login.microsoftonline.com"


@dataclass(frozen=True)
class Principal:
    tenant_id: str = TENANT
    client_id: str = CLIENT
    client_secret: str = SECRET


def scan(*overlays: str, principal: Principal | None = None) -> tuple[LiveEstate, ReplayTransport]:
    transport = ReplayTransport.of("sign_in.json", "estate.json", *overlays)
    live = read_live_estate(principal or Principal(), [SUBSCRIPTION], transport=transport)
    return live, transport


def failure(*overlays: str, principal: Principal | None = None) -> tuple[str, ReplayTransport]:
    transport = ReplayTransport.of("sign_in.json", "estate.json", *overlays)
    with pytest.raises(AzureSourceError) as caught:
        read_live_estate(principal or Principal(), [SUBSCRIPTION], transport=transport)
    message = str(caught.value)
    assert "\n" not in message
    assert SECRET not in message
    return message, transport


def get(estate: Estate, resource_id: str) -> Resource:
    resource = estate.get(resource_id)
    assert resource is not None, f"{resource_id} missing from {[r.id for r in estate]}"
    return resource


@pytest.fixture(scope="module")
def live() -> tuple[LiveEstate, ReplayTransport]:
    return scan()


def test_resource_graph_pages_are_all_read(live: tuple[LiveEstate, ReplayTransport]) -> None:
    result, transport = live
    graph_bodies = [json.loads(r.content) for r in transport.sent(ARM_HOST, "ResourceGraph")]
    resource_pages = [b for b in graph_bodies if b["query"].startswith("Resources |")]
    assert [page["options"].get("$skipToken") is None for page in resource_pages] == [True, False]
    assert all(b["subscriptions"] == [SUBSCRIPTION] for b in graph_bodies)
    query = resource_pages[0]["query"]
    assert "'microsoft.cognitiveservices/accounts'" in query
    assert "'microsoft.network/privateendpoints'" in query
    # Both pages' resources are in the estate.
    for resource_id in (OPENAI, VAULT, WORKSPACE, STORAGE, ENDPOINT):
        get(result.estate, resource_id)
    assert transport.unused() == []
    assert result.warnings == ()


def test_resources_keep_their_arm_shape(live: tuple[LiveEstate, ReplayTransport]) -> None:
    estate = live[0].estate
    account = get(estate, OPENAI)
    assert account.type == "microsoft.cognitiveservices/accounts"
    assert (account.kind, account.location, account.sku) == (
        "OpenAI",
        "swedencentral",
        {"name": "S0"},
    )
    assert account.properties["disableLocalAuth"] is True
    assert account.tags["model-id"] == "INV-0042"
    # The private endpoint in the graph shows on the account it connects to.
    [connection] = account.properties["privateEndpointConnections"]
    assert connection["properties"]["privateEndpoint"]["id"] == ENDPOINT
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"


def test_related_facts_are_attached(live: tuple[LiveEstate, ReplayTransport]) -> None:
    estate = live[0].estate
    account = get(estate, OPENAI)
    [setting] = account.diagnostic_settings or []
    assert setting["name"] == "oai-to-law"
    assert setting["properties"]["logs"][0]["categoryGroup"] == "audit"
    [assignment] = account.role_assignments or []
    assert assignment["properties"]["roleDefinitionId"].endswith(
        "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
    )
    # Read and empty is a list; never read (private endpoints have no resource logs) is None.
    assert get(estate, VAULT).diagnostic_settings == []
    assert get(estate, VAULT).role_assignments == []
    assert get(estate, ENDPOINT).diagnostic_settings is None


def test_subscription_facts(live: tuple[LiveEstate, ReplayTransport]) -> None:
    subscription = get(live[0].estate, f"/subscriptions/{SUBSCRIPTION}")
    assert subscription.name == SUBSCRIPTION
    assert subscription.properties["displayName"] == "Contoso AI Production"
    pricings = {
        p["name"]: p["properties"]["pricingTier"] for p in subscription.security_pricings or []
    }
    assert pricings == {"AI": "Standard", "KeyVaults": "Free"}
    [policy] = subscription.policy_assignments or []
    assert policy["name"] == "restrict-ai-network"
    [activity_log] = subscription.diagnostic_settings or []
    assert activity_log["name"] == "activity-to-law"
    [owner] = subscription.role_assignments or []
    assert owner["properties"]["principalType"] == "User"
    assert len(live[0].estate.of_type("microsoft.authorization/roledefinitions")) == 1


def test_children_come_from_arm_following_next_links(
    live: tuple[LiveEstate, ReplayTransport],
) -> None:
    estate = live[0].estate
    deployments = {
        d.name: d for d in estate.of_type("microsoft.cognitiveservices/accounts/deployments")
    }
    assert set(deployments) == {"gpt-4o", "text-embedding-3-large"}  # the second is on page 2
    gpt = deployments["gpt-4o"]
    assert gpt.properties["raiPolicyName"] == "strict-filter"
    assert (gpt.subscription_id, gpt.resource_group) == (SUBSCRIPTION, "rg-ai-prod")
    assert estate.parent(gpt) is get(estate, OPENAI)
    filters = estate.get(f"{OPENAI}/raiPolicies/strict-filter")
    assert filters is not None
    assert filters.properties["mode"] == "Blocking"
    [compute] = estate.of_type("microsoft.machinelearningservices/workspaces/computes")
    assert compute.properties["properties"]["enableNodePublicIp"] is False
    [endpoint] = estate.of_type("microsoft.machinelearningservices/workspaces/onlineendpoints")
    assert endpoint.properties["authMode"] == "Key"
    [key] = estate.of_type("microsoft.keyvault/vaults/keys")
    assert key.properties["attributes"]["exp"] == 1798761600
    [blob] = estate.of_type("microsoft.storage/storageaccounts/blobservices")
    assert blob.properties["isVersioningEnabled"] is True
    assert [s["name"] for s in blob.diagnostic_settings or []] == ["blob-to-law"]


def test_one_sign_in_serves_every_call(live: tuple[LiveEstate, ReplayTransport]) -> None:
    transport = live[1]
    assert len(transport.sent(LOGIN_HOST, "/oauth2/v2.0/token")) == 1
    arm_calls = transport.sent(ARM_HOST)
    assert arm_calls
    assert all(r.headers["Authorization"].startswith("Bearer eyJ") for r in arm_calls)


def test_progress_is_reported() -> None:
    seen: list[tuple[str, int, int]] = []
    transport = ReplayTransport.of("sign_in.json", "estate.json")
    read_live_estate(
        Principal(),
        [SUBSCRIPTION],
        transport=transport,
        max_workers=2,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    assert seen[0] == ("resource graph", 1, 5)
    assert ("resource graph", 5, 5) in seen
    details = [entry for entry in seen if entry[0] == "resource details"]
    assert details[-1][1] == details[-1][2] == len(details)


def test_arm_calls_run_concurrently_within_the_bound() -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json", latency=0.01)
    read_live_estate(Principal(), [SUBSCRIPTION], transport=transport, max_workers=3)
    assert transport.most_in_flight == 3


def test_throttled_call_is_retried_after_retry_after() -> None:
    result, transport = scan("throttled_once.json")
    assert transport.sleeps == [17.0]  # as long as Azure's Retry-After asked
    assert len(transport.sent(ARM_HOST, "/raiPolicies")) == 2
    assert result.estate.get(f"{OPENAI}/raiPolicies/strict-filter") is not None
    assert result.warnings == ()


def test_throttling_beyond_the_retries_stops_the_scan() -> None:
    message, transport = failure("throttled_always.json")
    assert message.startswith("azure: Azure kept throttling requests")
    assert "HTTP 429" in message
    assert len(transport.sleeps) == 3  # azure-core's default status retries
    assert set(transport.sleeps) == {17.0}


def test_bad_credentials_give_the_identity_platform_reason() -> None:
    principal = Principal(client_secret="wrong-secret-value~123")
    message, transport = failure("sign_in_invalid_secret.json", principal=principal)
    assert message == (
        f"azure: sign-in failed for service principal {CLIENT} in tenant {TENANT}: "
        "AADSTS7000215: Invalid client secret provided."
    )
    assert "wrong-secret-value~123" not in message
    assert transport.sent(ARM_HOST) == []  # nothing is queried without a token


@pytest.mark.parametrize("secret", ["a", "1", "-", "4e", "2a10"])
def test_a_short_secret_is_not_spelled_out_by_redacting_guids(secret: str) -> None:
    """A one-character secret was replaced wherever it occurred in the GUIDs of the message."""
    message, _ = failure("sign_in_invalid_secret.json", principal=Principal(client_secret=secret))
    assert message == (
        f"azure: sign-in failed for service principal {CLIENT} in tenant {TENANT}: "
        "AADSTS7000215: Invalid client secret provided."
    )


def test_forbidden_diagnostic_settings_are_unknown_with_a_warning() -> None:
    result, _ = scan("diagnostics_forbidden.json")
    assert get(result.estate, STORAGE).diagnostic_settings is None
    assert get(result.estate, VAULT).diagnostic_settings == []
    [warning] = result.warnings
    assert warning.startswith(f"{STORAGE}: cannot read its diagnostic settings")
    assert "HTTP 403 AuthorizationFailed" in warning


def test_forbidden_resource_graph_names_the_authorisation_problem() -> None:
    message, _ = failure("graph_forbidden.json")
    assert message.startswith(f"azure: service principal {CLIENT} is not authorised (HTTP 403")
    assert "AuthorizationFailed" in message
    assert "Reader" in message


def test_a_subscription_the_graph_does_not_show_fails_the_scan() -> None:
    message, _ = failure("subscription_not_visible.json")
    assert SUBSCRIPTION in message
    assert "cannot read subscription" in message


def test_network_failure_is_one_clear_error() -> None:
    message, _ = failure("graph_unreachable.json")
    assert message.startswith("azure: cannot reach Azure: ")
    assert "Failed to resolve 'management.azure.com'" in message


@pytest.mark.parametrize(
    ("subscriptions", "problem"),
    [([], "no subscription to scan"), (["not-a-guid"], "not subscription ids (GUIDs): not-a-guid")],
)
def test_subscription_ids_are_checked_before_any_call(
    subscriptions: list[str], problem: str
) -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json")
    with pytest.raises(AzureSourceError, match=re.escape(problem)):
        read_live_estate(Principal(), subscriptions, transport=transport)
    assert transport.requests == []


def test_an_empty_catalogue_reads_every_resource() -> None:
    assert resources_query([]) == "Resources"
    assert resources_query(["microsoft.search/searchservices"]) == (
        "Resources | where type in~ ('microsoft.search/searchservices')"
    )


def graph_requests(transport: ReplayTransport) -> list[str]:
    """The Resource Graph queries sent (their table), each with whether it asked for a next page."""
    sent = [json.loads(r.content) for r in transport.sent(ARM_HOST, "Microsoft.ResourceGraph")]
    return [
        f"{body['query'].split()[0]} {'next' if body['options'].get('$skipToken') else 'first'}"
        for body in sent
    ]


def test_an_estate_over_the_limit_is_refused_at_its_first_page() -> None:
    # Resource Graph counts 50,001 resources (a recording whose pages are cut to their first
    # rows): the reader stops there, before the next page, the other tables or any ARM call.
    transport = ReplayTransport.of("sign_in.json", "estate.json", "estate_over_limit.json")
    with pytest.raises(EstateOverLimit) as caught:
        read_live_estate(Principal(), [SUBSCRIPTION], transport=transport, max_resources=50_000)
    assert (caught.value.count, caught.value.limit) == (50_001, 50_000)
    assert graph_requests(transport) == ["Resources first"]
    assert transport.sent(ARM_HOST) == transport.sent(ARM_HOST, "Microsoft.ResourceGraph")

    at_limit = ReplayTransport.of("sign_in.json", "estate.json", "estate_over_limit.json")
    live = read_live_estate(Principal(), [SUBSCRIPTION], transport=at_limit, max_resources=50_001)
    assert graph_requests(at_limit)[:3] == [
        "Resources first",
        "Resources next",
        "ResourceContainers first",
    ]
    assert get(live.estate, OPENAI).type == "microsoft.cognitiveservices/accounts"


def test_the_count_is_resource_graphs_total_not_the_first_pages_rows() -> None:
    # estate.json's first page holds 3 of the 5 resources it counts.
    scan_limited = ReplayTransport.of("sign_in.json", "estate.json")
    with pytest.raises(EstateOverLimit) as caught:
        read_live_estate(Principal(), [SUBSCRIPTION], transport=scan_limited, max_resources=4)
    assert caught.value.count == 5
    assert len(graph_requests(scan_limited)) == 1
    live, _ = scan()
    fits = ReplayTransport.of("sign_in.json", "estate.json")
    read = read_live_estate(Principal(), [SUBSCRIPTION], transport=fits, max_resources=5)
    assert len(read.estate) == len(live.estate)


@pytest.mark.parametrize(
    ("sku", "listed"), [("Premium", True), ("premium", True), ("Standard", False)]
)
def test_a_premium_registry_s_replications_are_listed_from_arm(sku: str, listed: bool) -> None:
    """ACR-GEO-REPLICATION reads them; only Premium registries can have any."""
    registry = {
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/"
        "Microsoft.ContainerRegistry/registries/crmodels",
        "type": "microsoft.containerregistry/registries",
        "sku": {"name": sku},
    }
    paths = [listing.path for listing in plan_listings([registry], lambda _record: False)]
    assert paths == (["replications"] if listed else [])
