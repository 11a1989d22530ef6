"""apply_fix does to an estate what deploying the fix would; malformed fixes are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.scanner.fixes.harness import assert_fix_passes
from tutela.scanner.catalog.checks import Fix
from tutela.scanner.estate import Resource

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
