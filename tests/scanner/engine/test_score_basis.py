"""A report's ``score_basis`` is what its scores were computed from: re-scoring it gives them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.assess import SEVERITY_WEIGHTS
from tutela.scanner.engine.mapping import STRENGTH_FACTOR
from tutela.scanner.samples import sample_estate_path
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import read_estate

FRAMEWORKS = [f.id for f in load_catalog().frameworks]


def _score(passed: float, decided: float) -> int | None:
    return None if decided == 0 else round(100 * passed / decided)


def rescored(basis: list[dict[str, Any]], framework: str | None = None) -> int | None:
    """A framework's score (or the aggregate) from the basis alone, by the documented rule."""
    passed = decided = 0.0
    for entry in basis:
        strengths = entry["frameworks"]
        if framework is not None and framework not in strengths:
            continue
        chosen = [strengths[framework]] if framework is not None else list(strengths.values())
        weight = SEVERITY_WEIGHTS[entry["severity"]] * max(STRENGTH_FACTOR[s] for s in chosen)
        passed += weight * entry["passed"]
        decided += weight * (entry["passed"] + entry["failed"])
    return _score(passed, decided)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    estate = read_estate([sample_estate_path()])
    _, document = run_scan(estate, FRAMEWORKS, scan_ts=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
    return document.to_dict()


def test_rescoring_the_basis_gives_the_reports_scores(report: dict[str, Any]) -> None:
    basis = report["score_basis"]
    assert basis, "the sample has decided pairs"
    assert rescored(basis) == report["aggregate_score"]
    for framework, scores in report["framework_scores"].items():
        assert rescored(basis, framework) == scores["score"], framework


def test_the_basis_counts_every_pair_and_every_control_once(report: dict[str, Any]) -> None:
    basis = report["score_basis"]
    for field in ("passed", "failed", "unknown"):
        assert sum(entry[field] for entry in basis) == report[f"checks_{field}"], field
    for framework, scores in report["framework_scores"].items():
        counted = {c for e in basis if framework in e["frameworks"] for c in e["controls"]}
        gaps = {
            c for e in basis if framework in e["frameworks"] and e["failed"] for c in e["controls"]
        }
        mine = {c for c in counted if _framework_of(c) == framework}
        assert len(mine) == scores["controls_assessed"], framework
        assert len({c for c in gaps if c in mine}) == scores["controls_with_gaps"], framework


def test_fixing_a_checks_failures_in_the_basis_raises_the_score(report: dict[str, Any]) -> None:
    """What a roadmap does with it: the gain of fixing one check, computed, not guessed."""
    basis = report["score_basis"]
    worst = max(basis, key=lambda e: SEVERITY_WEIGHTS[e["severity"]] * e["failed"])
    fixed = [
        {**e, "passed": e["passed"] + e["failed"], "failed": 0}
        if e["check_id"] == worst["check_id"]
        else e
        for e in basis
    ]
    assert (rescored(fixed) or 0) > (report["aggregate_score"] or 0)


def _framework_of(control_id: str) -> str:
    """The framework of a control id as findings show it (its prefix names it)."""
    for controls in load_catalog().controls:
        if control_id.startswith(controls.control_prefix + "-"):
            return controls.framework
    raise AssertionError(control_id)
