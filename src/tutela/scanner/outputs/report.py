"""The report document: the seed's scan report, plus what Tutela adds to be honest about coverage.

A finding reads: control_id, control_title, framework, mapping ("direct", "supporting" or "by
analogy": how strongly the check evidences the control, catalog/README.md), check_id, resource,
resource_name, resource_type, severity, status, title, description, narrative, remediation,
evidence (each a path and the value seen), origin, ai_workload (why a general-purpose resource
belongs to an AI workload; null for AI resources and resources outside any). Findings come most
severe first, then by check id and resource id; a result's findings (one per control it counts
for) come together, in framework order. ``report_json`` writes them.

The API's ``POST /scan`` and ``tutela scan --format json`` return this same shape. Fields of the
seed keep their names (report_id, tenant_id, scan_ts, frameworks, aggregate_score, the severity
counts, findings with control_id, framework, resource, severity, status, title, description,
narrative, remediation); Tutela adds per-framework scores, how many checks were evaluated, passed,
failed and unknown, each finding's check id and evidence, and the list of undecided results.

A scan with risk acceptances (``scanner.acceptance``) whose report has an accepted pair also says
``checks_accepted`` (top level and per framework) and lists each accepted pair with its acceptance
in ``accepted``; a report with none has neither member, as before acceptances existed.

What reading the inputs left out (``input_notes``: a template construct the reader could not
follow, a plan's resources of unsupported types) is listed, each once, in ``notes``; a report
whose inputs were read in full has no ``notes`` member. What the scan never looked at (linked
templates, a plan's unsupported resources, resources no check applies to) is ``not_evaluated``
(``scanner.not_evaluated``); an entry (finding, unknown, accepted, passed) about a resource a
template deploys under a condition not decided offline says ``"conditional": true``. Neither
member is there when it has nothing to say (docs/outputs.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import orjson

from tutela import __version__
from tutela.scanner.catalog.checks import SEVERITIES
from tutela.scanner.engine.assess import AcceptedResult, Assessment
from tutela.scanner.estate import UNKNOWN

# The member an entry about a resource deployed under an undecided condition has (none else).
_CONDITIONAL: dict[bool, dict[str, Any]] = {False: {}, True: {"conditional": True}}


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def evidence_list(evidence: tuple[tuple[str, Any], ...]) -> list[dict[str, Any]]:
    return [{"path": path, "value": value} for path, value in evidence]


def report_header(
    assessment: Assessment,
    *,
    scan_ts: dt.datetime,
    report_id: str | None = None,
    tenant_id: str | None = None,
    label: str | None = None,
    dry_run: bool = False,
    notes: Iterable[str] = (),
    not_evaluated: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The report's fields in document order, ``findings`` an empty placeholder; ``notes``
    (each kept once) are what reading the inputs left out, ``not_evaluated`` what the scan never
    looked at (``scanner.not_evaluated``).

    ``report_json.ReportDocument`` writes the findings into their place; the other formats and
    the gate need only these totals.
    """
    counts = assessment.severity_counts
    accepted = assessment.accepted
    said = list(dict.fromkeys(notes))
    unseen = list(not_evaluated)
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
                **({"checks_accepted": result.checks_accepted} if accepted else {}),
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
        **({"checks_accepted": assessment.checks_accepted} if accepted else {}),
        "score_basis": assessment.score_basis(),
        "findings": [],
        "unknown": [
            {
                "check_id": r.check.id,
                "title": r.check.title,
                "severity": r.check.severity,
                "resource": r.resource.id,
                "resource_type": r.resource.type,
                "frameworks": list(assessment.frameworks_of(r)),
                "evidence": evidence_list(r.evidence),
                **_CONDITIONAL[r.resource.conditional is not None],
            }
            for r in assessment.unknown_results
        ],
        **({"accepted": [accepted_entry(assessment, a) for a in accepted]} if accepted else {}),
        **({"notes": said} if said else {}),
        **({"not_evaluated": unseen} if unseen else {}),
        "engine_version": __version__,
    }
    if dry_run:
        document["dry_run"] = True
        del document["report_id"]
    return document


def input_notes(source: str, kind: str | None = None) -> list[str]:
    """What the last reading of ``source`` left out, one line each: the constructs it could not
    follow (``sources.reading_notes``) and a plan's resources of unsupported types.

    ``kind``, when known, is what the source was read as: the types skipped are counted only
    for a plan (``unsupported_types`` still holds an earlier plan's after a template's reading).
    """
    from tutela.scanner.sources import reading_notes
    from tutela.scanner.sources.plan_skips import unsupported_types

    said = reading_notes(source)
    skipped = unsupported_types(source) if kind in (None, "terraform") else {}
    if skipped:
        kinds = ", ".join(f"{count} {name}" for name, count in sorted(skipped.items()))
        said.append(f"{sum(skipped.values())} resources of unsupported types skipped ({kinds})")
    return said


def accepted_entry(assessment: Assessment, accepted: AcceptedResult) -> dict[str, Any]:
    """An accepted pair as the report lists it: the failing result and its acceptance."""
    result, resource = accepted.result, accepted.result.resource
    return {
        "check_id": result.check.id,
        "severity": result.check.severity,
        "title": result.check.title,
        "resource_id": resource.id,
        "resource_name": resource.name,
        "resource_type": resource.type,
        "frameworks": list(assessment.frameworks_of(result)),
        "origin": resource.origin,
        "evidence": evidence_list(result.evidence),
        "acceptance": accepted.acceptance.as_report(),
        **_CONDITIONAL[resource.conditional is not None],
    }


def json_default(value: Any) -> Any:
    """How orjson writes what JSON has no type for: unresolved values, dates, tuples."""
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
    return orjson.dumps(document, default=json_default, option=option | orjson.OPT_NON_STR_KEYS)
