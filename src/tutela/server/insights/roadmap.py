"""The 30/60/90 remediation roadmap of a saved report: one action per failing check.

Deterministic (docs/insights.md states the rules):

- Horizon by the check's severity: ``immediate`` (30 days) critical, ``short_term`` (60) high,
  ``strategic`` (90) medium and low.
- ``score_gain``: the report's ``score_basis`` re-scored by the engine's rule with the check's
  failed pairs turned to passes, minus the basis re-scored as it is. Reports stored before
  ``score_basis`` existed get null gains, and the summary says so.
- Order within a horizon: gain per effort (Low 1, Medium 2, High 3), highest first, ties by
  check id; without gains: severity, then effort (lowest first), then check id.

The findings are read in batches; per check only its first controls and resources (capped) and
counts are kept. A report's findings come in report order (severity, check, resource), so a
check's resources arrive sorted and together: counting changes of resource counts them exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import CheckSpec
from tutela.scanner.engine.assess import SEVERITY_WEIGHTS
from tutela.scanner.engine.mapping import STRENGTH_FACTOR
from tutela.server.db import utcnow
from tutela.server.insights.access import (
    InsightFinding,
    InsightReader,
    SavedReport,
    saved_report,
)
from tutela.server.insights.roadmap_schemas import Roadmap, RoadmapAction, RoadmapReport
from tutela.server.reports.router import ReportIdPath
from tutela.server.runtime import RuntimeDep, SessionDep

EFFORT_WEIGHT = {"Low": 1, "Medium": 2, "High": 3}
RESOURCES_LISTED = 50  # resource ids an action lists; resource_count has them all
HORIZONS = {
    "critical": "immediate",
    "high": "short_term",
    "medium": "strategic",
    "low": "strategic",
}

_SEVERITIES = ("critical", "high", "medium", "low")
_UNKNOWN_CHECK = "Medium"  # effort of a check this catalogue no longer has

router = APIRouter()  # tagged by the insights router that includes it


# --- reading the findings --------------------------------------------------------------------


@dataclass
class FailingCheck:
    """What the roadmap keeps of a failing check's findings: bounded, whatever the report."""

    severity: str
    title: str
    first_control: str
    strength: dict[str, float] = field(default_factory=dict)  # framework → strongest factor
    controls: dict[str, None] = field(default_factory=dict)  # ordered set
    resources: list[str] = field(default_factory=list)  # the first RESOURCES_LISTED
    resource_count: int = 0
    _last: str | None = None

    def add(self, finding: InsightFinding) -> None:
        framework = str(finding.framework)
        factor = STRENGTH_FACTOR.get(str(finding.mapping), 0.0)
        self.strength[framework] = max(factor, self.strength.get(framework, 0.0))
        self.controls.setdefault(str(finding.control_id))
        resource = str(finding.resource)
        if resource != self._last:
            self._last = resource
            self.resource_count += 1
            if len(self.resources) < RESOURCES_LISTED:
                self.resources.append(resource)


def failing_checks(batches: Iterable[list[InsightFinding]]) -> dict[str, FailingCheck]:
    checks: dict[str, FailingCheck] = {}
    for batch in batches:
        for finding in batch:
            check_id = str(finding.check_id)
            found = checks.get(check_id)
            if found is None:
                found = checks[check_id] = FailingCheck(
                    str(finding.severity).lower(), str(finding.title), str(finding.control_id)
                )
            found.add(finding)
    return checks


# --- re-scoring ------------------------------------------------------------------------------


def aggregate_share(basis: Sequence[dict[str, Any]], fixed: str | None = None) -> float | None:
    """The aggregate score, unrounded, from ``score_basis`` (``fixed``: that check all passing).

    The engine's rule (catalog/README.md, Scores): each decided pair weighs its severity times
    its strongest mapping factor across the frameworks it counts for.
    """
    passed = decided = 0.0
    for entry in basis:
        factors = [STRENGTH_FACTOR[s] for s in entry["frameworks"].values()]
        weight = SEVERITY_WEIGHTS[entry["severity"]] * max(factors, default=0.0)
        ok, failed = int(entry["passed"]), int(entry["failed"])
        if entry["check_id"] == fixed:
            ok, failed = ok + failed, 0
        passed += weight * ok
        decided += weight * (ok + failed)
    return None if decided == 0 else 100 * passed / decided


def gains(basis: Sequence[dict[str, Any]] | None, checks: Iterable[str]) -> dict[str, float]:
    """Check → points the aggregate gains (unrounded) when its failures pass; basis checks only."""
    if not basis:
        return {}
    now = aggregate_share(basis) or 0.0
    in_basis = {entry["check_id"] for entry in basis}
    return {
        check: (aggregate_share(basis, fixed=check) or 0.0) - now
        for check in checks
        if check in in_basis
    }


# --- the roadmap -----------------------------------------------------------------------------


