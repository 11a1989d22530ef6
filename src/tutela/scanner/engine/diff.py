"""The difference between two reports: what is new, resolved, unchanged, changed in severity or
accepted.

It works on report documents (the JSON the API and ``tutela scan --format json`` return), so a
stored report and a fresh one compare alike. A finding is identified by control, check and
resource; the same finding with another severity is a severity change, not new and resolved.
A finding of the earlier report that the later one accepted (its check and resource are in the
later report's ``accepted``, docs/risk-acceptance.md) still fails: it is listed in ``accepted``,
not as resolved. A pair accepted earlier that fails later (its acceptance ended) is new.
Each list of findings is sorted by that key (control, check, lower-cased resource); a key found
twice in one report counts its last finding. The API answers two stored reports' diff with the
same bytes without decoding either whole (``server/reports/diff_stream.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Doc = Mapping[str, Any]
Pair = tuple[str, str]  # an accepted pair: check, lower-cased resource


def finding_key(finding: Doc) -> tuple[str, str, str]:
    return (
        str(finding.get("control_id", "")),
        str(finding.get("check_id", "")),
        str(finding.get("resource", "")).lower(),
    )


def accepted_pair(check_id: Any, resource_id: Any) -> Pair:
    """An accepted entry's key: what a finding's (check, lower-cased resource) is compared to."""
    return (str(check_id), str(resource_id).lower())


def accepted_pairs(report: Doc) -> frozenset[Pair]:
    """The pairs a report accepted (its ``accepted`` entries; entries that are not objects are
    not pairs)."""
    entries = report.get("accepted")
    if not isinstance(entries, list):
        return frozenset()
    return frozenset(
        accepted_pair(entry.get("check_id", ""), entry.get("resource_id", ""))
        for entry in entries
        if isinstance(entry, Mapping)
    )


def diff_reports(report_a: Doc, report_b: Doc) -> dict[str, Any]:
    """What changed from ``report_a`` (before) to ``report_b`` (after)."""
    before = {finding_key(f): f for f in report_a.get("findings", []) if f.get("status") == "fail"}
    after = {finding_key(f): f for f in report_b.get("findings", []) if f.get("status") == "fail"}
    score_a, score_b = report_a.get("aggregate_score"), report_b.get("aggregate_score")
    severity_changes = [
        {
            "control_id": key[0],
            "check_id": key[1],
            "resource": after[key].get("resource"),
            "from": before[key].get("severity"),
            "to": after[key].get("severity"),
        }
        for key in after.keys() & before.keys()
        if before[key].get("severity") != after[key].get("severity")
    ]
    severity_changes.sort(key=lambda c: (c["control_id"], c["check_id"], str(c["resource"])))
    gone, accepted = sorted(before.keys() - after.keys()), accepted_pairs(report_b)
    return {
        "report_a": report_a.get("report_id"),
        "report_b": report_b.get("report_id"),
        "score_a": score_a,
        "score_b": score_b,
        "score_delta": (
            score_b - score_a if isinstance(score_a, int) and isinstance(score_b, int) else None
        ),
        "new_findings": [after[k] for k in sorted(after.keys() - before.keys())],
        "resolved": [before[k] for k in gone if k[1:] not in accepted],
        "unchanged": [after[k] for k in sorted(after.keys() & before.keys())],
        "severity_changes": severity_changes,
        "accepted": [before[k] for k in gone if k[1:] in accepted],
    }
