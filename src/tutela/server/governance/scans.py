"""Governance scans: find the tenants that are due, scan each exactly once, detect drift, alert.

One tenant's scan runs in four short steps so no transaction stays open while Azure is read:

1. **claim**: take the tenant's lease (one conditional UPDATE, see ``repository``). Whoever
   does not get it skips the tenant: two workers, or two API processes, never both scan it.
2. **scan**: read the estate and assess it against every framework of the plan.
3. **compare**: read the previous governance report and detect drift.
4. **finish**: in one transaction, check the lease is still ours, store the report (type
   ``governance``: listed in history, not counted in the quota) and move the schedule on.

A worker killed before step 4 stored nothing: its lease expires
(``TUTELA_GOVERNANCE_LEASE_SECONDS``) and the next look finds the tenant due again. A scan that
fails (Azure unreachable, no snapshot) is recorded in the state and retried with backoff; other
tenants go on. The drift alert is sent after the commit, so a rolled-back scan mails nobody.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
import zlib
from typing import Any, Literal, NamedTuple

import msgspec
from sqlalchemy.orm import Session

from tutela.scanner.outputs.report_json import inflate
from tutela.server.db import transaction, utcnow
from tutela.server.errors import DomainError
from tutela.server.exceptions.service import scan_acceptances
from tutela.server.governance.cadence import effective_cadence, next_slot, retry_delay
from tutela.server.governance.drift import (
    DriftSide,
    drift_between,
    drift_email,
    side_of_document,
    side_of_stored,
)
from tutela.server.governance.repository import (
    GovernanceRepository,
    due_states,
    tenants_without_state,
)
from tutela.server.house_policy.service import scan_catalog
from tutela.server.metrics import SCANS
from tutela.server.notify import EmailNotSent, notifier_from
from tutela.server.reports.envelope import DocumentUnreadable, context, open_compressed
from tutela.server.reports.models import Report
from tutela.server.reports.repository import ReportRepository
from tutela.server.reports.service import GOVERNANCE, ReportUnreadable, store_report
from tutela.server.runtime import Runtime
from tutela.server.scans.service import assess_estate, linked_subscriptions, tenant_source
from tutela.server.tenants.models import Tenant

log = logging.getLogger("tutela.governance")

Status = Literal["scanned", "failed", "skipped"]
GOVERNANCE_LABEL = "governance"


class Outcome(NamedTuple):
    tenant_id: str
    status: Status
    report_id: str | None = None
    drift: bool = False
    detail: str | None = None


class _LeaseLost(Exception):
    """The lease expired during the scan and another worker took the tenant."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def ensure_states(runtime: Runtime, now: dt.datetime) -> int:
    """Give every tenant without governance state its default one; how many were added."""
    with transaction(runtime.sessions) as session:
        missing = tenants_without_state(session)
        for tenant_id in missing:
            GovernanceRepository(session, tenant_id).ensure(now)
    return len(missing)


def due_tenants(runtime: Runtime, now: dt.datetime) -> list[str]:
    """Tenants whose automatic governance scan is due now, oldest slot first."""
    now = now.replace(microsecond=0)
    ensure_states(runtime, now)
    with transaction(runtime.sessions, readonly=True) as session:
        rows = due_states(session, now)
    catalog = runtime.catalog
    return [
        tenant_id
        for tenant_id, chosen, plan in rows
        if effective_cadence(chosen, catalog.plan(plan).governance_cadence) != "manual"
    ]


def run_due(runtime: Runtime, now: dt.datetime | None = None) -> list[Outcome]:
    """Scan every due tenant in turn (the in-process scheduler and `tutela jobs run-due`)."""
    now = (now or utcnow()).replace(microsecond=0)
    return [scan_tenant(runtime, tenant_id, now) for tenant_id in due_tenants(runtime, now)]


def scan_tenant(runtime: Runtime, tenant_id: str, now: dt.datetime | None = None) -> Outcome:
    """One tenant's governance scan, if it is due and nobody else is running it."""
    now = (now or utcnow()).replace(microsecond=0)  # report ids and the state count seconds
    owner = f"{worker_name()}:{uuid.uuid4().hex[:8]}"
    lease = dt.timedelta(seconds=runtime.settings.governance_lease_seconds)
    with transaction(runtime.sessions) as session:
        if not GovernanceRepository(session, tenant_id).claim(owner, now, now + lease):
            return Outcome(tenant_id, "skipped", detail="not due, or another worker has it")
    log.info("governance_scan_started tenant=%s worker=%s", tenant_id, owner)
    try:
        document, drift = _scan(runtime, tenant_id, now)
        report_id, alert = _finish(runtime, tenant_id, owner, document, drift, now)
    except _LeaseLost:
        log.warning("governance_lease_lost tenant=%s worker=%s", tenant_id, owner)
        return Outcome(tenant_id, "skipped", detail="lease lost to another worker")
    except Exception as exc:
        detail = _describe(exc)
        # Our own errors (no subscription, no snapshot, Azure refused) are their message; only
        # the unexpected carry a traceback.
        expected = isinstance(exc, DomainError)
        log.warning(
            "governance_scan_failed tenant=%s detail=%s", tenant_id, detail, exc_info=not expected
        )
        _record_failure(runtime, tenant_id, owner, detail, now)
        SCANS.labels("governance", "failed").inc()
        return Outcome(tenant_id, "failed", detail=detail)
    SCANS.labels("governance", "stored").inc()
    detected = bool(drift and drift["detected"])
    log.info(
        "governance_scan_finished tenant=%s report=%s drift=%s", tenant_id, report_id, detected
    )
    if alert is not None:
        _send_alert(runtime, tenant_id, alert)
    return Outcome(tenant_id, "scanned", report_id, detected)


