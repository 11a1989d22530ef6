"""Report use cases: store a scan's report, list and read history, delete, diff, retention.

Report ids keep the seed's format ``COMP-YYYYMMDD-HHmmss`` (UTC, the report's ``scan_ts``) and
are unique per tenant: further reports of the same second take a suffix, ``-2``, ``-3``, … (see
``reports.ids``). The id is taken inside a savepoint, so two writers racing for one id
(PostgreSQL) retry with the next, never fail.
Reports older than the plan's history window are neither listed nor returned, and
``purge_expired`` deletes them.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.scanner.outputs.deflating import Deflated
from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.report_json import ReportDocument, inflate
from tutela.server.analytics import service as analytics
from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.errors import DomainError, NotFound
from tutela.server.metrics import count_findings
from tutela.server.reports.deletion import DeletionRequest, one_or_all
from tutela.server.reports.diff_stream import (
    READ_SLICE,
    ReportNotDiffable,
    StoredDiff,
    StoredSide,
    side_of_stored_report,
)
from tutela.server.reports.envelope import (
    COMPRESSION_LEVEL,
    DocumentUnreadable,
    KeyWrapper,
    context,
    open_compressed,
    open_document,
    seal_compressed,
    seal_json,
)
from tutela.server.reports.ids import first_free, second_of
from tutela.server.reports.models import Report
from tutela.server.reports.repository import ReportRepository
from tutela.server.reports.streams import remember, report_stream
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.repository import TenantRepository
from tutela.server.tracing import traced

if TYPE_CHECKING:
    from tutela.server.encryption.keyring import Keyring

MANUAL, GOVERNANCE = "manual", "governance"


class ReportNotFound(NotFound):
    def __init__(self, report_id: str) -> None:
        super().__init__(f"Report {report_id} not found")


class ReportUnreadable(DomainError):
    """A stored body failed its integrity check; it is reported, never returned."""

    status_code = 500

    def __init__(self, report_id: str) -> None:
        super().__init__(
            f"Report {report_id} cannot be decrypted: its stored body failed the integrity "
            "check (tampered with, or moved from another row). Nothing was returned."
        )


def history_start(catalog: Catalog, plan_id: str, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=catalog.plan(plan_id).history_days)


@traced("store report")
def store_report(
    session: Session,
    keys: KeyWrapper,
    tenant: Tenant,
    document: ReportDocument | dict[str, Any],
    *,
    report_type: str,
    label: str | None,
    scan_ts: dt.datetime,
    actor: str | None = None,
) -> Report:
    """Give the document its report id, seal it and save it with its listing columns.

    A scan's ``ReportDocument`` compresses itself as it is encoded (never whole in memory) and
    keeps the compressed bytes, which are sealed here and which its answer is inflated from; a
    plain dict (a report made elsewhere) is encoded here. Either way the document carries its id
    and tenant after. A scan's passes, when recorded, are stored after the report (``passed``).
    The audit log records the stored scan (``scan.stored``), by ``actor`` (the caller; by
    default the governance schedule for a governance report). The tenant's plan and the
    report's failure counts are kept in clear for platform analytics (``server.analytics``).
    """
    header = document.header if isinstance(document, ReportDocument) else document
    reports = ReportRepository(session, tenant.id)
    second = second_of(scan_ts)
    taken = reports.taken_ids(second)
    while True:  # each pass that fails lost its id to a report another writer stored
        report_id = first_free(second, taken)
        header["report_id"], header["tenant_id"] = report_id, tenant.id
        bound_to = context("report", tenant.id, report_id)
        if isinstance(document, ReportDocument):
            # The passes' stream follows the report's, which every reader stops at (``passed``).
            compressed = document.compressed(COMPRESSION_LEVEL, with_passed=True)
            wrapped, body = seal_compressed(keys, compressed, bound_to)
        else:
            wrapped, body = seal_json(keys, dumps(document, indent=False), bound_to)
        row = Report(
            report_id=report_id,
            type=report_type,
            label=label,
            frameworks=list(header["frameworks"]),
            aggregate_score=header.get("aggregate_score"),
            critical_count=header["critical_count"],
            high_count=header["high_count"],
            medium_count=header["medium_count"],
            low_count=header["low_count"],
            resources_scanned=header.get("resources_scanned", 0),
            checks_unknown=header.get("checks_unknown", 0),
            plan=tenant.plan,
            created_at=scan_ts,
            key_mode=keys.mode,
            key_ref=keys.key_ref,
            wrapped_key=wrapped,
            body=body,
        )
        try:
            with session.begin_nested():
                reports.add(row)
        except IntegrityError:
            taken = reports.taken_ids(second)
            if report_id not in taken:  # not a race for the id: a real error
                raise
            continue
        if isinstance(document, ReportDocument):  # its stream, for reads that send it as is
            remember(tenant.id, report_id, wrapped, document.deflated())
        analytics.record_report_counts(session, row, document)
        audit.record(
            session,
            actor=actor or ("governance schedule" if report_type == GOVERNANCE else "tutela"),
            action="scan.stored",
            tenant_id=tenant.id,
            target=report_id,
            details={
                "type": report_type,
                "source": header.get("source"),
                "frameworks": list(header["frameworks"]),
                "resources_scanned": header.get("resources_scanned", 0),
            },
        )
        count_findings(header)
        return row


def list_reports(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    now: dt.datetime,
    *,
    report_type: str | None,
    cursor: str | None,
    limit: int,
    label: str | None = None,
) -> tuple[list[Report], str | None]:
    """A page of the tenant's reports, newest first; ``label``: those whose label contains it,
    case-insensitively."""
    tenant_id, plan = _tenant_and_plan(session, caller)
    return ReportRepository(session, tenant_id).page(
        since=history_start(catalog, plan, now),
        report_type=report_type,
        cursor=cursor,
        limit=limit,
        label=label,
    )


def read_report(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    keys: Keyring,
    report_id: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The full saved report (within the plan's history window)."""
    tenant_id, plan = _tenant_and_plan(session, caller)
    row = ReportRepository(session, tenant_id).get(
        report_id, since=history_start(catalog, plan, now)
    )
    if row is None:
        raise ReportNotFound(report_id)
    return open_report(keys.opening(session, row.tenant_id, row.key_mode, row.key_ref), row)


