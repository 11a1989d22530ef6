"""A saved report as the insights read it: the row, its header, and its findings in batches.

A report at the enterprise limit is about 900 MiB of JSON: it is never whole in memory here.
Its header (every member but ``findings``) is decoded on its own, and its findings arrive in
decoded batches as the stored bytes are inflated a slice at a time (``StoredFindings``), each
finding as an ``InsightFinding`` holding only what the insights read.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from fastapi import Depends
from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.scanner.outputs.report_json import inflate
from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.reports.envelope import DocumentUnreadable, context, open_compressed
from tutela.server.reports.models import Report
from tutela.server.reports.passed import StoredBody
from tutela.server.reports.repository import ReportRepository
from tutela.server.reports.service import ReportNotFound, ReportUnreadable, history_start
from tutela.server.reports.stored_findings import StoredFindings
from tutela.server.tenants.service import caller_tenant

if TYPE_CHECKING:
    from tutela.server.encryption.keyring import Keyring

ENTERPRISE = "enterprise"

# The insights themselves: Enterprise only (403 naming the plan below it), report:read.
InsightReader = Annotated[Caller, Depends(Authorize(Scope.REPORT_READ, min_plan=ENTERPRISE))]


class InsightFinding(msgspec.Struct):
    """What the insights read of a stored finding; its other fields are skipped unbuilt."""

    control_id: Any = ""
    framework: Any = ""
    mapping: Any = "direct"
    check_id: Any = ""
    resource: Any = ""
    resource_name: Any = ""
    resource_type: Any = ""
    severity: Any = ""
    title: Any = ""
    ai_workload: Any = None
    origin: Any = None


class _Rest(msgspec.Struct):
    findings: list[InsightFinding] = []
    # A scan's members written after its findings (the header it was stored with is extended
    # once the scan has run): "terraform" or "arm" for an IaC report.
    source: Any = None
    # What reading the inputs left out, and what the scan never looked at: absent when there
    # is nothing to say (docs/outputs.md).
    notes: Any = None
    not_evaluated: Any = None


_BATCH = msgspec.json.Decoder(list[InsightFinding])
_REST = msgspec.json.Decoder(_Rest)
_HEAD = msgspec.json.Decoder(dict[str, Any])


class ReportFinding(msgspec.Struct):
    """A stored finding as a report's page shows it: its row and, under it, its details."""

    control_id: Any = ""
    control_title: Any = ""
    framework: Any = ""
    mapping: Any = "direct"
    check_id: Any = ""
    resource: Any = ""
    resource_name: Any = ""
    resource_type: Any = ""
    severity: Any = ""
    title: Any = ""
    description: Any = ""
    narrative: Any = None
    remediation: Any = ""
    evidence: Any = ()
    origin: Any = None
    ai_workload: Any = None
    conditional: Any = False  # deployed under a template condition not decided offline


class UnknownResult(msgspec.Struct):
    """A check that could not be evaluated on a resource (the report's ``unknown``)."""

    check_id: Any = ""
    title: Any = ""
    severity: Any = ""
    resource: Any = ""
    resource_type: Any = ""
    conditional: Any = False


class PassedResource(msgspec.Struct):
    resource: Any = ""
    evidence: Any = ()


class PassedCheck(msgspec.Struct):
    """A check's passing resources, each with the evidence it passed on (``passed``)."""

    check_id: Any = ""
    resources: list[PassedResource] = []


class Acceptance(msgspec.Struct):
    """The risk exception that accepted a pair, as the report keeps it."""

    id: Any = None
    resource: Any = ""
    reason: Any = ""
    approver: Any = ""
    ticket: Any = None
    expires: Any = ""


class AcceptedPair(msgspec.Struct):
    """A failing (check, resource) pair accepted as a risk (the report's ``accepted``)."""

    check_id: Any = ""
    severity: Any = ""
    title: Any = ""
    resource_id: Any = ""
    resource_name: Any = ""
    resource_type: Any = ""
    frameworks: Any = ()
    evidence: Any = ()
    acceptance: Acceptance = msgspec.field(default_factory=Acceptance)
    conditional: Any = False


class _RawRest(msgspec.Struct):
    findings: list[msgspec.Raw] = []
    unknown: list[UnknownResult] = []
    accepted: list[AcceptedPair] = []


@dataclass(frozen=True)
class ReportDetails:
    """What a report's page reads of the stored body besides its header and findings' keys."""

    findings: dict[int, ReportFinding]  # by position in the report, only the positions asked
    unknown: list[UnknownResult]
    passed: list[PassedCheck] | None  # the first checks only; None if passes were not recorded
    more_passed: bool  # whether more checks passed than ``passed`` holds
    accepted: list[AcceptedPair]  # the pairs accepted as risks, most severe first


