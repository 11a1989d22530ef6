"""A report's failures counted for analytics: per (framework, severity) and per check.

The counts agree with the report's own severity counts: a finding is one failing result
against one control, so a failing result counts once per control it is evidence against, in that
control's framework. Accepted findings count nowhere, as in the report. A scan's document is
counted from its assessment's tally (a handful of entries, whatever the estate's size); a
report made elsewhere (a plain dict) from its findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tutela.scanner.outputs.report_json import ReportDocument


@dataclass(slots=True)
class ReportCounts:
    """Failed findings per (framework, severity); failed findings and resources per check."""

    by_framework: Counter[tuple[str, str]] = field(default_factory=Counter)
    check_findings: Counter[str] = field(default_factory=Counter)
    check_resources: Counter[str] = field(default_factory=Counter)


def count_failures(document: ReportDocument | Mapping[str, Any]) -> ReportCounts:
    """The failures of a report about to be stored, without reading its resources."""
    if isinstance(document, ReportDocument):
        return _from_assessment(document)
    return _from_findings(document.get("findings") or [])


def _from_assessment(document: ReportDocument) -> ReportCounts:
    assessment = document.assessment
    counts = ReportCounts()
    for (check_id, mapping_class), (_, failed, _) in assessment.tally.items():
        if not failed:
            continue
        counted = assessment.control_map.counted(check_id, mapping_class)
        if not counted:
            continue
        severity = assessment.severity_of(check_id)
        for control, _ in counted:
            counts.by_framework[control.framework, severity] += failed
        counts.check_findings[check_id] += failed * len(counted)
        counts.check_resources[check_id] += failed
    return counts


def _from_findings(findings: list[dict[str, Any]]) -> ReportCounts:
    counts = ReportCounts()
    failing: dict[str, set[str]] = {}
    for finding in findings:
        if finding.get("status") != "fail":
            continue
        check_id = finding["check_id"]
        counts.by_framework[finding["framework"], finding["severity"]] += 1
        counts.check_findings[check_id] += 1
        failing.setdefault(check_id, set()).add(str(finding.get("resource")))
    for check_id, resources in failing.items():
        counts.check_resources[check_id] = len(resources)
    return counts
