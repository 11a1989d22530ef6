"""Drift: what got worse between two governance reports, and the alert that names it.

A governance scan drifts from the previous one when it has a failing critical or high finding
the previous one did not have (new, or raised to critical or high from a lower severity), or when
its score fell by at least the threshold (``TUTELA_DRIFT_SCORE_DROP`` points). The first
governance scan has nothing to drift from. A finding the current scan accepted (a risk
acceptance, docs/risk-acceptance.md) still fails: it is counted as accepted, not resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from tutela.scanner.engine.diff import Pair, accepted_pair, accepted_pairs, finding_key
from tutela.scanner.outputs.report_json import ReportDocument
from tutela.server.notify import Email
from tutela.server.reports.stored_findings import StoredFinding, StoredFindings, accepted_of

SERIOUS: Final = frozenset({"critical", "high"})
LISTED: Final = 20  # findings named in an alert; the rest are counted

Key = tuple[str, str, str]  # a finding's control, check and lower-cased resource (diff's key)


@dataclass(frozen=True)
class DriftSide:
    """One report as drift reads it: its id, score, each failing finding's key → severity, and
    the pairs it accepted (check, lower-cased resource).

    A key is a tuple of shared strings, so a side costs about 100 bytes a finding, not the
    report's 1.4 KB: two 50,000-resource reports (640,000 findings each) fit beside their scan.
    ``describe`` gives the alert's fields of some of the side's findings.
    """

    report_id: Any
    aggregate_score: Any
    severities: dict[Key, Any]
    describe: Callable[[Collection[Key]], dict[Key, dict[str, Any]]]
    accepted: frozenset[Pair] = frozenset()


def side_of_report(report: Mapping[str, Any]) -> DriftSide:
    """A report document (a dict) as drift reads it."""
    failing = {finding_key(f): f for f in report.get("findings", []) if f.get("status") == "fail"}
    return DriftSide(
        report.get("report_id"),
        report.get("aggregate_score"),
        {key: finding.get("severity") for key, finding in failing.items()},
        lambda keys: {key: _finding(failing[key]) for key in keys},
        accepted_pairs(report),
    )


def side_of_document(document: ReportDocument) -> DriftSide:
    """A scan's report as drift reads it, from its assessment: no JSON encoded or decoded."""
    assessment = document.assessment
    severities: dict[Key, Any] = {}
    for result in assessment.failed_in_order():
        check, resource = result.check.id, str(result.resource.id).lower()
        for control, _ in assessment.controls_for(result):
            severities[(str(control.control_id), check, resource)] = result.check.severity

    def describe(keys: Collection[Key]) -> dict[Key, dict[str, Any]]:
        described: dict[Key, dict[str, Any]] = {}
        for result in assessment.failed_in_order():
            check, resource = result.check, result.resource
            for control, _ in assessment.controls_for(result):
                key = (str(control.control_id), check.id, str(resource.id).lower())
                if key in keys:
                    described[key] = {
                        "severity": check.severity,
                        "control_id": control.control_id,
                        "check_id": check.id,
                        "title": check.title,
                        "resource": resource.id,
                    }
        return described

    header = document.header
    accepted = frozenset(
        accepted_pair(a.result.check.id, a.result.resource.id) for a in assessment.accepted
    )
    return DriftSide(
        header.get("report_id"), header.get("aggregate_score"), severities, describe, accepted
    )


class _Rest(msgspec.Struct):
    findings: list[StoredFinding] = []
    accepted: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_BATCH = msgspec.json.Decoder(list[StoredFinding])
_REST = msgspec.json.Decoder(_Rest)


def side_of_stored(chunks: Iterable[bytes], report_id: Any, aggregate_score: Any) -> DriftSide:
    """A stored report as drift reads it, from its JSON a piece at a time (``inflate``).

    The findings are decoded in batches as the pieces arrive (``StoredFindings``), so neither
    the report's JSON (900 MiB at 50,000 resources) nor its findings as objects are ever whole
    in memory. The id and score are the report row's listing columns (the same as its
    header's). Raises ``msgspec.DecodeError`` when the bytes are not a report.
    """
    severities: dict[Key, Any] = {}
    shared: dict[str, str] = {}  # one string for each control, check, resource and severity

    def add(findings: list[StoredFinding]) -> None:
        share = shared.setdefault
        for f in findings:
            if f.status != "fail":
                continue
            control, check = str(f.control_id), str(f.check_id)
            resource = str(f.resource).lower()
            severity = share(f.severity, f.severity) if isinstance(f.severity, str) else f.severity
            key = (share(control, control), share(check, check), share(resource, resource))
            severities[key] = severity

    findings = StoredFindings(chunks, _BATCH)
    for batch in findings:
        add(batch)
    rest = _REST.decode(findings.tail)
    add(rest.findings)  # the last ones and the members after
    accepted: frozenset[Pair] = frozenset()
    for members in (_REST.decode(findings.head), rest):  # (a member given twice: its last)
        if not isinstance(members.accepted, msgspec.UnsetType):
            accepted = accepted_of(members.accepted)

    def describe(keys: Collection[Key]) -> dict[Key, dict[str, Any]]:  # (titles not kept)
        return {
            key: {
                "severity": severities[key],
                "control_id": key[0],
                "check_id": key[1],
                "title": None,
                "resource": key[2],
            }
            for key in keys
        }

    return DriftSide(report_id, aggregate_score, severities, describe, accepted)


def detect_drift(
    previous: Mapping[str, Any], current: Mapping[str, Any], score_drop: int
) -> dict[str, Any]:
    """The drift summary of two report documents (dicts): ``drift_between`` their sides."""
    return drift_between(side_of_report(previous), side_of_report(current), score_drop)


def drift_between(before: DriftSide, after: DriftSide, score_drop: int) -> dict[str, Any]:
    """The drift summary kept in the governance state: ``detected`` and what changed.

    What ``diff_reports`` of the two documents would count (new, raised, resolved and accepted
    findings, the score's change), from their sides.
    """
    old, new = before.severities, after.severities
    added = 0
    new_serious: list[Key] = []
    raised = 0
    for key, severity in new.items():
        was = old.get(key, _ABSENT)
        if was is _ABSENT:
            added += 1
            if severity in SERIOUS:
                new_serious.append(key)
        elif severity != was and severity in SERIOUS and _rank(severity) < _rank(was):
            raised += 1
    resolved = accepted = 0
    for key in old:
        if key not in new:
            if key[1:] in after.accepted:
                accepted += 1
            else:
                resolved += 1
    new_serious.sort()
    listed = new_serious[:LISTED]
    described = after.describe(listed)
    score_a, score_b = before.aggregate_score, after.aggregate_score
    delta = score_b - score_a if isinstance(score_a, int) and isinstance(score_b, int) else None
    dropped = delta is not None and -delta >= score_drop > 0
    return {
        "detected": bool(new_serious or raised or dropped),
        "previous_report_id": before.report_id,
        "report_id": after.report_id,
        "score_before": score_a,
        "score_after": score_b,
        "score_delta": delta,
        "new_findings": added,
        "new_critical_or_high": len(new_serious),
        "raised_to_critical_or_high": raised,
        "resolved": resolved,
        "accepted": accepted,
        "examples": [described[key] for key in listed],
    }


_ABSENT: Final = object()


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
    ]
    if drift.get("accepted", 0) > 0:  # (still failing: a risk accepted until its expiry)
        lines.append(f"Findings accepted: {drift['accepted']}")
    lines.append("")
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
