"""Every check against its own pass, fail and unknown cases (check_cases/*.yaml).

The cases are data: adding a check and its cases adds these tests, and a check without a passing
and a failing case fails the suite.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.scanner.engine.cases import case_estate, load_cases
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate

AS_OF = dt.date(2026, 11, 23)
CATALOG = load_catalog()
CASES = load_cases()


def _params() -> list[Any]:
    params = []
    for check_id, outcomes in CASES.items():
        for expected, cases in outcomes.items():
            for index, case in enumerate(cases):
                label = case.get("name", str(index))
                params.append(
                    pytest.param(check_id, expected, case, id=f"{check_id}-{expected}-{label}")
                )
    return params


def test_every_check_has_a_passing_and_a_failing_case() -> None:
    missing = [
        check.id
        for check in CATALOG.checks
        if not (CASES.get(check.id, {}).get("pass") and CASES.get(check.id, {}).get("fail"))
    ]
    assert not missing, f"checks without a pass and a fail case: {missing}"


def test_every_case_names_a_check() -> None:
    known = {check.id for check in CATALOG.checks}
    assert set(CASES) <= known, f"cases for unknown checks: {sorted(set(CASES) - known)}"


@pytest.mark.parametrize(("check_id", "expected", "case"), _params())
def test_check_case(check_id: str, expected: str, case: dict[str, Any]) -> None:
    check = CATALOG.check(check_id)
    target, estate = case_estate(case)
    results = [r for r in evaluate_estate(estate, [check], as_of=AS_OF) if r.resource is target]
    if expected == "not_applicable":
        assert results == []
        return
    assert len(results) == 1, f"{check_id} did not run on {target.type}"
    assert results[0].status == expected, results[0].evidence
    assert results[0].evidence, "a result must say what it read"