def action_of(
    catalog: Catalog,
    frameworks: Sequence[str],
    check_id: str,
    failing: FailingCheck,
    gain: float | None,
    score_after: int | None,
) -> RoadmapAction:
    """A failing check as a roadmap action, from the catalogue and the report."""
    order = {fw: i for i, fw in enumerate(frameworks)}
    mine = sorted(failing.strength, key=lambda fw: order.get(fw, len(order)))
    strongest = max(mine, key=lambda fw: (failing.strength[fw], -order.get(fw, len(order))))
    spec = _spec(catalog, check_id)
    count = failing.resource_count
    return RoadmapAction(
        action=f"Remediate on {count} resource{'' if count == 1 else 's'}: {failing.title}",
        framework=strongest,
        effort=spec.effort if spec else _UNKNOWN_CHECK,
        owner_role=spec.owner_role if spec else "Cloud Security Engineer",
        azure_steps=spec.portal_steps if spec else "",
        finding_ref=f"{check_id}:{failing.first_control}",
        check_id=check_id,
        severity=failing.severity,
        remediation=spec.remediation if spec else "",
        frameworks=mine,
        controls=list(failing.controls),
        resources=failing.resources,
        resource_count=count,
        score_gain=None if gain is None else round(gain, 1),
        score_after=score_after,
    )


def ordered(actions: Iterable[RoadmapAction], gained: dict[str, float]) -> list[RoadmapAction]:
    """Gain (unrounded) per effort, highest first, then check id; without gains, by severity."""

    def key(action: RoadmapAction) -> tuple[Any, ...]:
        effort = EFFORT_WEIGHT.get(action.effort, 2)
        if gained:
            return (-gained.get(action.check_id, 0.0) / effort, action.check_id)
        return (_severity_rank(action.severity), effort, action.check_id)

    return sorted(actions, key=key)


def build_roadmap(
    catalog: Catalog, header: dict[str, Any], checks: dict[str, FailingCheck]
) -> Roadmap:
    """The roadmap of a report from its header (scores, score_basis) and its failing checks."""
    basis = header.get("score_basis")
    gained = gains(basis, checks)
    now = aggregate_share(basis) if basis else None
    frameworks = [str(fw) for fw in header.get("frameworks", [])]
    horizons: dict[str, list[RoadmapAction]] = {"immediate": [], "short_term": [], "strategic": []}
    for check_id, failing in checks.items():
        gain = gained.get(check_id)
        after = None if gain is None or now is None else round(now + gain)
        action = action_of(catalog, frameworks, check_id, failing, gain, after)
        horizons[HORIZONS.get(failing.severity, "strategic")].append(action)
    for name, actions in horizons.items():
        horizons[name] = ordered(actions, gained)
    return Roadmap(
        **horizons,
        summary_note=summary_note(horizons, bool(basis), header.get("aggregate_score")),
        aggregate_score=header.get("aggregate_score"),
    )


def summary_note(
    horizons: dict[str, list[RoadmapAction]], gains_known: bool, score: int | None
) -> str:
    """Counts per horizon and the action with the biggest gain, in fixed sentences."""
    total = sum(len(actions) for actions in horizons.values())
    if total == 0:
        return "No failing checks in this report: nothing to remediate."
    sentences = [
        f"{_count(total, 'action')}: {len(horizons['immediate'])} immediate (30 days, critical), "
        f"{len(horizons['short_term'])} short-term (60 days, high), "
        f"{len(horizons['strategic'])} strategic (90 days, medium and low)."
    ]
    if not gains_known:
        sentences.append(
            "This report was stored without a score basis, so score gains are not computed; "
            "a new scan of the same scope gives them."
        )
        return " ".join(sentences)
    every = [a for actions in horizons.values() for a in actions]
    best = min(every, key=lambda a: (-(a.score_gain or 0.0), a.check_id))
    sentences.append(
        f"The biggest gain: {best.check_id} ({best.action}) raises the aggregate score from "
        f"{score} to {best.score_after} (+{best.score_gain} points)."
    )
    return " ".join(sentences)


def remediation_roadmap(catalog: Catalog, report: SavedReport, now: dt.datetime) -> RoadmapReport:
    header = report.header()
    return RoadmapReport(
        report_id=report.report_id,
        plan=report.plan,
        generated_at=now,
        roadmap=build_roadmap(catalog, header, failing_checks(report.findings())),
    )


@router.get(
    "/report/{report_id}/roadmap",
    summary="30/60/90-day remediation roadmap of a report, with each action's score gain",
)
def get_roadmap(
    report_id: ReportIdPath, session: SessionDep, runtime: RuntimeDep, caller: InsightReader
) -> RoadmapReport:
    now = utcnow()
    report = saved_report(session, caller, runtime.catalog, runtime.keyring, report_id, now)
    return remediation_roadmap(runtime.catalog, report, now)


# Lazily included routers are not walked by the app's documentation pass: document it here.


# --- wording ---------------------------------------------------------------------------------


def _spec(catalog: Catalog, check_id: str) -> CheckSpec | None:
    """The catalogue's check, or None for one this catalogue no longer has."""
    try:
        return catalog.check(check_id)
    except KeyError:
        return None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _severity_rank(severity: str) -> int:
    return _SEVERITIES.index(severity) if severity in _SEVERITIES else len(_SEVERITIES)
