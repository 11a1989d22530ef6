"""The difference between two reports: what is new, resolved, unchanged or changed in severity.

It works on report documents (the JSON the API and ``tutela scan --format json`` return), so a
stored report and a fresh one compare alike. A finding is identified by control, check and
resource; the same finding with another severity is a severity change, not new and resolved.
Each list of findings is sorted by that key (control, check, lower-cased resource); a key found
twice in one report counts its last finding. The API answers two stored reports' diff with the
same bytes without decoding either whole (``server/reports/diff_stream.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Doc = Mapping[str, Any]


def finding_key(finding: Doc) -> tuple[str, str, str]:
    return (
        str(finding.get("control_id", "")),
        str(finding.get("check_id", "")),
        str(finding.get("resource", "")).lower(),
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
    return {
        "report_a": report_a.get("report_id"),
        "report_b": report_b.get("report_id"),
        "score_a": score_a,
        "score_b": score_b,
        "score_delta": (
            score_b - score_a if isinstance(score_a, int) and isinstance(score_b, int) else None
        ),
        "new_findings": [after[k] for k in sorted(after.keys() - before.keys())],
        "resolved": [before[k] for k in sorted(before.keys() - after.keys())],
        "unchanged": [after[k] for k in sorted(after.keys() & before.keys())],
        "severity_changes": severity_changes,
    }
