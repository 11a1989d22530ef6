"""A saved report as the insights read it: the row, its header, and its findings in batches.

A report at the enterprise limit is about 900 MiB of JSON: it is never whole in memory here.
Its header (every member but ``findings``) is decoded on its own, and its findings arrive in
decoded batches as the stored bytes are inflated a slice at a time (``StoredFindings``), each
finding as an ``InsightFinding`` holding only what the insights read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
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


_BATCH = msgspec.json.Decoder(list[InsightFinding])
_REST = msgspec.json.Decoder(_Rest)
_HEAD = msgspec.json.Decoder(dict[str, Any])


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
        read, ``after`` (if given) holds the ``source`` written after them."""
        stored = StoredFindings(inflate(self.compressed), _BATCH)
        try:
            yield from stored
            rest = _REST.decode(stored.tail)
        except msgspec.DecodeError:
            raise ReportUnreadable(self.report_id) from None
        if after is not None:
            after["source"] = rest.source
        yield rest.findings


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
