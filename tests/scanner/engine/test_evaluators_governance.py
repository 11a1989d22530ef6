"""The key_expiry and policy_initiative_assigned evaluators: edges the check cases leave out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tutela.scanner.engine.conditions import Context
from tutela.scanner.engine.evaluators import EVALUATORS
from tutela.scanner.estate import UNKNOWN, Estate, Resource

AS_OF = dt.date(2026, 11, 23)
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000001"
EU_AI_ACT = "1308bccf-446a-4283-a4e0-0c983fe7a572"
INITIATIVES = {"initiatives": {EU_AI_ACT: "EU AI Act 2024 1689"}}


def _key(properties: dict[str, Any]) -> Resource:
    return Resource(
        id=f"{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/keys/cmk",
        type="microsoft.keyvault/vaults/keys",
        name="cmk",
        properties=properties,
    )


def _expiry(exp: Any) -> tuple[bool | None, list[tuple[str, Any]]]:
    key = _key({"attributes": {"enabled": True, "exp": exp}})
    ctx = Context(key, Estate([key]))
    return EVALUATORS["key_expiry"](ctx, {}, AS_OF), ctx.evidence


@pytest.mark.parametrize(
    ("exp", "expected"),
    [
        ("1798761600", True),  # Unix seconds as text
        ("2027-01-01T00:00:00+00:00", True),  # ISO text, as a data-plane export gives it
        ("2026-11-23T12:00:00Z", False),  # expires during the scan day: treated as expired
        ("next year", None),
        (10**20, None),  # beyond any representable date
        (True, None),
    ],
)
def test_expiry_formats(exp: Any, expected: bool | None) -> None:
    result, evidence = _expiry(exp)
    assert result is expected
    assert evidence[0][0] == "properties.attributes.exp"


def test_a_key_without_attributes_never_expires() -> None:
    key = _key({})
    ctx = Context(key, Estate([key]))
    assert EVALUATORS["key_expiry"](ctx, {}, AS_OF) is False
    assert "never expires" in str(ctx.evidence)


def _assigned(assignments: Any) -> tuple[bool | None, list[tuple[str, Any]]]:
    subscription = Resource(
        id=SUBSCRIPTION,
        type="microsoft.resources/subscriptions",
        name="sub",
        policy_assignments=assignments,
    )
    ctx = Context(subscription, Estate([subscription]))
    return EVALUATORS["policy_initiative_assigned"](ctx, INITIATIVES, AS_OF), ctx.evidence


def _assignment(name: str, definition_id: Any) -> dict[str, Any]:
    return {"name": name, "properties": {"policyDefinitionId": definition_id}}


def test_initiative_ids_match_without_case_or_trailing_slash() -> None:
    definition = f"/providers/Microsoft.Authorization/policySetDefinitions/{EU_AI_ACT.upper()}/"
    result, evidence = _assigned([_assignment("ai", definition)])
    assert result is True
    assert evidence == [("policyAssignments[ai]", "EU AI Act 2024 1689")]


def test_a_match_decides_even_beside_an_unresolved_assignment() -> None:
    definition = f"/providers/Microsoft.Authorization/policySetDefinitions/{EU_AI_ACT}"
    result, _ = _assigned([_assignment("tpl", UNKNOWN), _assignment("ai", definition)])
    assert result is True


def test_malformed_assignments_are_skipped_not_fatal() -> None:
    result, _ = _assigned(["not-an-object", {"name": "no-properties"}, _assignment("x", 42)])
    assert result is False


def test_an_unrelated_definition_fails_and_says_how_many_were_read() -> None:
    result, evidence = _assigned(
        [_assignment("other", "/providers/Microsoft.Authorization/policyDefinitions/abc")]
    )
    assert result is False
    assert evidence == [("policyAssignments", "1 assignment(s), none of the AI initiatives")]
