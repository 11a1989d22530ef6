"""The jobs, as plain functions of the runtime and the time, and the record of their runs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from tutela.server.db import refresh_statistics, transaction, utcnow
from tutela.server.encryption.health import check_all
from tutela.server.exceptions.notices import send_expiry_notices
from tutela.server.governance.scans import due_tenants, scan_tenant, worker_name
from tutela.server.idempotency.service import idempotency_service
from tutela.server.jobs.models import JobRun
from tutela.server.reports.service import purge_expired
from tutela.server.runtime import Runtime
from tutela.server.tenants_lifecycle.deletion import purge_due

log = logging.getLogger("tutela.jobs")

GOVERNANCE_DUE = "governance.run_due"
GOVERNANCE_SCAN = "governance.scan_tenant"
REPORTS_PURGE = "reports.purge"
KEY_HEALTH = "encryption.key_health"
EXCEPTION_NOTICES = "exceptions.expiry_notices"
TENANTS_PURGE = "tenants.purge"
JOB_NAMES = (
    GOVERNANCE_DUE,
    GOVERNANCE_SCAN,
    REPORTS_PURGE,
    KEY_HEALTH,
    EXCEPTION_NOTICES,
    TENANTS_PURGE,
)
PURGE_ACTOR = "tutela (tenant deletion grace period over)"

Submit = Callable[[str], None]
"""Hands one tenant's governance scan to a worker (Celery); None scans it here and now."""


@dataclass(frozen=True)
class JobResult:
    name: str
    detail: str
    failures: int = 0  # parts of the job that failed (tenants whose scan failed)


def governance_due(runtime: Runtime, now: dt.datetime, submit: Submit | None = None) -> JobResult:
    """Every tenant whose governance scan is due: scanned here in turn, or submitted."""
    tenants = due_tenants(runtime, now)
    if submit is not None:
        for tenant_id in tenants:
            submit(tenant_id)
        return JobResult(GOVERNANCE_DUE, f"{len(tenants)} due, submitted")
    outcomes = [scan_tenant(runtime, tenant_id, now) for tenant_id in tenants]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("scanned", "failed", "skipped")}
    drifted = sum(o.drift for o in outcomes)
    detail = (
        f"{len(tenants)} due: {counts['scanned']} scanned ({drifted} with drift), "
        f"{counts['failed']} failed, {counts['skipped']} skipped"
    )
    return JobResult(GOVERNANCE_DUE, detail, counts["failed"])


def governance_scan(runtime: Runtime, tenant_id: str, now: dt.datetime) -> JobResult:
    outcome = scan_tenant(runtime, tenant_id, now)
    detail = f"tenant {tenant_id}: {outcome.status}"
    if outcome.report_id:
        detail += f" {outcome.report_id}" + (" (drift)" if outcome.drift else "")
    if outcome.detail:
        detail += f" ({outcome.detail})"
    return JobResult(GOVERNANCE_SCAN, detail, int(outcome.status == "failed"))


def reports_purge(runtime: Runtime, now: dt.datetime) -> JobResult:
    """Delete every tenant's reports past its plan's history window, and the Idempotency-Key
    records past theirs (TUTELA_IDEMPOTENCY_RETENTION_HOURS)."""
    with transaction(runtime.sessions) as session:
        purged = purge_expired(session, runtime.catalog, now)
    detail = f"Deleted {sum(purged.values())} expired report(s) in {len(purged)} tenant(s)."
    keys = idempotency_service(runtime).purge(now)
    if keys:  # named only when there were some, so the usual line stays as it was
        detail += f" Deleted {keys} idempotency record(s) past their window."
    refresh_statistics(runtime.engine)  # after the deletions: SQLite's planner statistics
    return JobResult(REPORTS_PURGE, detail)


def key_health(runtime: Runtime, now: dt.datetime) -> JobResult:
    """Check every CMK tenant's Key Vault key (``encryption.health``); failures are counted."""
    report = check_all(runtime)
    return JobResult(KEY_HEALTH, report.detail, report.failed)


def exception_notices(runtime: Runtime, now: dt.datetime) -> JobResult:
    """Mail the owners and admins of each exception expiring within a week, once
    (``exceptions.notices``); notices that could not be sent are counted."""
    report = send_expiry_notices(runtime, now)
    return JobResult(EXCEPTION_NOTICES, report.detail, report.failed)


def tenants_purge(runtime: Runtime, now: dt.datetime) -> JobResult:
    """Purge every tenant whose deletion grace period is over (``tenants_lifecycle.deletion``):
    data keys destroyed first, then its rows."""
    purged = purge_due(runtime, now, actor=PURGE_ACTOR)
    reports = sum(p.reports for p in purged)
    return JobResult(TENANTS_PURGE, f"Purged {len(purged)} tenant(s) ({reports} report(s)).")


@contextmanager
def recorded(runtime: Runtime, name: str) -> Iterator[list[JobResult]]:
    """Record a job's run (start, end, outcome) in job_runs, around the block.

    The block appends its ``JobResult``; an exception marks the run failed and propagates.
    """
    started = utcnow()
    results: list[JobResult] = []
    _write(runtime, name, started=started)
    try:
        yield results
    except Exception as exc:
        _write(runtime, name, finished=utcnow(), status="failed", detail=type(exc).__name__)
        log.exception("job_failed job=%s", name)
        raise
    result = results[-1] if results else JobResult(name, "")
    status = "failed" if result.failures else "ok"
    _write(runtime, name, finished=utcnow(), status=status, detail=result.detail)
    log.info("job_finished job=%s status=%s detail=%s", name, status, result.detail)


def _write(
    runtime: Runtime,
    name: str,
    *,
    started: dt.datetime | None = None,
    finished: dt.datetime | None = None,
    status: str | None = None,
    detail: str | None = None,
) -> None:
    with transaction(runtime.sessions) as session:
        row = session.get(JobRun, name, with_for_update=True)
        if row is None:
            row = JobRun(name=name, runs=0)
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:  # another process recorded its first run meanwhile
                row = session.get(JobRun, name, with_for_update=True)
                assert row is not None
        if started is not None:
            row.runs += 1
            row.last_started_at = started
            row.last_worker = worker_name()
        if finished is not None:
            row.last_finished_at, row.last_status, row.last_detail = finished, status, detail