def _scan(runtime: Runtime, tenant_id: str, now: dt.datetime) -> tuple[Any, dict[str, Any] | None]:
    """Steps 2 and 3: the report document (not stored) and the drift from the previous one."""
    catalog = runtime.catalog
    with transaction(runtime.sessions, readonly=True) as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None  # the state row cascades with its tenant
        plan = catalog.plan(tenant.plan)
        runtime.keyring.check_sealing(session, tenant)
        source = tenant_source(session, runtime, tenant, linked_subscriptions(tenant))
        policy_catalog = scan_catalog(session, tenant.id, catalog)
        acceptances = scan_acceptances(session, tenant.id, policy_catalog, now.date())
    estate, source_name = source.read(runtime)
    document = assess_estate(
        runtime,
        tenant_id,
        estate,
        list(plan.frameworks),
        now,
        narrate=plan.narratives_default,
        label=GOVERNANCE_LABEL,
        catalog=policy_catalog,
        acceptances=acceptances,
    )
    document.header.update({"subscriptions": source.subscriptions, "source": source_name})
    with transaction(runtime.sessions, readonly=True) as session:
        previous = ReportRepository(session, tenant_id).latest(
            report_type=GOVERNANCE, since=dt.datetime.min.replace(tzinfo=dt.UTC)
        )
        before = _previous_side(runtime, session, previous) if previous else None
    if before is None:
        return document, None
    # The current side from the assessment: the report is encoded once, when it is stored.
    current = side_of_document(document)
    return document, drift_between(before, current, runtime.settings.drift_score_drop)


def _previous_side(runtime: Runtime, session: Session, row: Report) -> DriftSide:
    """The previous governance report as drift reads it, inflated and decoded a piece at a
    time, opened with the key that sealed it; 500 if it cannot be opened (503 while a CMK
    cannot be used)."""
    wrapper = runtime.keyring.opening(session, row.tenant_id, row.key_mode, row.key_ref)
    try:
        compressed = open_compressed(
            wrapper,
            row.wrapped_key,
            row.body,
            context("report", row.tenant_id, row.report_id),
        )
        return side_of_stored(inflate(compressed), row.report_id, row.aggregate_score)
    except (DocumentUnreadable, zlib.error, msgspec.DecodeError):
        raise ReportUnreadable(row.report_id) from None


def _finish(
    runtime: Runtime,
    tenant_id: str,
    owner: str,
    document: Any,
    drift: dict[str, Any] | None,
    now: dt.datetime,
) -> tuple[str, tuple[str, str, dict[str, Any]] | None]:
    """Step 4: store the report and move the schedule on, only while the lease is ours."""
    with transaction(runtime.sessions) as session:
        state = GovernanceRepository(session, tenant_id).get(for_update=True)
        if state is None or state.lease_owner != owner:
            raise _LeaseLost
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        row = store_report(
            session,
            runtime.keyring.sealing(session, tenant),
            tenant,
            document,
            report_type=GOVERNANCE,
            label=GOVERNANCE_LABEL,
            scan_ts=now,
        )
        if drift is not None:
            drift["report_id"] = row.report_id
        plan = runtime.catalog.plan(tenant.plan)
        cadence = effective_cadence(state.cadence, plan.governance_cadence)
        state.next_scan_at = next_slot(state.next_scan_at or now, cadence, now)
        state.retry_at = None
        state.last_scan_at = now
        state.last_report_id = row.report_id
        state.governance_score = row.aggregate_score
        state.drift_detected = bool(drift and drift["detected"])
        state.drift = drift
        state.failures, state.last_error, state.last_error_at = 0, None, None
        state.lease_owner, state.lease_expires_at = None, None
        alert = None
        if state.drift_detected and plan.features.drift_alerts:
            assert drift is not None
            alert = (tenant.owner_email, tenant.name, drift)
        return row.report_id, alert


def _record_failure(
    runtime: Runtime, tenant_id: str, owner: str, detail: str, now: dt.datetime
) -> None:
    with transaction(runtime.sessions) as session:
        state = GovernanceRepository(session, tenant_id).get(for_update=True)
        if state is None or state.lease_owner != owner:
            return
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        cadence = effective_cadence(
            state.cadence, runtime.catalog.plan(tenant.plan).governance_cadence
        )
        state.failures += 1
        first = dt.timedelta(seconds=runtime.settings.governance_retry_seconds)
        state.retry_at = now + retry_delay(state.failures, first, cadence)
        state.last_error, state.last_error_at = detail, now
        state.lease_owner, state.lease_expires_at = None, None


def _describe(exc: Exception) -> str:
    """A failure's cause for the state: our own errors' messages; others only by kind."""
    if isinstance(exc, DomainError):
        return str(exc.detail)
    return f"Internal error ({type(exc).__name__}); see the server log (governance_scan_failed)"


def _send_alert(runtime: Runtime, tenant_id: str, alert: tuple[str, str, dict[str, Any]]) -> None:
    to, name, drift = alert
    email = drift_email(to, name, drift, runtime.settings.resolved_public_url)
    try:
        notifier_from(runtime.settings).send(email)
    except EmailNotSent as exc:  # the scan is stored; the alert is logged as lost
        log.error("drift_alert_not_sent tenant=%s detail=%s", tenant_id, exc)