def read_report_compressed(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    keys: Keyring,
    report_id: str,
    now: dt.datetime,
) -> bytes:
    """The saved report's JSON as stored, compressed (its integrity checked): answered by
    inflating it a slice at a time (``inflate``), never parsed, re-encoded or whole. It opens
    with the key that sealed it (503 while that key's vault cannot be used)."""
    return _open_stored(session, caller, catalog, keys, report_id, now)[1]


def read_report_deflated(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    keys: Keyring,
    report_id: str,
    now: dt.datetime,
) -> Deflated:
    """The saved report's own zlib stream as stored (its integrity checked), without its
    passes: sent as it is to a client that accepts deflate or gzip (``reports.streams``)."""
    row, compressed = _open_stored(session, caller, catalog, keys, report_id, now)
    try:
        return report_stream(row.tenant_id, row.report_id, row.wrapped_key, compressed)
    except zlib.error:
        raise ReportUnreadable(row.report_id) from None


def _open_stored(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    keys: Keyring,
    report_id: str,
    now: dt.datetime,
) -> tuple[Report, bytes]:
    """The caller's tenant's report row (within the plan's history window) and its opened,
    still compressed body; 404 for another tenant's report, 500 for a body that fails its
    integrity check."""
    tenant_id, plan = _tenant_and_plan(session, caller)
    row = ReportRepository(session, tenant_id).get(
        report_id, since=history_start(catalog, plan, now)
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
    return row, compressed


def open_report(keys: KeyWrapper, row: Report) -> dict[str, Any]:
    """The stored report's document, opened with ``keys`` (the wrapper of the row's key)."""
    try:
        document = open_document(
            keys, row.wrapped_key, row.body, context("report", row.tenant_id, row.report_id)
        )
    except DocumentUnreadable:
        raise ReportUnreadable(row.report_id) from None
    if not isinstance(document, dict):
        raise ReportUnreadable(row.report_id)
    return document


def delete_report(session: Session, caller: Caller, report_id: str) -> None:
    tenant_id, _ = _tenant_and_plan(session, caller)
    reports = ReportRepository(session, tenant_id)
    row = reports.get(report_id)
    if row is None:
        raise ReportNotFound(report_id)
    reports.delete(row)
    audit.record(
        session,
        actor=caller.actor,
        action="report.deleted",
        tenant_id=tenant_id,
        target=report_id,
        details={"type": row.type},
    )


def delete_one_or_all(
    session: Session, tenant_id: str, report_type: str, report_id: str | None
) -> list[str]:
    """The ids deleted: the one report of this type named (404 if none), or every one of it."""
    reports = ReportRepository(session, tenant_id)
    if report_id is None:
        return reports.delete_of_type(report_type)
    row = reports.get(report_id)
    if row is None or row.type != report_type:
        raise ReportNotFound(report_id)
    reports.delete(row)
    return [report_id]


def delete_manual_reports(
    session: Session, caller: Caller, request: DeletionRequest | None
) -> tuple[int, str | None]:
    """Every manual report (no body, or ``selective: false``), or the one named; audit-logged.

    Governance reports stay either way: a named governance report is a 404 here.
    """
    report_id = None if request is None else one_or_all(request, everything="every manual report")
    tenant_id, _ = _tenant_and_plan(session, caller)
    deleted = delete_one_or_all(session, tenant_id, MANUAL, report_id)
    audit.record(
        session,
        actor=caller.actor,
        action="reports.manual_deleted",
        tenant_id=tenant_id,
        details={"deleted": len(deleted), "report_ids": sorted(deleted)},
    )
    return len(deleted), report_id


def diff(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    keys: Keyring,
    report_a: str,
    report_b: str,
    now: dt.datetime,
) -> StoredDiff:
    """What changed from ``report_a`` to ``report_b``: ``diff_reports`` of the two documents,
    read without either whole in memory (``diff_stream``). Both reports are read here (404,
    or 500 for a body that fails its check, before anything is sent); the answer is written as
    it is sent, by ``StoredDiff.chunks``."""
    stored = [
        (report_id, read_report_compressed(session, caller, catalog, keys, report_id, now))
        for report_id in (report_a, report_b)
    ]
    sides: list[StoredSide] = []
    while stored:
        report_id, compressed = stored.pop(0)
        try:  # the later report is read against the earlier one: its severity changes
            sides.append(side_of_stored_report(inflate(compressed, READ_SLICE), *sides))
        except ReportNotDiffable:
            raise ReportUnreadable(report_id) from None
        del compressed  # (its findings are in the side's chunks now)
    return StoredDiff(*sides)


def purge_expired(session: Session, catalog: Catalog, now: dt.datetime) -> dict[str, int]:
    """Delete every tenant's reports older than its plan's history window: tenant id → count."""
    purged: dict[str, int] = {}
    for tenant in TenantRepository(session).all():
        count = ReportRepository(session, tenant.id).delete_older_than(
            history_start(catalog, tenant.plan, now)
        )
        if count:
            purged[tenant.id] = count
            audit.record(
                session,
                actor="retention",
                action="reports.purged",
                tenant_id=tenant.id,
                details={"deleted": count, "history_days": catalog.plan(tenant.plan).history_days},
            )
    return purged


def _tenant_and_plan(session: Session, caller: Caller) -> tuple[str, str]:
    from tutela.server.tenants.service import caller_tenant

    tenant = caller_tenant(session, caller)
    return tenant.id, tenant.plan