_RAW_BATCH = msgspec.json.Decoder(list[msgspec.Raw])
_RAW_REST = msgspec.json.Decoder(_RawRest)
_FINDING = msgspec.json.Decoder(ReportFinding)
_PASSED_BATCH = msgspec.json.Decoder(list[PassedCheck])
# Between two checks of the compact ``passed`` array; inside a check's evidence the bytes may
# occur too, and a batch cut there does not decode: it waits for a later cut (``StoredFindings``).
_BETWEEN_CHECKS = b'},{"check_id":'


@dataclass(frozen=True)
class SavedReport:
    """A tenant's saved report within its plan's history window, still sealed."""

    tenant_id: str
    plan: str
    row: Report
    compressed: bytes  # the report's JSON, compressed, integrity checked

    @property
    def report_id(self) -> str:
        return self.row.report_id

    def header(self) -> dict[str, Any]:
        """The report's members other than ``findings`` (scores, counts, frameworks, scan_ts)."""
        head = b""
        for piece in inflate(self.compressed):
            head += piece
            at = head.find(b'"findings":[')
            if at >= 0:
                return _HEAD.decode(head[:at] + b'"findings":[]}')
        raise ReportUnreadable(self.report_id)

    def findings(self, after: dict[str, Any] | None = None) -> Iterator[list[InsightFinding]]:
        """The report's findings, a decoded batch at a time, in report order; once they are
        read, ``after`` (if given) holds the ``source``, ``notes`` and ``not_evaluated``
        written after them (None when absent)."""
        stored = StoredFindings(inflate(self.compressed), _BATCH)
        try:
            yield from stored
            rest = _REST.decode(stored.tail)
        except msgspec.DecodeError:
            raise ReportUnreadable(self.report_id) from None
        if after is not None:
            after.update(source=rest.source, notes=rest.notes, not_evaluated=rest.not_evaluated)
        yield rest.findings

    def details(self, positions: Collection[int], passed_checks: int) -> ReportDetails:
        """The findings at ``positions`` (their rank in the report, from 0) in full, the
        unknown results, the accepted pairs and the first ``passed_checks`` checks that passed:
        one read of the stored body, a slice at a time, keeping only those findings."""
        body = StoredBody(self.compressed)
        stored = StoredFindings(body.report(), _RAW_BATCH)
        found: dict[int, ReportFinding] = {}
        position = 0

        def keep(batch: list[msgspec.Raw]) -> None:
            nonlocal position
            for raw in batch:
                if position in positions:
                    found[position] = _FINDING.decode(raw)
                position += 1

        try:
            for batch in stored:
                keep(batch)
            rest = _RAW_REST.decode(stored.tail)
            keep(rest.findings)
            passes = body.passed()
            passed, more = (None, False) if passes is None else _first(passes, passed_checks)
        except (msgspec.DecodeError, zlib.error):
            raise ReportUnreadable(self.report_id) from None
        return ReportDetails(found, rest.unknown, passed, more, rest.accepted)


def _first(pieces: Iterator[bytes], count: int) -> tuple[list[PassedCheck], bool]:
    """The first ``count`` checks of the ``passed`` array's pieces, and whether more follow:
    read until they are, never the whole array (31 MiB at 50,000 resources)."""
    checks: list[PassedCheck] = []
    buffer = b""
    for piece in pieces:
        buffer += piece
        cut = buffer.rfind(_BETWEEN_CHECKS)
        if cut <= 0:
            continue
        try:
            checks += _PASSED_BATCH.decode(buffer[: cut + 1] + b"]")
        except msgspec.DecodeError:
            continue
        if len(checks) > count:
            return checks[:count], True
        buffer = b"[" + buffer[cut + 2 :]
    checks += _PASSED_BATCH.decode(buffer)
    return checks[:count], len(checks) > count


def saved_report(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    keys: Keyring,
    report_id: str,
    now: dt.datetime,
) -> SavedReport:
    """The caller's tenant's report (404 if another tenant's, absent, or past the window)."""
    tenant = caller_tenant(session, caller)
    row = ReportRepository(session, tenant.id).get(
        report_id, since=history_start(catalog, tenant.plan, now)
    )
    if row is None:
        raise ReportNotFound(report_id)
    wrapper = keys.opening(session, row.tenant_id, row.key_mode, row.key_ref)
    try:
        compressed = open_compressed(
            wrapper, row.wrapped_key, row.body, context("report", row.tenant_id, row.report_id)
        )
    except DocumentUnreadable:
        raise ReportUnreadable(row.report_id) from None
    return SavedReport(tenant.id, tenant.plan, row, compressed)
