"""The auditor evidence package of a saved report, as JSON or as a paginated PDF.

Control statuses come from the report's ``score_basis`` (catalog/README.md, Scores): a control
has gaps when a pair of a check mapped to it failed, is met when its pairs were decided and none
failed, and is not evidenced when no decided pair reached it. The findings are read once, in
batches, while the report's JSON is hashed: the hash is of the bytes GET /report/{id} answers.
The passes stored after the report (``reports.passed``) are read next: a few per check, with
their evidence, show per control why it is met. The pairs the report accepted as risks (its
``accepted``, after the findings) are listed each with its acceptance: out of every count, but
in front of the auditor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import finding_control_id
from tutela.server.db import utcnow
from tutela.server.insights import auditor_pdf
from tutela.server.insights.access import (
    AcceptedPair,
    InsightFinding,
    InsightReader,
    SavedReport,
    saved_report,
)
from tutela.server.insights.auditor_passing import PASSING_SAMPLES, first_passes
from tutela.server.insights.auditor_schemas import (
    AcceptedRisk,
    AuditorPackage,
    AuditorPackageReport,
    ControlEvidence,
    FailingCheck,
    FindingSummary,
    FrameworkCoverage,
    PassingEvidence,
)
from tutela.server.reports.passed import StoredBody
from tutela.server.reports.router import ReportIdPath
from tutela.server.reports.schemas import AcceptanceOut, Evidence
from tutela.server.reports.service import ReportUnreadable
from tutela.server.reports.stored_findings import StoredFindings
from tutela.server.runtime import RuntimeDep, SessionDep

REVIEW_DAYS = {"critical": 30, "high": 60}  # else 90: the roadmap's horizons
ROUTINE_REVIEW_DAYS = 90
TOP_CHECKS = 10
_SEVERITIES = ("critical", "high", "medium", "low")
_FACTOR = {"direct": 1.0, "supporting": 0.5, "by analogy": 0.5}

router = APIRouter()  # tagged by the insights router that includes it
# The insights router's gate, restated so that the insights router can import this module.

_METHODS = {
    "azure": "a read-only scan of the live Azure estate through Azure Resource Graph and the "
    "Azure Resource Manager control plane, with reader credentials",
    "snapshot": "a read of a stored snapshot of the subscriptions' Azure Resource Graph and "
    "Azure Resource Manager records",
    "terraform": "a static read of a Terraform plan before deployment (no Azure API was called)",
    "arm": "a static read of an ARM template before deployment (no Azure API was called)",
}
_DEFAULT_METHOD = "a read of Azure resource configuration records supplied to the scanner"


# --- reading the report ------------------------------------------------------------------------


class _Tail(msgspec.Struct):
    findings: list[InsightFinding] = []
    engine_version: Any = ""
    source: Any = None
    subscriptions: Any = None
    accepted: list[AcceptedPair] = []


_BATCH = msgspec.json.Decoder(list[InsightFinding])
_TAIL = msgspec.json.Decoder(_Tail)


@dataclass
class _CheckTally:
    severity: str
    title: str
    per_control: dict[str, int] = field(default_factory=dict)
    frameworks: set[str] = field(default_factory=set)


@dataclass
class ReportReading:
    """What one pass over a stored report yields: its hash, tail members and failing checks."""

    sha256: str = ""
    engine_version: str = ""
    source: str | None = None
    subscriptions: list[str] = field(default_factory=list)
    checks: dict[str, _CheckTally] = field(default_factory=dict)
    passed_recorded: bool = False
    # check id → its first passing pairs (by resource id), with their evidence
    passing: dict[str, list[PassingEvidence]] = field(default_factory=dict)
    accepted: list[AcceptedRisk] = field(default_factory=list)  # in the report's order

    def add(self, batch: Iterable[InsightFinding]) -> None:
        for finding in batch:
            check = str(finding.check_id)
            tally = self.checks.get(check)
            if tally is None:
                tally = self.checks[check] = _CheckTally(
                    str(finding.severity).lower(), str(finding.title)
                )
            control = str(finding.control_id)
            tally.per_control[control] = tally.per_control.get(control, 0) + 1
            tally.frameworks.add(str(finding.framework))

    def top_checks(self, limit: int = TOP_CHECKS) -> list[FailingCheck]:
        """Most serious first: severity, resources failing (a check fails once per resource
        under each control it counts for), then check id."""
        ranked = sorted(
            self.checks.items(),
            key=lambda item: (_rank(item[1].severity), -max(item[1].per_control.values()), item[0]),
        )
        return [
            FailingCheck(
                check_id=check,
                title=tally.title,
                severity=tally.severity if tally.severity in _SEVERITIES else "low",
                resources=max(tally.per_control.values()),
                frameworks=sorted(tally.frameworks),
            )
            for check, tally in ranked[:limit]
        ]


def read_report(report: SavedReport) -> ReportReading:
    """Hash the report's JSON and tally its failing checks, in one pass of batches; then take
    the first passes of each check, if the report kept them."""
    reading = ReportReading()
    body = StoredBody(report.compressed)
    digest = hashlib.sha256()

    def hashed(pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            digest.update(piece)
            yield piece

    stored = StoredFindings(hashed(body.report()), _BATCH)
    try:
        for batch in stored:
            reading.add(batch)
        tail = _TAIL.decode(stored.tail)
        passes = body.passed()
        if passes is not None:
            reading.passed_recorded, reading.passing = True, first_passes(passes)
    except (msgspec.DecodeError, zlib.error):
        raise ReportUnreadable(report.report_id) from None
    reading.add(tail.findings)
    reading.sha256 = digest.hexdigest()
    reading.engine_version = str(tail.engine_version or "unknown")
    reading.source = str(tail.source) if tail.source else None
    reading.subscriptions = [str(s) for s in tail.subscriptions or []]
    reading.accepted = [accepted_risk(pair) for pair in tail.accepted]
    return reading


def accepted_risk(pair: AcceptedPair) -> AcceptedRisk:
    """A stored ``accepted`` entry as the package lists it."""
    severity = str(pair.severity).lower()
    acceptance = pair.acceptance
    return AcceptedRisk(
        check_id=str(pair.check_id),
        title=str(pair.title),
        severity=severity if severity in _SEVERITIES else "low",
        resource_id=str(pair.resource_id),
        resource_name=str(pair.resource_name),
        resource_type=str(pair.resource_type),
        frameworks=[str(framework) for framework in pair.frameworks or ()],
        evidence=[
            Evidence(path=str(item.get("path", "")), value=item.get("value"))
            for item in pair.evidence or ()
            if isinstance(item, dict)
        ],
        acceptance=AcceptanceOut(
            id=None if acceptance.id is None else str(acceptance.id),
            resource=str(acceptance.resource),
            reason=str(acceptance.reason),
            approver=str(acceptance.approver),
            ticket=None if acceptance.ticket is None else str(acceptance.ticket),
            expires=str(acceptance.expires),
        ),
    )


@cache
def catalogue_sha256() -> str:
    """SHA-256 over the shipped catalogue's YAML files: each relative path, NUL, its bytes, NUL,
    in path order (docs/insights.md)."""
    root = resources.files("tutela.scanner.catalog")
    files: list[tuple[str, bytes]] = []
    for entry in root.iterdir():
        if entry.is_dir():
            files += [
                (f"{entry.name}/{child.name}", child.read_bytes())
                for child in entry.iterdir()
                if child.name.endswith(".yaml")
            ]
        elif entry.name.endswith(".yaml"):
            files.append((entry.name, entry.read_bytes()))
    digest = hashlib.sha256()
    for name, data in sorted(files):
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


# --- the control table -------------------------------------------------------------------------


def control_table(
    catalog: Catalog,
    framework: str,
    basis: Iterable[dict[str, Any]],
    passing: dict[str, list[PassingEvidence]] | None = None,
) -> list[ControlEvidence]:
    """The framework's catalogue controls, each with what the score basis says of it, and the
    first ``passing`` pairs of its checks (check id → pairs) as its passing evidence."""
    controls = catalog.controls_of(framework)
    if controls is None:
        return []
    shown = {finding_control_id(controls.control_prefix, c.id): c for c in controls.controls}
    counts: dict[str, list[int]] = {cid: [0, 0, 0] for cid in shown}
    failing: dict[str, set[str]] = {cid: set() for cid in shown}
    passing_checks: dict[str, set[str]] = {cid: set() for cid in shown}
    strongest: dict[str, str] = {}
    for entry in basis:
        passed, failed, unknown = (int(entry.get(k, 0)) for k in ("passed", "failed", "unknown"))
        for cid, mapping in (entry.get("controls") or {}).items():
            if cid not in shown:
                continue
            into = counts[cid]
            into[0], into[1], into[2] = into[0] + passed, into[1] + failed, into[2] + unknown
            if failed:
                failing[cid].add(str(entry.get("check_id")))
            if passed:
                passing_checks[cid].add(str(entry.get("check_id")))
            held = strongest.get(cid)
            if passed + failed and (held is None or _FACTOR[mapping] > _FACTOR[held]):
                strongest[cid] = mapping
    rows = []
    for cid, control in shown.items():
        passed, failed, unknown = counts[cid]
        status: Literal["met", "gaps", "not_evidenced"] = (
            "gaps" if failed else "met" if passed else "not_evidenced"
        )
        rows.append(
            ControlEvidence(
                control_id=cid,
                reference=control.id,
                title=control.title,
                status=status,
                checks_passed=passed,
                checks_failed=failed,
                checks_unknown=unknown,
                failing_checks=sorted(failing[cid]),
                strongest_mapping=strongest.get(cid),
                numbering=control.numbering,
                numbering_note=control.numbering_note,
                passing_evidence=[
                    pair
                    for check in sorted(passing_checks[cid])
                    for pair in (passing or {}).get(check, [])
                ][:PASSING_SAMPLES],
            )
        )
    return rows


def coverage_of(
    catalog: Catalog,
    framework: str,
    header: dict[str, Any],
    basis: list[dict[str, Any]],
    passing: dict[str, list[PassingEvidence]] | None = None,
) -> FrameworkCoverage:
    rows = control_table(catalog, framework, basis, passing)
    known = framework in catalog.framework_ids
    spec = catalog.framework(framework) if known else None
    met = sum(row.status == "met" for row in rows)
    gaps = sum(row.status == "gaps" for row in rows)
    return FrameworkCoverage(
        framework=spec.name if spec else framework,
        standard_reference=(
            f"{spec.name}, {spec.version} ({spec.publisher}, {spec.published.isoformat()})"
            if spec
            else f"{framework} (not in the catalogue served now)"
        ),
        controls_assessed=met + gaps,
        gaps_found=gaps,
        framework_id=framework,
        score=((header.get("framework_scores") or {}).get(framework) or {}).get("score"),
        controls_in_catalogue=len(rows),
        controls_not_evidenced=len(rows) - met - gaps,
        controls=rows,
    )


# --- the package -------------------------------------------------------------------------------


def next_review(summary: FindingSummary) -> tuple[int, str]:
    """Days to the next review and why: the shortest horizon of the open findings."""
    for severity in ("critical", "high"):
        count = getattr(summary, severity)
        if count:
            days = REVIEW_DAYS[severity]
            return (
                days,
                f"Within {days} days, given {_count(count, f'{severity} finding')}",
            )
    return ROUTINE_REVIEW_DAYS, (
        f"Within {ROUTINE_REVIEW_DAYS} days (routine): no critical or high finding identified."
    )


def build_package(
    catalog: Catalog, report_id: str, header: dict[str, Any], reading: ReportReading
) -> AuditorPackage:
    frameworks = [str(fw) for fw in header.get("frameworks", [])]
    basis = list(header.get("score_basis") or [])
    coverage = [coverage_of(catalog, fw, header, basis, reading.passing) for fw in frameworks]
    summary = FindingSummary(**{s: int(header.get(f"{s}_count", 0)) for s in _SEVERITIES})
    days, review = next_review(summary)
    scan_ts = str(header.get("scan_ts", ""))
    scanned = _parse_ts(scan_ts)
    resources_scanned = int(header.get("resources_scanned", 0))
    names = ", ".join(c.framework for c in coverage)
    where = (
        f"Azure subscription{'s' if len(reading.subscriptions) > 1 else ''} "
        f"{', '.join(reading.subscriptions)}"
        if reading.subscriptions
        else {
            "terraform": "The resources of a Terraform plan",
            "arm": "The resources of an ARM template",
        }.get(reading.source or "", "The Azure resources submitted")
    )
    scope = (
        f"{where} ({_count(resources_scanned, 'resource')}) assessed on {scan_ts} for AI "
        f"infrastructure compliance across {_count(len(coverage), 'regulatory framework')}: "
        f"{names}."
    )
    methodology = (
        f"Evidence comes from {_METHODS.get(reading.source or '', _DEFAULT_METHOD)}. Only "
        "resource configuration is read: no data plane access, no workload modification. Each "
        "resource is evaluated against the Tutela catalogue's checks; each check is mapped to "
        "framework controls as direct, supporting or by-analogy evidence, and scores weigh "
        "severity by mapping strength. A check whose inputs were not visible is reported as "
        "unknown, never as passed. Controls that configuration cannot evidence (policies, "
        "model validation, governance processes) are outside this method."
    )
    attestation = (
        f"This assessment was produced by Tutela, engine version {reading.engine_version}, from "
        f"the scan of {scan_ts} (report {report_id}, SHA-256 {reading.sha256}), using automated "
        "infrastructure configuration scanning. All findings reflect the state of the assessed "
        "configuration at the time of the scan."
    )
    not_evidenced = sum(c.controls_not_evidenced for c in coverage)
    unconfirmed = sum(r.numbering == "unconfirmed" for c in coverage for r in c.controls)
    note = (
        "This is an automated assessment. Manual review is recommended for controls requiring "
        "human judgement"
        + (
            f", and for the {_count(not_evidenced, 'control')} this scan did not evidence."
            if not_evidenced
            else "; every control in the frameworks' tables was reached by a decided check."
        )
    )
    if reading.accepted:
        accepted = len(reading.accepted)
        note += (
            f" {_count(accepted, 'failing (check, resource) pair')} "
            f"{'is' if accepted == 1 else 'are'} accepted as a risk by an approved exception "
            "until it expires (listed under accepted risks with the reason, approver and "
            "ticket): left out of the findings, control statuses and scores, each acceptance "
            "should be reviewed."
        )
    if unconfirmed:
        note += (
            f" {_count(unconfirmed, 'control identifier')} could not be confirmed against the "
            "framework's own text and are marked unconfirmed in the control tables."
        )
    return AuditorPackage(
        assessment_scope=scope,
        methodology=methodology,
        frameworks_coverage=coverage,
        finding_summary=summary,
        attestation_statement=attestation,
        assessor_note=note,
        recommended_next_review=review,
        recommended_next_review_by=(scanned + dt.timedelta(days=days)).date(),
        top_failing_checks=reading.top_checks(),
        scan_ts=scan_ts,
        source=reading.source,
        subscriptions=reading.subscriptions,
        resources_scanned=resources_scanned,
        engine_version=reading.engine_version,
        catalogue_sha256=catalogue_sha256(),
        report_sha256=reading.sha256,
        passing_evidence_recorded=reading.passed_recorded,
        checks_accepted=len(reading.accepted),
        accepted_risks=reading.accepted,
    )


def auditor_package(
    catalog: Catalog, report: SavedReport, now: dt.datetime
) -> AuditorPackageReport:
    header = report.header()
    reading = read_report(report)
    return AuditorPackageReport(
        report_id=report.report_id,
        plan=report.plan,
        generated_at=now,
        auditor_package=build_package(catalog, report.report_id, header, reading),
    )


PDF = "application/pdf"


@router.get(
    "/report/{report_id}/auditor-package",
    summary="Auditor evidence package of a report: scope, method, coverage, control evidence",
    description="JSON by default; a paginated PDF of the same package with "
    "`Accept: application/pdf` or `?format=pdf`.",
    response_model=AuditorPackageReport,
    responses={200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}}},
)
def get_auditor_package(
    report_id: ReportIdPath,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: InsightReader,
    format: Annotated[
        Literal["json", "pdf"] | None, Query(description="'pdf' for the PDF.")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    now = utcnow()
    report = saved_report(session, caller, runtime.catalog, runtime.keyring, report_id, now)
    package = auditor_package(runtime.catalog, report, now)
    wants_pdf = format == "pdf" or (format is None and PDF in (accept or "").lower())
    if not wants_pdf:
        return package
    return Response(
        auditor_pdf.render(package),
        media_type=PDF,
        headers={
            "Content-Disposition": f'attachment; filename="tutela-auditor-package-{report_id}.pdf"'
        },
    )


# Documented here: the app documents its routers' own routes, not those of included routers.


def _parse_ts(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return utcnow()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _rank(severity: str) -> int:
    return _SEVERITIES.index(severity) if severity in _SEVERITIES else len(_SEVERITIES)
