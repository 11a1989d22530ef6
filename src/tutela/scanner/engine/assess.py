"""From check results to findings and scores: what a report says about an estate.

Scoring (documented in catalog/README.md): every decided (check, resource) pair weighs its
severity (critical 10, high 5, medium 3, low 1). A framework's score is the weighted share of
passing pairs among the decided pairs whose check evidences one of the framework's controls;
the aggregate score does the same over every pair that counts for any scanned framework, each
pair once. Scores are whole numbers from 0 to 100, and ``None`` when nothing could be decided.
Unknown results count neither way; the report says how many there were.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import SEVERITIES, CheckSpec, finding_control_id
from tutela.scanner.engine.evaluate import CheckResult, evaluate_estate
from tutela.scanner.estate import Estate

SEVERITY_WEIGHTS = {"critical": 10, "high": 5, "medium": 3, "low": 1}
_SEVERITY_ORDER: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(slots=True, frozen=True)
class MappedControl:
    framework: str
    control_id: str  # as findings show it, e.g. ISO42001-A.6.2.6
    title: str
    by_analogy: bool


@dataclass(slots=True)
class Finding:
    """A failing check on one resource, as evidence against one control of one framework."""

    control_id: str
    control_title: str
    framework: str
    by_analogy: bool
    check_id: str
    resource: str
    resource_name: str
    resource_type: str
    severity: str
    status: str
    title: str
    description: str
    remediation: str
    evidence: tuple[tuple[str, Any], ...]
    origin: str | None = None  # where the resource was declared, for file-based reports
    narrative: str | None = None


@dataclass(slots=True)
class FrameworkResult:
    framework: str
    score: int | None
    checks_evaluated: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_unknown: int = 0
    controls_assessed: int = 0
    controls_with_gaps: int = 0


@dataclass(slots=True)
class Assessment:
    """Everything the engine concluded about one estate for some frameworks."""

    frameworks: tuple[str, ...]
    resources_scanned: int
    results: list[CheckResult]
    findings: list[Finding]
    framework_results: dict[str, FrameworkResult]
    aggregate_score: int | None
    severity_counts: dict[str, int]
    checks_evaluated: int
    checks_passed: int
    checks_failed: int
    checks_unknown: int
    unknown_results: list[CheckResult] = field(default_factory=list)
    # check id → the scanned frameworks it counts for
    check_frameworks: dict[str, tuple[str, ...]] = field(default_factory=dict)


def control_map(catalog: Catalog, frameworks: Sequence[str]) -> dict[str, list[MappedControl]]:
    """check id → the controls it evidences in the given frameworks, in framework order."""
    mapping: dict[str, list[MappedControl]] = {}
    for framework in frameworks:
        controls = catalog.controls_of(framework)
        if controls is None:
            continue
        for control in controls.controls:
            shown = finding_control_id(controls.control_prefix, control.id)
            for check_id in control.checks:
                mapping.setdefault(check_id, []).append(
                    MappedControl(framework, shown, control.title, False)
                )
            for check_id in control.analogy_checks:
                mapping.setdefault(check_id, []).append(
                    MappedControl(framework, shown, control.title, True)
                )
    return mapping


def _analogy_types(catalog: Catalog, frameworks: Sequence[str]) -> dict[str, tuple[str, ...]]:
    found = {}
    for framework in frameworks:
        controls = catalog.controls_of(framework)
        if controls is not None and controls.analogy_resource_types:
            found[framework] = controls.analogy_resource_types
    return found


def _reached_by_analogy(resource_type: str, patterns: tuple[str, ...] | None) -> bool:
    return bool(patterns) and any(fnmatch.fnmatchcase(resource_type, p) for p in patterns or ())


def _score(passed: float, decided: float) -> int | None:
    return None if decided == 0 else round(100 * passed / decided)


def assess(
    estate: Estate,
    catalog: Catalog,
    frameworks: Sequence[str],
    *,
    as_of: dt.date,
) -> Assessment:
    """Evaluate the checks that evidence the frameworks' controls, and score the results."""
    unknown_ids = set(frameworks) - set(catalog.framework_ids)
    if unknown_ids:
        raise ValueError(f"unknown frameworks {sorted(unknown_ids)}")
    mapping = control_map(catalog, frameworks)
    analogy_types = _analogy_types(catalog, frameworks)
    checks: list[CheckSpec] = [c for c in catalog.checks if c.id in mapping]
    results = evaluate_estate(estate, checks, as_of=as_of)

    weighted = {f: [0.0, 0.0] for f in frameworks}  # passed, decided
    per_framework = {f: FrameworkResult(f, None) for f in frameworks}
    assessed: dict[str, set[str]] = {f: set() for f in frameworks}
    gaps: dict[str, set[str]] = {f: set() for f in frameworks}
    total_passed = total_decided = 0.0
    findings: list[Finding] = []
    unknown_results: list[CheckResult] = []
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    passed_n = failed_n = unknown_n = 0
    for result in results:
        check, resource, status = result.check, result.resource, result.status
        controls = mapping[check.id]
        weight = SEVERITY_WEIGHTS[check.severity]
        touched = {c.framework for c in controls}
        for framework in touched:
            tally = per_framework[framework]
            tally.checks_evaluated += 1
            if status == "pass":
                tally.checks_passed += 1
            elif status == "fail":
                tally.checks_failed += 1
            else:
                tally.checks_unknown += 1
            if status != "unknown":
                weighted[framework][1] += weight
                if status == "pass":
                    weighted[framework][0] += weight
        for control in controls:
            assessed[control.framework].add(control.control_id)
        if status == "unknown":
            unknown_n += 1
            unknown_results.append(result)
            continue
        total_decided += weight
        if status == "pass":
            passed_n += 1
            total_passed += weight
            continue
        failed_n += 1
        for control in controls:
            gaps[control.framework].add(control.control_id)
            counts[check.severity] += 1
            findings.append(
                Finding(
                    control_id=control.control_id,
                    control_title=control.title,
                    framework=control.framework,
                    by_analogy=control.by_analogy
                    or _reached_by_analogy(resource.type, analogy_types.get(control.framework)),
                    check_id=check.id,
                    resource=resource.id,
                    resource_name=resource.name,
                    resource_type=resource.type,
                    severity=check.severity,
                    status="fail",
                    title=check.title,
                    description=check.description,
                    remediation=check.remediation,
                    evidence=result.evidence,
                    origin=resource.origin,
                )
            )
    framework_order = {f: i for i, f in enumerate(frameworks)}
    findings.sort(
        key=lambda f: (
            _SEVERITY_ORDER[f.severity],
            framework_order[f.framework],
            f.control_id,
            f.resource,
        )
    )
    for framework, tally in per_framework.items():
        tally.score = _score(*weighted[framework])
        tally.controls_assessed = len(assessed[framework])
        tally.controls_with_gaps = len(gaps[framework])
    return Assessment(
        frameworks=tuple(frameworks),
        resources_scanned=len(estate),
        results=results,
        findings=findings,
        framework_results=per_framework,
        aggregate_score=_score(total_passed, total_decided),
        severity_counts=counts,
        checks_evaluated=len(results),
        checks_passed=passed_n,
        checks_failed=failed_n,
        checks_unknown=unknown_n,
        unknown_results=unknown_results,
        check_frameworks={
            check_id: tuple(dict.fromkeys(c.framework for c in controls))
            for check_id, controls in mapping.items()
        },
    )
