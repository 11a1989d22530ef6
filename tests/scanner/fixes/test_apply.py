"""apply_fix does to an estate what deploying the fix would; malformed fixes are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.scanner.fixes.harness import assert_fix_passes
from tutela.scanner.catalog.checks import Fix
from tutela.scanner.engine.fixes import apply_fix
from tutela.scanner.estate import Estate, Resource

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
ACCOUNT = f"{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"


def storage(**properties: object) -> Resource:
    return Resource(
        id=ACCOUNT,
        type="microsoft.storage/storageaccounts",
        name="st1",
        subscription_id=SUB.rsplit("/", 1)[-1],
        properties=dict(properties),
    )


def test_a_property_fix_makes_the_failing_account_pass() -> None:
    fixed = assert_fix_passes("STG-MIN-TLS", [storage(minimumTlsVersion="TLS1_0")], ACCOUNT)
    account = fixed.get(ACCOUNT)
    assert account is not None
    assert account.properties["minimumTlsVersion"] == "TLS1_2"


@pytest.mark.parametrize(
    ("fix", "refusal"),
    [
        ({}, "either sets or adds"),
        ({"set": [{"path": "properties.x", "value": 1}], "manual": "why"}, "either sets or adds"),
        ({"set": [{"path": "location", "value": "x"}]}, "must start with"),
        ({"set": [{"path": "properties.x", "value": {"param": "key"}}]}, "params"),
        (
            {"set": [{"path": "properties.x", "value": 1}], "params": {"unused": "a value"}},
            "params",
        ),
    ],
)
def test_malformed_fixes_are_refused(fix: dict[str, object], refusal: str) -> None:
    with pytest.raises(ValidationError, match=refusal):
        Fix.model_validate(fix)


def test_an_added_resources_name_takes_the_failing_resources_name() -> None:
    """Two failing vaults in one group get two private endpoints, not one overwritten."""
    fix = Fix.model_validate(
        {
            "add": [
                {
                    "type": "Microsoft.Network/privateEndpoints",
                    "name": "pe-{name}-vault",
                    "scope": "resource_group",
                    "properties": {
                        "privateLinkServiceConnections": [
                            {"properties": {"privateLinkServiceId": {"resource": "id"}}}
                        ]
                    },
                }
            ]
        }
    )
    second = storage()
    second.id, second.name = ACCOUNT.replace("/st1", "/st2"), "st2"
    estate = Estate([storage(), second])
    endpoints = []
    for resource in list(estate):
        apply_fix(estate, resource, fix)
        [connection] = resource.properties["privateEndpointConnections"]
        endpoints.append(connection["properties"]["privateEndpoint"]["id"].rsplit("/", 1)[-1])
    assert endpoints == ["pe-st1-vault", "pe-st2-vault"]
    assert fix.add[0].name == "pe-{name}-vault"  # the catalogue's text is untouched


@pytest.mark.parametrize(
    ("name", "refusal"),
    [("pe-fixed", "needs {name}"), ("pe-{id}", "the only placeholder")],
)
def test_names_of_added_resources_are_checked(name: str, refusal: str) -> None:
    added = {
        "type": "Microsoft.Network/privateEndpoints",
        "name": name,
        "scope": "resource_group",
        "properties": {},
    }
    with pytest.raises(ValidationError, match=refusal):
        Fix.model_validate({"add": [added]})
