"""ARM reads property names without case: so do the sources' own readers (relate, AI scope)."""

from __future__ import annotations

from typing import Any

from tutela.scanner.ai_scope import AiScope
from tutela.scanner.catalog.scoping import load_ai_scope_rules
from tutela.scanner.estate import Estate, Resource, member, member_key
from tutela.scanner.sources.arm import PLACEHOLDER_SUBSCRIPTION_ID, resources_from_arm

RG = f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-template"
ACCOUNT = f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai"
ENDPOINT = f"{RG}/providers/Microsoft.Network/privateEndpoints/pe-aoai"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def _template(*resources: Any) -> dict[str, Any]:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": list(resources)}


def _account(**properties: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.CognitiveServices/accounts",
        "apiVersion": "2024-10-01",
        "name": "aoai",
        "kind": "OpenAI",
        "properties": properties,
    }


def _endpoint(
    connections_key: str = "PrivateLinkServiceConnections", status: str | None = "Approved"
) -> dict[str, Any]:
    state = {"PrivateLinkServiceConnectionState": {"Status": status}} if status else {}
    return {
        "type": "Microsoft.Network/privateEndpoints",
        "apiVersion": "2023-11-01",
        "name": "pe-aoai",
        "Properties": {
            connections_key: [
                {
                    "name": "c",
                    "Properties": {
                        "PrivateLinkServiceId": ACCOUNT,
                        "GroupIds": ["account"],
                        **state,
                    },
                }
            ]
        },
    }


def _resource(resources: list[Resource], rid: str) -> Resource:
    return next(r for r in resources if r.id.lower() == rid.lower())


def test_a_mixed_case_private_endpoint_still_connects_its_target() -> None:
    account = _resource(resources_from_arm(_template(_account(), _endpoint()), "pe.json"), ACCOUNT)
    [connection] = account.properties["privateEndpointConnections"]
    assert connection["properties"]["privateEndpoint"]["id"] == ENDPOINT
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"


def test_a_mixed_case_manual_connection_is_pending() -> None:
    template = _template(_account(), _endpoint("ManualPrivateLinkServiceConnections", None))
    account = _resource(resources_from_arm(template, "pe.json"), ACCOUNT)
    [connection] = account.properties["privateEndpointConnections"]
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"


def test_connections_listed_under_another_spelling_are_extended_not_duplicated() -> None:
    listed = {"id": "c0", "Properties": {"PrivateEndpoint": {"Id": f"{RG}/pe-other"}}}
    template = _template(_account(PrivateEndpointConnections=[listed]), _endpoint())
    account = _resource(resources_from_arm(template, "pe.json"), ACCOUNT)
    assert "privateEndpointConnections" not in account.properties
    assert [c["id"] for c in account.properties["PrivateEndpointConnections"]] == [
        "c0",
        f"{ACCOUNT}/privateEndpointConnections/pe-aoai",
    ]


def test_an_endpoint_listed_under_another_spelling_is_not_added_again() -> None:
    listed = {"id": "c0", "Properties": {"PrivateEndpoint": {"Id": ENDPOINT.upper()}}}
    template = _template(_account(PrivateEndpointConnections=[listed]), _endpoint())
    account = _resource(resources_from_arm(template, "pe.json"), ACCOUNT)
    assert account.properties["PrivateEndpointConnections"] == [listed]


def test_a_mixed_case_workspace_link_and_vault_uri_put_the_vault_in_scope() -> None:
    vault_id = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-ml"
    vault = Resource(
        id=vault_id,
        type="microsoft.keyvault/vaults",
        name="kv-ml",
        properties={"VaultUri": "https://vault-alias.vault.azure.net/"},
    )
    by_id = Resource(
        id=f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/mlw",
        type="microsoft.machinelearningservices/workspaces",
        name="mlw",
        properties={"KeyVault": vault_id},
    )
    by_uri = Resource(
        id=f"{RG}/providers/Microsoft.CognitiveServices/accounts/aoai",
        type="microsoft.cognitiveservices/accounts",
        name="aoai",
        kind="OpenAI",
        properties={
            "Encryption": {
                "KeyVaultProperties": {"KeyVaultUri": "https://vault-alias.vault.azure.net"}
            }
        },
    )
    for ai_resource in (by_id, by_uri):
        scope = AiScope(Estate([ai_resource, vault]), load_ai_scope_rules())
        assert scope.reason(vault) is not None, ai_resource.name


def test_member_reads_any_spelling_and_member_key_keeps_the_input_s() -> None:
    assert member({"VaultUri": "u"}, "vaultUri") == "u"
    assert member({"vaultUri": "exact", "VAULTURI": "other"}, "vaultUri") == "exact"
    assert member("not an object", "x", "fallback") == "fallback"
    assert member_key({"PrivateEndpointConnections": []}, "privateEndpointConnections") == (
        "PrivateEndpointConnections"
    )
    assert member_key({}, "privateEndpointConnections") == "privateEndpointConnections"
