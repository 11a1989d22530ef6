"""The house policy: its settings and bounds, policy files, and the catalogue a policy makes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.catalog.house_policy import (
    DEFAULT_POLICY,
    HousePolicy,
    HousePolicyError,
    InventoryTagKeys,
    apply_house_policy,
    read_house_policy,
)
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.scan import run_scan

SCAN_TS = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
WORKSPACE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ml"
    "/providers/Microsoft.MachineLearningServices/workspaces/mlw-credit"
)


def workspace(days_since_validation: int, tier: str = "tier-2") -> Estate:
    """A classic-ML workspace, fully inventoried, validated so many days before the scan."""
    validated = SCAN_TS.date() - dt.timedelta(days=days_since_validation)
    tags = {
        "model-id": "MRM-0042",
        "model-owner": "credit-risk",
        "model-risk-tier": tier,
        "model-validation-date": validated.isoformat(),
    }
    return Estate(
        [
            Resource(
                id=WORKSPACE,
                type="microsoft.machinelearningservices/workspaces",
                name="mlw-credit",
                kind="Default",
                tags=tags,
                properties={},
            )
        ]
    )


def failing(estate: Estate, catalog: Catalog) -> dict[str, tuple[tuple[str, Any], ...]]:
    """Inventory check id → evidence, for each inventory check that fails on the estate."""
    assessment, _ = run_scan(estate, ["sr11_7"], scan_ts=SCAN_TS, catalog=catalog)
    return {r.check.id: r.evidence for r in assessment.failed if r.check.id.startswith("INV-")}


def test_the_defaults_are_the_periods_and_tiers_the_catalogue_ships() -> None:
    catalog = load_catalog()
    assert apply_house_policy(catalog, DEFAULT_POLICY) == catalog
    params = catalog.check("INV-VALIDATION-DATE").params
    assert (params["max_age_days"], params["max_age_days_by_tier"]) == (
        DEFAULT_POLICY.review_period_days,
        DEFAULT_POLICY.review_period_days_by_tier,
    )
    assert catalog.check("INV-RISK-TIER").params["allowed"] == list(DEFAULT_POLICY.risk_tiers)


def test_a_200_day_old_validation_passes_at_365_days_and_fails_at_180() -> None:
    estate = workspace(days_since_validation=200)
    assert failing(estate, load_catalog()) == {}

    stricter = apply_house_policy(load_catalog(), HousePolicy(review_period_days=180))
    found = failing(estate, stricter)
    assert list(found) == ["INV-VALIDATION-DATE"]
    # The auditor sees the period this scan applied, named as house policy.
    assert ("days since validation", 200) in found["INV-VALIDATION-DATE"]
    assert ("house review period (days)", 180) in found["INV-VALIDATION-DATE"]


def test_a_tier_s_own_period_wins_over_the_general_one() -> None:
    estate = workspace(days_since_validation=200, tier="Tier-1")
    assert "INV-VALIDATION-DATE" in failing(estate, load_catalog())  # 180 days by default
    longer = HousePolicy(review_period_days_by_tier={"tier-1": 365})
    assert failing(estate, apply_house_policy(load_catalog(), longer)) == {}


def test_the_policy_s_risk_tiers_are_the_values_a_tier_tag_may_take() -> None:
    metals = HousePolicy(risk_tiers=("gold", "silver"), review_period_days_by_tier={"gold": 90})
    catalog = apply_house_policy(load_catalog(), metals)
    assert "INV-RISK-TIER" in failing(workspace(30, tier="tier-2"), catalog)
    assert failing(workspace(30, tier="Silver"), catalog) == {}
    assert "INV-VALIDATION-DATE" in failing(workspace(91, tier="gold"), catalog)


def test_the_cached_catalogue_is_never_changed() -> None:
    shipped = load_catalog()
    before = shipped.check("INV-VALIDATION-DATE").params["max_age_days_by_tier"]
    applied = apply_house_policy(
        shipped, HousePolicy(review_period_days=30, review_period_days_by_tier={"high": 7})
    )
    assert applied.check("INV-VALIDATION-DATE").params["max_age_days"] == 30
    assert load_catalog() is shipped
    assert shipped.check("INV-VALIDATION-DATE").params["max_age_days"] == 365
    assert shipped.check("INV-VALIDATION-DATE").params["max_age_days_by_tier"] == before
    assert before == {"tier-1": 180, "high": 180}
    assert applied.controls == shipped.controls  # the mappings are the catalogue's


def test_the_check_description_states_no_fixed_period_as_the_rule() -> None:
    check = load_catalog().check("INV-VALIDATION-DATE")
    assert "house review period" in check.description
    assert "365 days by default" in check.description
    assert not any("SR 11-7" in (ref.title or "") for ref in check.references)
    assert any("SR 26-2" in (ref.title or "") for ref in check.references)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"review_period_days": 0}, "review_period_days"),
        ({"review_period_days": 3651}, "review_period_days"),
        ({"review_period_days": "365"}, "review_period_days"),  # strict: no text for a number
        ({"review_period_days": True}, "review_period_days"),
        ({"review_period_days_by_tier": {"tier-1": 0}}, "review_period_days_by_tier"),
        ({"risk_tiers": []}, "risk_tiers"),
        ({"risk_tiers": ["high", "HIGH"]}, "risk_tiers"),
        ({"risk_tiers": ["high", 1]}, "risk_tiers"),
        ({"risk_tiers": ["high\nlow"]}, "risk_tiers"),
        ({"review_period_days_by_tier": {"tier-9": 30}}, "review_period_days_by_tier"),
        ({"review_period_days_by_tier": {"high": 30, "High": 60}}, "review_period_days_by_tier"),
        ({"review_days": 30}, "review_days"),
    ],
)
def test_settings_out_of_bounds_are_refused(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        HousePolicy.model_validate(settings)


def test_the_bounds_themselves_are_accepted() -> None:
    assert HousePolicy(review_period_days=1).review_period_days == 1
    assert HousePolicy(review_period_days=3650).review_period_days == 3650


@pytest.mark.parametrize("name", ["policy.yaml", "policy.json"])
def test_a_policy_file_in_yaml_or_json(tmp_path: Path, name: str) -> None:
    settings = {"review_period_days": 270, "review_period_days_by_tier": {"high": 90}}
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(settings))
    else:
        path.write_text("review_period_days: 270\nreview_period_days_by_tier:\n  high: 90\n")
    policy = read_house_policy(path)
    assert (policy.review_period_days, policy.review_period_days_by_tier) == (270, {"high": 90})
    assert policy.risk_tiers == DEFAULT_POLICY.risk_tiers  # not given: the default
    (tmp_path / "empty.yaml").write_text("")
    assert read_house_policy(tmp_path / "empty.yaml") == DEFAULT_POLICY


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("review_period_days: [\n", "is not valid YAML or JSON at line"),
        ("- 180\n", "must be a mapping of settings"),
        ("review_period_days: 0\n", "review_period_days: Input should be greater than"),
        ("risk_tiers: [a]\n", "review_period_days_by_tier names a tier that is not in"),
        (b"\xff\xfe", "cannot be read (not UTF-8 text)"),
    ],
)
def test_a_bad_policy_file_is_one_line_saying_what_is_wrong(
    tmp_path: Path, content: str | bytes, problem: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(HousePolicyError) as raised:
        read_house_policy(path)
    assert problem in str(raised.value)
    assert "\n" not in str(raised.value)
    with pytest.raises(HousePolicyError, match="cannot be read"):
        read_house_policy(tmp_path / "missing.yaml")


# --- the tag names the inventory checks read ----------------------------------------------------

INVENTORY_CHECKS = ("INV-MODEL-OWNER", "INV-RISK-TIER", "INV-VALIDATION-DATE", "INV-MODEL-ID")
ACCOUNT = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ai"
    "/providers/Microsoft.CognitiveServices/accounts/oai-credit"
)


def tagged(tags: dict[str, str]) -> Estate:
    """A classic-ML workspace carrying exactly these tags."""
    return Estate(
        [
            Resource(
                id=WORKSPACE,
                type="microsoft.machinelearningservices/workspaces",
                name="mlw-credit",
                kind="Default",
                tags=tags,
                properties={},
            )
        ]
    )


def validated(days: int) -> str:
    return (SCAN_TS.date() - dt.timedelta(days=days)).isoformat()


def own_keys(**keys: list[str]) -> Catalog:
    policy = HousePolicy(inventory_tag_keys=InventoryTagKeys.model_validate(keys))
    return apply_house_policy(load_catalog(), policy)


def test_a_resource_inventoried_under_common_aliases_passes() -> None:
    estate = tagged(
        {
            "model-inventory-id": "MRM-0042",
            "mrm-owner": "credit-risk",
            "risk-tier": "tier-2",
            "validated-on": validated(30),
        }
    )
    assert failing(estate, load_catalog()) == {}


@pytest.mark.parametrize(
    ("tags", "check"),
    [
        ({"model-ref": "MRM-0042"}, "INV-MODEL-ID"),
        ({"mrm_id": "MRM-0042"}, "INV-MODEL-ID"),
        ({"Model-Risk-Owner": "credit-risk"}, "INV-MODEL-OWNER"),
        ({"modelTier": "tier-3"}, "INV-RISK-TIER"),
        ({"risk_rating": "High"}, "INV-RISK-TIER"),
        ({"validation-date": validated(10)}, "INV-VALIDATION-DATE"),
        ({"last-validated": validated(10)}, "INV-VALIDATION-DATE"),
        ({"model-validated-on": validated(10)}, "INV-VALIDATION-DATE"),
    ],
)
def test_each_alias_satisfies_its_check(tags: dict[str, str], check: str) -> None:
    assert check in failing(tagged({}), load_catalog())
    assert check not in failing(tagged(tags), load_catalog())


def test_a_plain_owner_tag_is_not_a_model_owner() -> None:
    """`owner` names whoever runs or pays for a resource: not evidence of a model owner."""
    assert "INV-MODEL-OWNER" in failing(tagged({"owner": "platform-ops"}), load_catalog())
    assert "INV-MODEL-OWNER" not in failing(
        tagged({"owner": "credit-risk"}), own_keys(model_owner=["owner"])
    )


def test_a_house_tag_name_fails_by_default_and_passes_once_the_policy_names_it() -> None:
    estate = tagged(
        {
            "x-mrm-ref": "MRM-0042",
            "x-mrm-owner": "credit-risk",
            "x-mrm-tier": "tier-2",
            "x-mrm-validated": validated(30),
        }
    )
    assert set(failing(estate, load_catalog())) == set(INVENTORY_CHECKS)
    catalog = own_keys(
        model_id=["x-mrm-ref"],
        model_owner=["x-mrm-owner"],
        risk_tier=["x-mrm-tier"],
        validation_date=["x-mrm-validated"],
    )
    assert failing(estate, catalog) == {}


def test_the_policy_s_names_come_before_the_aliases() -> None:
    # An old alias tag left behind next to the house's own: the house's own decides.
    estate = tagged({"validated-on": validated(400), "x-validated": validated(30)})
    assert "INV-VALIDATION-DATE" in failing(estate, load_catalog())
    assert "INV-VALIDATION-DATE" not in failing(estate, own_keys(validation_date=["x-validated"]))
    params = (
        own_keys(validation_date=["X-Validated", "Validated-On"])
        .check("INV-VALIDATION-DATE")
        .params
    )
    assert params["keys"][:2] == ["X-Validated", "Validated-On"]
    assert "validated-on" not in params["keys"]  # named once: the policy's spelling
    assert "model-validation-date" in params["keys"]


def test_the_house_tier_name_also_picks_the_review_period() -> None:
    estate = tagged({"model-validation-date": validated(200), "x-tier": "tier-1"})
    assert "INV-VALIDATION-DATE" not in failing(estate, load_catalog())  # no tier: 365 days
    stricter = own_keys(risk_tier=["x-tier"])
    assert stricter.check("INV-VALIDATION-DATE").params["tier_keys"][0] == "x-tier"
    evidence = failing(estate, stricter)["INV-VALIDATION-DATE"]
    assert ("house review period (days)", 180) in evidence  # tier-1's period


def test_a_deployment_inherits_its_account_s_house_tags() -> None:
    deployment = Resource(
        id=f"{ACCOUNT}/deployments/gpt-4o",
        type="microsoft.cognitiveservices/accounts/deployments",
        name="gpt-4o",
        properties={},
    )
    account = Resource(
        id=ACCOUNT,
        type="microsoft.cognitiveservices/accounts",
        name="oai-credit",
        kind="OpenAI",
        tags={"x-mrm-ref": "MRM-0042"},
        properties={},
    )
    assessment, _ = run_scan(
        Estate([account, deployment]),
        ["sr11_7"],
        scan_ts=SCAN_TS,
        catalog=own_keys(model_id=["x-mrm-ref"]),
    )
    failed_ids = {(r.check.id, r.resource.name) for r in assessment.failed}
    assert ("INV-MODEL-ID", "gpt-4o") not in failed_ids
    assert ("INV-MODEL-ID", "oai-credit") not in failed_ids
    assert ("INV-MODEL-OWNER", "gpt-4o") in failed_ids  # (the rest is still checked)


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"model_id": [f"k{i}" for i in range(21)]}, "at most 20 items"),
        ({"model_id": ["k" * 513]}, "at most 512 characters"),
        ({"model_owner": ["model/owner"]}, "cannot hold any of < > % & \\ ? /"),
        ({"risk_tier": ["a<b"]}, "cannot hold any of"),
        ({"risk_tier": ["tier", "TIER"]}, "tag names must differ (without case"),
        ({"validation_date": [" validated"]}, "without control characters or outer spaces"),
        ({"validation_date": ["valid\tated"]}, "without control characters or outer spaces"),
        ({"validation_date": [""]}, "at least 1 character"),
        ({"model_id": [42]}, "valid string"),
        ({"model_id": "x-mrm-ref"}, "valid tuple"),
        ({"model_ids": ["x"]}, "Extra inputs are not permitted"),
    ],
)
def test_tag_names_out_of_bounds_are_refused(keys: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as raised:
        HousePolicy.model_validate({"inventory_tag_keys": keys})
    assert problem in str(raised.value)
    assert raised.value.errors()[0]["loc"][0] == "inventory_tag_keys"


def test_the_bounds_of_tag_names_are_accepted() -> None:
    keys = InventoryTagKeys(model_id=tuple(f"k{i}" for i in range(20)), model_owner=("k" * 512,))
    assert len(HousePolicy(inventory_tag_keys=keys).inventory_tag_keys.model_id) == 20


def test_a_policy_file_names_tag_keys(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("inventory_tag_keys:\n  model_id: [x-mrm-ref, mrm-number]\n")
    policy = read_house_policy(path)
    assert policy.inventory_tag_keys.model_id == ("x-mrm-ref", "mrm-number")
    assert policy.inventory_tag_keys.risk_tier == ()
    assert policy.review_period_days == DEFAULT_POLICY.review_period_days
    path.write_text("inventory_tag_keys:\n  model_id: [a/b]\n")
    with pytest.raises(HousePolicyError, match=r"inventory_tag_keys\.model_id: a tag name cannot"):
        read_house_policy(path)
