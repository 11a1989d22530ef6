"""Build resources and estates from the compact YAML cases of check_cases/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tutela.scanner.estate import UNKNOWN, Estate, Resource
from tutela.scanner.sources.relate import relate

CASES_DIR = Path(__file__).parent / "check_cases"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


def _unknowns(value: Any) -> Any:
    """The string ``UNKNOWN`` in a case stands for a value the source could not determine."""
    if value == "UNKNOWN":
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns(v) for v in value]
    return value


def make_resource(data: dict[str, Any]) -> Resource:
    """A resource from a case: ``type`` is required; id, name and placement get defaults."""
    values = _unknowns(dict(data))
    resource_type = values["type"]
    name = values.get("name", "test")
    if resource_type == "microsoft.resources/subscriptions":
        default_id = f"/subscriptions/{SUBSCRIPTION}"
    else:
        default_id = (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-test/providers/{resource_type}/{name}"
        )
    values.setdefault("id", default_id)
    values.setdefault("name", name)
    values.setdefault("subscription_id", SUBSCRIPTION)
    values.setdefault("resource_group", "rg-test")
    values.setdefault("location", "westeurope")
    return Resource(**values)


def load_cases() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """check id → {"pass": [...], "fail": [...], "unknown": [...]} from every case file."""
    cases: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for check_id, outcomes in (yaml.safe_load(path.read_text()) or {}).items():
            if check_id in cases:
                raise ValueError(f"cases for {check_id} appear twice ({path.name})")
            cases[check_id] = outcomes
    return cases


def case_estate(case: dict[str, Any]) -> tuple[Resource, Estate]:
    """The target and its estate, related as every source relates its resources.

    No kind of fact is marked visible: a case gives the facts it means explicitly.
    """
    target = make_resource(case["resource"])
    related = [make_resource(r) for r in case.get("related", [])]
    resources = relate(
        [target, *related],
        sees_diagnostics=False,
        sees_access=False,
        sees_security=False,
        sees_policy=False,
    )
    return target, Estate(resources)
