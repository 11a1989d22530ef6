"""The executive scorecard of a saved report: RAG per framework, top gaps, trajectory, narrative.

Everything here is deterministic (docs/insights.md states the rules):

- RAG of a framework: RED on a critical finding or a score below 60; AMBER on a high finding, a
  score below 80, or no score (nothing decided, so nothing evidenced); GREEN otherwise. The
  overall RAG is the worst of the frameworks' and of the same rule on the report's totals.
- Trajectory: this report's aggregate score against the oldest of the last three scored reports
  of the same type (the listing columns, never the old bodies); a move of 5 points or more is a
  trend.
- Top gaps: failing checks by severity, then resources failing, then direct before supporting.
- Accepted risks: failing pairs the report accepted (``checks_accepted``) are out of its counts
  and scores, so out of the RAG and the gaps; the scorecard says how many there are.
- Board narrative: written by the configured model (``TUTELA_LLM_*``) from the scorecard's
  numbers and catalogue words only (``board_facts``), else or on any failure of the model by
  ``board_narrative`` below; ``generated_by`` says which.

The findings are read in batches and only counts per (check, framework, control) are kept: a
check fails once per resource under each control it maps to, so the resources failing a check
are its largest count under one control.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session, sessionmaker

from tutela.scanner.catalog import Catalog
from tutela.server.auth.caller import Caller
from tutela.server.config import Settings
from tutela.server.db import transaction, utcnow
from tutela.server.encryption.keyring import Keyring
from tutela.server.insights.access import (
    InsightFinding,
    InsightReader,
    SavedReport,
    saved_report,
)
from tutela.server.insights.scorecard_schemas import (
    Gap,
    Rag,
    Scorecard,
    ScorecardReport,
    Severity,
    Trajectory,
)
from tutela.server.narration import GeneratedBy
from tutela.server.narration import board_narrative as model_board_narrative
from tutela.server.pagination import encode_cursor
from tutela.server.reports.router import ReportIdPath
from tutela.server.reports.service import list_reports
from tutela.server.runtime import RuntimeDep

RED_BELOW, AMBER_BELOW = 60, 80  # aggregate or framework score (0-100)
TREND_POINTS = 5  # a move this large across the compared reports is a trend
COMPARED_REPORTS = 3  # this report and up to two earlier ones
HISTORY_LOOKBACK = 20  # earlier reports read to find two with a score
TOP_GAPS = 5

_SEVERITIES = ("critical", "high", "medium", "low")
_STRENGTHS = ("direct", "supporting", "by analogy")
_RAG_ORDER: dict[Rag, int] = {"GREEN": 0, "AMBER": 1, "RED": 2}
_HORIZON = {"critical": 30, "high": 60, "medium": 90, "low": 90}  # the roadmap's horizons

router = APIRouter()  # included in the insights router, which gives the tag
# The insights router's gate (Enterprise, 403 naming the plan), restated so that the insights
# router can import this module at its top without a cycle.


# --- RAG -------------------------------------------------------------------------------------


def rag_of(score: int | None, critical: int, high: int) -> tuple[Rag, list[str]]:
    """The RAG of one framework (or of the report's totals) and the facts that decided it."""
    red = [f"{_count(critical, 'critical finding')} open"] if critical else []
    if score is not None and score < RED_BELOW:
        red.append(f"a score of {score}/100, below {RED_BELOW}")
    if red:
        return "RED", red
    amber = [f"{_count(high, 'high finding')} open"] if high else []
    if score is None:
        amber.append("no score (no check could be decided, so nothing is evidenced)")
    elif score < AMBER_BELOW:
        amber.append(f"a score of {score}/100, below {AMBER_BELOW}")
    if amber:
        return "AMBER", amber
    return "GREEN", [f"a score of {score}/100 with no critical or high finding"]


# --- trajectory ------------------------------------------------------------------------------


def trajectory_of(current: int | None, earlier: Sequence[int]) -> tuple[Trajectory, str]:
    """Compare this score with the oldest of up to two earlier ones (newest first)."""
    if current is None:
        return "STABLE", "This report has no aggregate score, so no trend is computed."
    if not earlier:
        return "STABLE", "No earlier report to compare; the trend starts from this report."
    series = [*reversed(earlier), current]
    change = current - series[0]
    path = " → ".join(str(score) for score in series)
    span = f"across the last {len(series)} reports ({path})"
    if change >= TREND_POINTS:
        return "IMPROVING", f"Score improved {change} points {span}."
    if change <= -TREND_POINTS:
        return "DECLINING", f"Score declined {-change} points {span}."
    return "STABLE", (
        f"Score moved {change:+d} points {span}, within ±{TREND_POINTS - 1} points: stable."
    )


def earlier_scores(
    session: Session, caller: Caller, catalog: Catalog, report: SavedReport, now: dt.datetime
) -> list[int]:
    """Aggregate scores of up to two earlier reports of the same type, newest first."""
    row = report.row
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    rows, _ = list_reports(
        session,
        caller,
        catalog,
        now,
        report_type=row.type,
        cursor=encode_cursor(created, row.id),  # the reports listed before this one
        limit=HISTORY_LOOKBACK,
    )
    scores = [r.aggregate_score for r in rows if r.aggregate_score is not None]
    return scores[: COMPARED_REPORTS - 1]


# --- gaps ------------------------------------------------------------------------------------


@dataclass
class CheckTally:
    """What a failing check amounts to in a report: counts only, never the findings."""

    severity: str
    title: str
    findings: dict[tuple[str, str], int] = field(default_factory=dict)  # (framework, control)
    in_ai_workloads: dict[tuple[str, str], int] = field(default_factory=dict)
    strength: dict[str, str] = field(default_factory=dict)  # framework → strongest mapping

    def add(self, finding: InsightFinding) -> None:
        key = (str(finding.framework), str(finding.control_id))
        self.findings[key] = self.findings.get(key, 0) + 1
        if finding.ai_workload:
            self.in_ai_workloads[key] = self.in_ai_workloads.get(key, 0) + 1
        framework, mapping = key[0], str(finding.mapping)
        held = self.strength.get(framework)
        if held is None or _strength_rank(mapping) < _strength_rank(held):
            self.strength[framework] = mapping

    @property
    def resources(self) -> int:
        return max(self.findings.values(), default=0)

    @property
    def ai_resources(self) -> int:
        return max(self.in_ai_workloads.values(), default=0)

    @property
    def has_direct(self) -> bool:
        return "direct" in self.strength.values()


@dataclass
class Tally:
    checks: dict[str, CheckTally] = field(default_factory=dict)
    by_framework: dict[tuple[str, str], int] = field(default_factory=dict)  # (fw, severity)

    def add(self, batch: Iterable[InsightFinding]) -> None:
        for finding in batch:
            severity = str(finding.severity).lower()
            key = (str(finding.framework), severity)
            self.by_framework[key] = self.by_framework.get(key, 0) + 1
            check = str(finding.check_id)
            if check not in self.checks:
                self.checks[check] = CheckTally(severity, str(finding.title))
            self.checks[check].add(finding)

    def count(self, framework: str, severity: str) -> int:
        return self.by_framework.get((framework, severity), 0)

    def ranked(self) -> list[tuple[str, CheckTally]]:
        """Most serious first: severity, resources failing, a direct mapping, then check id."""
        return sorted(
            self.checks.items(),
            key=lambda item: (
                _severity_rank(item[1].severity),
                -item[1].resources,
                not item[1].has_direct,
                item[0],
            ),
        )


def gap_of(catalog: Catalog, check_id: str, tally: CheckTally) -> Gap:
    """A failing check in business language, from the catalogue and the report's counts."""
    frameworks = sorted(tally.strength, key=lambda fw: (_strength_rank(tally.strength[fw]), fw))
    resources = _count(tally.resources, "resource")
    if tally.ai_resources:
        resources += f" ({tally.ai_resources} in AI workloads)"
    gap = f"{tally.title}: fails on {resources}, under {_names(catalog, frameworks)}."
    by_strength = {s: [fw for fw in frameworks if tally.strength[fw] == s] for s in _STRENGTHS}
    impact = [f"{tally.severity.capitalize()} severity: {_reason(catalog, check_id)}"]
    if by_strength["direct"]:
        impact.append(
            f"An examiner applying {_names(catalog, by_strength['direct'])} would record it as "
            "a gap against the control's own text."
        )
    if by_strength["supporting"]:
        impact.append(f"It weakens the evidence for {_names(catalog, by_strength['supporting'])}.")
    if by_strength["by analogy"]:
        impact.append(
            f"It is a gap by analogy under {_names(catalog, by_strength['by analogy'])} "
            "(generative AI is outside that guidance's scope)."
        )
    impact.append(f"Remediate within {_HORIZON.get(tally.severity, 90)} days.")
    return Gap(gap=gap, business_impact=" ".join(impact), severity=_upper(tally.severity))


# --- the scorecard ---------------------------------------------------------------------------


def build_scorecard(
    catalog: Catalog, header: dict[str, Any], tally: Tally, earlier: Sequence[int]
) -> Scorecard:
    """The scorecard of a report from its header, its findings' counts and earlier scores."""
    frameworks = [str(fw) for fw in header.get("frameworks", [])]
    scores = header.get("framework_scores") or {}
    rated = {
        fw: rag_of(
            (scores.get(fw) or {}).get("score"),
            tally.count(fw, "critical"),
            tally.count(fw, "high"),
        )
        for fw in frameworks
    }
    aggregate = header.get("aggregate_score")
    totals = rag_of(
        aggregate, int(header.get("critical_count", 0)), int(header.get("high_count", 0))
    )
    framework_rag = {fw: rag for fw, (rag, _) in rated.items()}
    overall = max([totals[0], *framework_rag.values()], key=_RAG_ORDER.__getitem__)
    gaps = [gap_of(catalog, check, t) for check, t in tally.ranked()[:TOP_GAPS]]
    trend, note = trajectory_of(aggregate, earlier)
    accepted = int(header.get("checks_accepted") or 0)
    return Scorecard(
        overall_rag=overall,
        overall_rag_reason=_overall_reason(catalog, overall, totals, rated),
        framework_rag=framework_rag,
        top_gaps=gaps,
        trajectory=trend,
        trajectory_note=note,
        board_narrative=board_narrative(catalog, header, overall, gaps, trend, note),
        accepted_risks=accepted,
        accepted_risks_note=accepted_note(accepted),
    )


def accepted_note(accepted: int) -> str:
    """How many risks are accepted, and that they do not count, in a sentence."""
    if not accepted:
        return "No risk is accepted: every failing check counts."
    if accepted == 1:
        return (
            "1 failing check on a resource is accepted as a risk by an approved exception "
            "until it expires, and excluded from the score and the rating."
        )
    return (
        f"{accepted} failing checks on resources are accepted as risks by approved exceptions "
        "until they expire, and excluded from the score and the rating."
    )


def board_narrative(
    catalog: Catalog,
    header: dict[str, Any],
    overall: Rag,
    gaps: Sequence[Gap],
    trend: Trajectory,
    note: str,
) -> str:
    """A few sentences for a board from the numbers alone (no model)."""
    frameworks = [str(fw) for fw in header.get("frameworks", [])]
    score = header.get("aggregate_score")
    scored = f"an overall compliance score of {score}/100" if score is not None else "no score"
    sentences = [
        f"Our Azure AI infrastructure achieved {scored} against "
        f"{_names(catalog, frameworks)} in report {header.get('report_id')}, rated {overall}."
    ]
    critical, high = int(header.get("critical_count", 0)), int(header.get("high_count", 0))
    sentences.append(
        f"{_count(critical, 'critical finding')} and {_count(high, 'high finding')} are open."
    )
    if gaps:
        sentences.append(f"The most serious gap: {gaps[0].gap}")
    accepted = int(header.get("checks_accepted") or 0)
    if accepted:
        sentences.append(accepted_note(accepted))
    sentences.append(f"Trajectory {trend}: {note}")
    return " ".join(sentences)


def board_facts(
    catalog: Catalog, header: dict[str, Any], tally: Tally, card: Scorecard, earlier: Sequence[int]
) -> dict[str, Any]:
    """What the model is told: numbers, RAG levels and catalogue words (framework names, check
    titles); never a resource, subscription, tenant, label or report id."""
    scores = header.get("framework_scores") or {}
    return {
        "overall_score": header.get("aggregate_score"),
        "overall_rag": card.overall_rag,
        "open_findings": {s: int(header.get(f"{s}_count", 0)) for s in _SEVERITIES},
        "accepted_risks_excluded_from_score": card.accepted_risks,
        "frameworks": [
            {
                "framework": _names(catalog, [fw]),
                "score": (scores.get(fw) or {}).get("score"),
                "rag": rag,
                "critical_findings": tally.count(fw, "critical"),
                "high_findings": tally.count(fw, "high"),
            }
            for fw, rag in card.framework_rag.items()
        ],
        "trend": card.trajectory,
        "scores_oldest_first": [*reversed(earlier), header.get("aggregate_score")],
        "top_gaps": [
            {
                "check": check.title,
                "severity": check.severity,
                "resources_failing": check.resources,
                "remediate_within_days": _HORIZON.get(check.severity, 90),
            }
            for _, check in tally.ranked()[:TOP_GAPS]
        ],
    }


def executive_scorecard(
    sessions: sessionmaker[Session],
    caller: Caller,
    catalog: Catalog,
    keys: Keyring,
    report_id: str,
    now: dt.datetime,
    settings: Settings | None = None,
) -> ScorecardReport:
    """The scorecard; with ``settings`` naming a model, its board narrative is the model's.

    The database is read in one read-only transaction that ends before the model is asked, so a
    slow model (up to its timeout) never holds a connection or a snapshot open.
    """
    with transaction(sessions, readonly=True) as session:
        report = saved_report(session, caller, catalog, keys, report_id, now)
        header = {**report.header(), "report_id": report.report_id}
        tally = Tally()
        for batch in report.findings():
            tally.add(batch)
        earlier = earlier_scores(session, caller, catalog, report, now)
    card = build_scorecard(catalog, header, tally, earlier)
    generated_by: GeneratedBy = "deterministic"
    if settings is not None:
        facts = board_facts(catalog, header, tally, card, earlier)
        text, generated_by = model_board_narrative(settings, facts, card.board_narrative)
        card = card.model_copy(update={"board_narrative": text})
    return ScorecardReport(
        report_id=report.report_id,
        plan=report.plan,
        generated_at=now,
        generated_by=generated_by,
        scorecard=card,
    )


@router.get(
    "/report/{report_id}/scorecard",
    summary="Executive scorecard of a report: RAG per framework, top gaps, trajectory",
)
def get_scorecard(
    report_id: ReportIdPath, runtime: RuntimeDep, caller: InsightReader
) -> ScorecardReport:
    return executive_scorecard(
        runtime.sessions,
        caller,
        runtime.catalog,
        runtime.keyring,
        report_id,
        utcnow(),
        runtime.settings,
    )


# The app documents (scopes, plan, error responses) the routes of the routers it includes, not
# those of a router included in one of them: this one documents its own (idempotent).


# --- wording ---------------------------------------------------------------------------------


def _overall_reason(
    catalog: Catalog,
    overall: Rag,
    totals: tuple[Rag, list[str]],
    framework_rag: dict[str, tuple[Rag, list[str]]],
) -> str:
    """The level and every fact that put the report or a framework at it."""
    parts = [f"report-wide, {' and '.join(totals[1])}"] if totals[0] == overall else []
    parts += [
        f"under {_names(catalog, [fw])}, {' and '.join(reasons)}"
        for fw, (rag, reasons) in framework_rag.items()
        if rag == overall
    ]
    return f"{overall}: {'; '.join(parts)}."


def _names(catalog: Catalog, frameworks: Sequence[str]) -> str:
    names = [catalog.framework(fw).name if fw in catalog.framework_ids else fw for fw in frameworks]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _reason(catalog: Catalog, check_id: str) -> str:
    try:
        return catalog.check(check_id).severity_reason
    except KeyError:
        return "the check's reason is not in this catalogue."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _upper(severity: str) -> Severity:
    upper = severity.upper()
    return upper if upper in ("CRITICAL", "HIGH", "MEDIUM", "LOW") else "LOW"  # type: ignore[return-value]


def _severity_rank(severity: str) -> int:
    return _SEVERITIES.index(severity) if severity in _SEVERITIES else len(_SEVERITIES)


def _strength_rank(strength: str) -> int:
    return _STRENGTHS.index(strength) if strength in _STRENGTHS else len(_STRENGTHS)
