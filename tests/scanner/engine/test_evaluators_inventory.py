"""The inventory_tag and model_validation_date evaluators: edges the check cases leave out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tutela.scanner.engine.conditions import Context
from tutela.scanner.engine.evaluators import EVALUATORS
from tutela.scanner.estate import UNKNOWN, Estate, Resource

AS_OF = dt.date(2026, 11, 23)
ACCOUNT_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
    "/providers/Microsoft.CognitiveServices/accounts/acct"
)
OWNER = {"keys": ["model-owner", "model_owner"]}
VALIDATION = {
    "keys": ["model-validation-date"],
    "max_age_days": 365,
    "tier_keys": ["model-risk-tier"],
    "max_age_days_by_tier": {"Tier-1": 180},
}


def _account(tags: Any) -> Resource:
    return Resource(
        id=ACCOUNT_ID, type="microsoft.cognitiveservices/accounts", name="acct", tags=tags
    )


def _deployment(tags: dict[str, Any]) -> Resource:
    return Resource(
        id=f"{ACCOUNT_ID}/deployments/gpt",
        type="microsoft.cognitiveservices/accounts/deployments",
        name="gpt",
        tags=tags,
    )


def _run(
    name: str, params: dict[str, Any], target: Resource, *others: Resource
) -> tuple[bool | None, list[tuple[str, Any]]]:
    ctx = Context(target, Estate([target, *others]))
    return EVALUATORS[name](ctx, params, AS_OF), ctx.evidence


def test_the_first_accepted_key_wins_when_several_are_present() -> None:
    result, evidence = _run(
        "inventory_tag", OWNER, _account({"model_owner": "", "Model-Owner": "risk-team"})
    )
    assert result is True
    assert evidence == [("tags.Model-Owner", "risk-team")]


def test_a_deployment_s_own_tag_wins_over_its_account() -> None:
    account = _account({"model-owner": "account-team"})
    result, evidence = _run("inventory_tag", OWNER, _deployment({"model-owner": ""}), account)
    assert result is False  # an empty own tag is not filled in from the parent
    assert evidence == [("tags.model-owner", "")]


def test_top_level_resources_never_look_at_a_parent() -> None:
    result, evidence = _run("inventory_tag", OWNER, _account({}))
    assert result is False
    assert evidence == [("tags", "none of model-owner, model_owner")]


def test_tags_unknown_as_a_whole_are_unknown() -> None:
    result, _ = _run("inventory_tag", OWNER, _account(UNKNOWN))
    assert result is None


def test_allowed_values_compare_without_case() -> None:
    params = {"keys": ["model-risk-tier"], "allowed": ["tier-1", "tier-2"]}
    assert _run("inventory_tag", params, _account({"model-risk-tier": " TIER-2 "}))[0] is True
    result, evidence = _run("inventory_tag", params, _account({"model-risk-tier": "tier-9"}))
    assert result is False
    assert ("allowed values", "tier-1, tier-2") in evidence


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"model-validation-date": "2025-11-23"}, True),  # exactly 365 days: still in review
        ({"model-validation-date": "2025-11-22"}, False),
        ({"model-validation-date": "2026-11-23"}, True),  # validated on the scan date
        ({"model-validation-date": "2026-06-01T09:30:00Z"}, True),  # a timestamp is accepted
        ({"model-validation-date": "2026-05-27", "model-risk-tier": "tier-1"}, True),  # 180 days
        ({"model-validation-date": "2026-05-26", "model-risk-tier": "TIER-1"}, False),
        ({"model-validation-date": "2026-05-26", "model-risk-tier": "tier-7"}, True),  # default
        ({"model-validation-date": "2026-05-26", "model-risk-tier": ""}, True),  # default
        ({"model-validation-date": "2026-02-30"}, False),  # not a calendar date
    ],
)
def test_review_periods(tags: dict[str, Any], expected: bool | None) -> None:
    assert _run("model_validation_date", VALIDATION, _account(tags))[0] is expected


def test_with_an_unknown_tier_only_the_shortest_and_longest_periods_decide() -> None:
    tags = {"model-validation-date": "2026-06-01", "model-risk-tier": UNKNOWN}
    assert _run("model_validation_date", VALIDATION, _account(tags))[0] is True
    tags = {"model-validation-date": "2025-01-01", "model-risk-tier": UNKNOWN}
    assert _run("model_validation_date", VALIDATION, _account(tags))[0] is False


def test_without_tier_periods_the_tier_is_not_read() -> None:
    params = {"keys": ["model-validation-date"], "max_age_days": 30}
    tags = {"model-validation-date": "2026-11-01", "model-risk-tier": UNKNOWN}
    result, evidence = _run("model_validation_date", params, _account(tags))
    assert result is True
    assert all("risk-tier" not in path for path, _ in evidence)
