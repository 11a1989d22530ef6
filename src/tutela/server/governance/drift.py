"""Drift: what got worse between two governance reports, and the alert that names it.

A governance scan drifts from the previous one when it has a failing critical or high finding
the previous one did not have (new, or raised to critical or high from a lower severity), or when
its score fell by at least the threshold (``TUTELA_DRIFT_SCORE_DROP`` points). The first
governance scan has nothing to drift from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypedDict, cast

import msgspec

from tutela.scanner.engine.diff import diff_reports
from tutela.server.notify import Email

SERIOUS: Final = frozenset({"critical", "high"})
LISTED: Final = 20  # findings named in an alert; the rest are counted


class _DriftFinding(TypedDict, total=False):
    control_id: Any
    check_id: Any
    resource: Any
    status: Any
    severity: Any
    title: Any


class _DriftReport(TypedDict, total=False):
    report_id: Any
    aggregate_score: Any
    findings: list[_DriftFinding]


_DRIFT_VIEW = msgspec.json.Decoder(_DriftReport)


def drift_view(report_json: bytes) -> dict[str, Any]:
    """A report's JSON decoded to what drift reads: its id, score and each finding's key,
    status, severity and title. The rest (descriptions, narratives, evidence: most of a large
    report) is skipped unbuilt, so comparing two 50,000-resource reports does not hold both as
    Python objects (gigabytes each)."""
    return cast(dict[str, Any], _DRIFT_VIEW.decode(report_json))


def detect_drift(
    previous: Mapping[str, Any], current: Mapping[str, Any], score_drop: int
) -> dict[str, Any]:
    """The drift summary kept in the governance state: ``detected`` and what changed."""
    diff = diff_reports(previous, current)
    new_serious = [_finding(f) for f in diff["new_findings"] if f.get("severity") in SERIOUS]
    raised = [
        change
        for change in diff["severity_changes"]
        if change["to"] in SERIOUS and _rank(change["to"]) < _rank(change["from"])
    ]
    delta = diff["score_delta"]
    dropped = delta is not None and -delta >= score_drop > 0
    return {
        "detected": bool(new_serious or raised or dropped),
        "previous_report_id": diff["report_a"],
        "report_id": diff["report_b"],
        "score_before": diff["score_a"],
        "score_after": diff["score_b"],
        "score_delta": delta,
        "new_findings": len(diff["new_findings"]),
        "new_critical_or_high": len(new_serious),
        "raised_to_critical_or_high": len(raised),
        "resolved": len(diff["resolved"]),
        "examples": new_serious[:LISTED],
    }


def _rank(severity: str | None) -> int:
    order = ("critical", "high", "medium", "low")
    return order.index(severity) if severity in order else len(order)


def _finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: finding.get(key) for key in ("severity", "control_id", "check_id", "title", "resource")
    }


def drift_email(to: str, tenant_name: str, drift: Mapping[str, Any], public_url: str) -> Email:
    """The alert to the tenant's owner: the score change, the new serious findings, links."""
    before, after = drift["previous_report_id"], drift["report_id"]
    delta = drift["score_delta"]
    score = (
        f"{drift['score_before']} → {drift['score_after']} ({delta:+d} points)"
        if delta is not None
        else "not comparable"
    )
    lines = [
        f"The latest governance scan of {tenant_name} found drift from the previous one.",
        "",
        f"Governance score: {score}",
        f"New critical or high findings: {drift['new_critical_or_high']}",
        f"Findings raised to critical or high: {drift['raised_to_critical_or_high']}",
        f"Findings resolved: {drift['resolved']}",
        "",
    ]
    for finding in drift["examples"]:
        lines.append(
            f"- [{finding['severity']}] {finding['title']} ({finding['control_id']})\n"
            f"  {finding['resource']}"
        )
    more = drift["new_critical_or_high"] - len(drift["examples"])
    if more > 0:
        lines.append(f"… and {more} more.")
    lines += [
        "",
        f"What changed: {public_url}/reports/diff?report_a={before}&report_b={after}",
        f"The new report: {public_url}/report/{after}",
        "",
        "Both links need an API key with the report:read scope (X-API-Key header).",
    ]
    name = " ".join(tenant_name.split())  # a header holds one line
    subject = f"Tutela: compliance drift in {name} (score {score})"
    return Email(to=to, subject=subject, text="\n".join(lines))
