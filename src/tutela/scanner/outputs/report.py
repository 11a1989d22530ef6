"""The report document: the seed's scan report, plus what Tutela adds to be honest about coverage.

The API's ``POST /scan`` and ``tutela scan --format json`` return this same shape. Fields of the
seed keep their names (report_id, tenant_id, scan_ts, frameworks, aggregate_score, the severity
counts, findings with control_id, framework, resource, severity, status, title, description,
narrative, remediation); Tutela adds per-framework scores, how many checks were evaluated, passed,
failed and unknown, each finding's check id and evidence, and the list of undecided results.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from tutela import __version__
from tutela.scanner.catalog.checks import SEVERITIES
from tutela.scanner.engine.assess import Assessment, Finding
from tutela.scanner.estate import UNKNOWN


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def evidence_list(evidence: tuple[tuple[str, Any], ...]) -> list[dict[str, Any]]:
    return [{"path": path, "value": value} for path, value in evidence]


def finding_document(
    finding: Finding, evidence: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The finding as the report shows it; ``evidence`` reuses an already converted list."""
    return {
        "control_id": finding.control_id,
        "control_title": finding.control_title,
        "framework": finding.framework,
        "mapping": "by analogy" if finding.by_analogy else "direct",
        "check_id": finding.check_id,
        "resource": finding.resource,
        "resource_name": finding.resource_name,
        "resource_type": finding.resource_type,
        "severity": finding.severity,
        "status": finding.status,
        "title": finding.title,
        "description": finding.description,
        "narrative": finding.narrative,
        "remediation": finding.remediation,
        "evidence": evidence if evidence is not None else evidence_list(finding.evidence),
        "origin": finding.origin,
    }


def report_document(
    assessment: Assessment,
    *,
    scan_ts: dt.datetime,
    report_id: str | None = None,
    tenant_id: str | None = None,
    label: str | None = None,
    dry_run: bool = False,
    include_findings: bool = True,
) -> dict[str, Any]:
    """The report; without findings (``include_findings=False``) when only the totals are needed."""
    counts = assessment.severity_counts
    document: dict[str, Any] = {
        "report_id": report_id,
        "tenant_id": tenant_id,
        "scan_ts": iso_utc(scan_ts),
        "scan_label": label,
        "frameworks": list(assessment.frameworks),
        "aggregate_score": assessment.aggregate_score,
        **{f"{severity}_count": counts[severity] for severity in SEVERITIES},
        "framework_scores": {
            framework: {
                "score": result.score,
                "checks_evaluated": result.checks_evaluated,
                "checks_passed": result.checks_passed,
                "checks_failed": result.checks_failed,
                "checks_unknown": result.checks_unknown,
                "controls_assessed": result.controls_assessed,
                "controls_with_gaps": result.controls_with_gaps,
            }
            for framework, result in assessment.framework_results.items()
        },
        "resources_scanned": assessment.resources_scanned,
        "checks_evaluated": assessment.checks_evaluated,
        "checks_passed": assessment.checks_passed,
        "checks_failed": assessment.checks_failed,
        "checks_unknown": assessment.checks_unknown,
        "findings": _findings(assessment) if include_findings else [],
        "unknown": [
            {
                "check_id": r.check.id,
                "title": r.check.title,
                "severity": r.check.severity,
                "resource": r.resource.id,
                "resource_type": r.resource.type,
                "frameworks": list(assessment.check_frameworks.get(r.check.id, ())),
                "evidence": evidence_list(r.evidence),
            }
            for r in assessment.unknown_results
        ],
        "engine_version": __version__,
    }
    if dry_run:
        document["dry_run"] = True
        del document["report_id"]
    return document


def _findings(assessment: Assessment) -> list[dict[str, Any]]:
    # A failing result is one finding per control it breaches: convert its evidence once.
    converted: dict[int, list[dict[str, Any]]] = {}
    documents = []
    for finding in assessment.findings:
        evidence = converted.get(id(finding.evidence))
        if evidence is None:
            evidence = converted[id(finding.evidence)] = evidence_list(finding.evidence)
        documents.append(finding_document(finding, evidence))
    return documents


def _default(value: Any) -> Any:
    if value is UNKNOWN:
        return "<unknown>"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return repr(value)


def dumps(document: Any, *, indent: bool = True) -> bytes:
    """JSON bytes; values a source could not resolve are written as ``"<unknown>"``."""
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(document, default=_default, option=option | orjson.OPT_NON_STR_KEYS)
