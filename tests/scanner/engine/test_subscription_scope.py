"""Subscription-level checks assess a subscription only where the input can describe it.

A template or plan of workload resources implies the subscription they live in but says nothing
about its Defender plans or policy assignments: those checks leave it out (issue 20, point 4).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import (
    CheckResult,
    evaluate_counting_passes,
    evaluate_estate,
)
from tutela.scanner.estate import SUBSCRIPTION_TYPE, Estate
from tutela.scanner.sources import parse_document

AS_OF = dt.date(2026, 12, 7)
FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
ACCOUNT = {
    "type": "Microsoft.CognitiveServices/accounts",
    "apiVersion": "2024-10-01",
    "name": "aoai-chat",
    "location": "westeurope",
    "kind": "OpenAI",
    "sku": {"name": "S0"},
    "properties": {"publicNetworkAccess": "Disabled", "disableLocalAuth": True},
}
GROUP_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
SUBSCRIPTION_SCHEMA = (
    "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
)
# The plan's records of subscription-level facts, by Terraform type.
_PLAN_FACT_TYPES = frozenset(
    {"azurerm_security_center_subscription_pricing", "azurerm_subscription_policy_assignment"}
)
_FACT_ARM_TYPES = ("microsoft.security/pricings", "microsoft.authorization/policyassignments")


def _results(document: Any, source: str = "input.json") -> tuple[Estate, list[CheckResult]]:
    estate = Estate(parse_document(document, source))
    return estate, evaluate_estate(estate, load_catalog().checks, as_of=AS_OF)


def _subscription_level(results: list[CheckResult]) -> dict[str, str]:
    return {r.check.id: r.status for r in results if r.resource.type == SUBSCRIPTION_TYPE}


def _subscription_check_ids() -> set[str]:
    return {c.id for c in load_catalog().checks if SUBSCRIPTION_TYPE in c.resource_types}


def _template(*resources: dict[str, Any], schema: str = GROUP_SCHEMA) -> dict[str, Any]:
    return {"$schema": schema, "contentVersion": "1.0.0.0", "resources": list(resources)}


def _plan_without_subscription_facts() -> dict[str, Any]:
    plan = json.loads((FIXTURES / "tf_plan_ai_landing_zone.json").read_text())
    plan["resource_changes"] = [
        change for change in plan["resource_changes"] if not _declares_subscription_fact(change)
    ]
    return plan


def _declares_subscription_fact(change: dict[str, Any]) -> bool:
    after = (change.get("change") or {}).get("after") or {}
    azapi_type = str(after.get("type", "")).lower()  # azapi_resource: "<ARM type>@<version>"
    return change["type"] in _PLAN_FACT_TYPES or azapi_type.startswith(_FACT_ARM_TYPES)


def test_the_catalogue_has_subscription_level_checks() -> None:
    # The tests below mean something only while such checks exist.
    assert {"DEF-AI-PLAN", "POL-AI-INITIATIVE"} <= _subscription_check_ids()


def test_a_template_of_ai_resources_gets_no_subscription_level_result() -> None:
    estate, results = _results(_template(ACCOUNT))
    [subscription] = estate.of_type(SUBSCRIPTION_TYPE)
    assert subscription.implied
    assert subscription.undescribed_subscription
    assert _subscription_level(results) == {}
    assert not any(r.check.id.startswith(("DEF-", "POL-AI")) for r in results)
    assert any(r.check.id.startswith("AOAI-") for r in results)  # the account is assessed


def test_a_plan_of_ai_resources_gets_no_subscription_level_result() -> None:
    estate, results = _results(_plan_without_subscription_facts(), "plan.json")
    [subscription] = estate.of_type(SUBSCRIPTION_TYPE)
    assert subscription.security_pricings is None
    assert subscription.policy_assignments is None
    assert _subscription_level(results) == {}
    assert not any(r.check.id.startswith(("DEF-", "POL-AI")) for r in results)


def test_undescribed_subscription_pairs_are_not_counted() -> None:
    estate = Estate(parse_document(_template(ACCOUNT), "input.json"))
    progress: list[tuple[int, int]] = []
    kept, tally = evaluate_counting_passes(
        estate,
        load_catalog().checks,
        as_of=AS_OF,
        progress=lambda done, total: progress.append((done, total)),
    )
    subscription_checks = _subscription_check_ids()
    assert not any(check_id in subscription_checks for check_id, _ in tally)
    assert not any(r.resource.type == SUBSCRIPTION_TYPE for r in kept)
    done, total = progress[-1]
    assert done == total


def test_a_plan_that_declares_defender_pricings_is_assessed() -> None:
    estate, results = _results(
        json.loads((FIXTURES / "tf_plan_ai_landing_zone.json").read_text()), "plan.json"
    )
    [subscription] = estate.of_type(SUBSCRIPTION_TYPE)
    assert subscription.implied
    assert not subscription.undescribed_subscription
    decided = _subscription_level(results)
    assert decided["DEF-AI-PLAN"] in {"pass", "fail"}
    # DEF-AI-PROMPT-EVIDENCE applies only where the AI plan is on; every other one is decided.
    assert set(decided) >= _subscription_check_ids() - {"DEF-AI-PROMPT-EVIDENCE"}
    assert "unknown" not in decided.values()


def test_a_plan_declaring_only_a_pricing_decides_the_defender_checks() -> None:
    plan = _plan_without_subscription_facts()
    original = json.loads((FIXTURES / "tf_plan_ai_landing_zone.json").read_text())
    pricings = [
        change
        for change in original["resource_changes"]
        if change["type"] == "azurerm_security_center_subscription_pricing"
    ]
    assert pricings
    plan["resource_changes"].extend(copy.deepcopy(pricings))
    _, results = _results(plan, "plan.json")
    decided = _subscription_level(results)
    assert decided["DEF-AI-PLAN"] in {"pass", "fail"}
    assert decided["DEF-STORAGE-PLAN"] in {"pass", "fail"}
    # The plan shows no policy assignment: what applies to the subscription stays unknown.
    assert decided["POL-AI-INITIATIVE"] == "unknown"


def test_a_subscription_template_deploying_a_pricing_is_assessed() -> None:
    pricing = {
        "type": "Microsoft.Security/pricings",
        "apiVersion": "2024-01-01",
        "name": "AI",
        "properties": {"pricingTier": "Standard"},
    }
    estate, results = _results(_template(pricing, schema=SUBSCRIPTION_SCHEMA))
    [subscription] = estate.of_type(SUBSCRIPTION_TYPE)
    assert subscription.implied
    assert not subscription.undescribed_subscription
    decided = _subscription_level(results)
    assert decided["DEF-AI-PLAN"] == "pass"
    assert decided["DEF-STORAGE-PLAN"] == "fail"


def _export(*records: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(records), "count": len(records)}


_ACCOUNT_RECORD = {
    "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/"
    "Microsoft.CognitiveServices/accounts/aoai",
    "name": "aoai",
    "type": "microsoft.cognitiveservices/accounts",
    "kind": "OpenAI",
    "location": "westeurope",
    "resourceGroup": "rg",
    "subscriptionId": SUBSCRIPTION,
    "properties": {"publicNetworkAccess": "Disabled", "disableLocalAuth": True},
}


def test_an_export_with_the_subscription_record_and_no_pricings_is_as_before() -> None:
    record = {
        "id": f"/subscriptions/{SUBSCRIPTION}",
        "name": "Production",
        "type": "microsoft.resources/subscriptions",
        "subscriptionId": SUBSCRIPTION,
        "properties": {"state": "Enabled"},
    }
    estate, results = _results(_export(record, _ACCOUNT_RECORD), "export.json")
    [subscription] = estate.of_type(SUBSCRIPTION_TYPE)
    assert not subscription.implied
    decided = _subscription_level(results)
    assert decided["DEF-AI-PLAN"] == "unknown"
    assert decided["POL-AI-INITIATIVE"] == "unknown"


def test_an_export_of_resources_only_cannot_describe_the_subscription() -> None:
    # The same rule as for templates: nothing in the input is about the subscription itself.
    estate, results = _results(_export(_ACCOUNT_RECORD), "export.json")
    [subscription] = estate.of_type(SUBSCRIPTION_TYPE)
    assert subscription.undescribed_subscription
    assert _subscription_level(results) == {}


@pytest.mark.parametrize(
    ("name", "unknown"),
    [("arm_ai_landing_zone.json", 3), ("tf_plan_ai_landing_zone.json", 5)],
)
def test_landing_zone_fixtures_unknowns(name: str, unknown: int) -> None:
    # Before subscriptions were scoped, the template had 10 (7 subscription-level), the plan 5.
    _, results = _results(json.loads((FIXTURES / name).read_text()), name)
    assert sum(r.status == "unknown" for r in results) == unknown
