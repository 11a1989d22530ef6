"""Governance use cases of the API: read the state, choose the cadence, delete history.

The history is the tenant's governance reports within the plan's history window, newest first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.errors import PlanRestriction
from tutela.server.governance.cadence import (
    INTERVALS,
    Cadence,
    allowed_cadences,
    effective_cadence,
    frequency,
)
from tutela.server.governance.models import GovernanceState
from tutela.server.governance.repository import GovernanceRepository
from tutela.server.reports.deletion import DeletionRequest, one_or_all
from tutela.server.reports.models import Report
from tutela.server.reports.repository import ReportRepository
from tutela.server.reports.service import GOVERNANCE, delete_one_or_all, history_start
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.service import caller_tenant

HISTORY_LIMIT = 100  # newest governance reports listed; older ones stay readable by id


@dataclass(frozen=True)
class GovernanceView:
    tenant: Tenant
    state: GovernanceState
    cadence: Cadence
    plan_cadence: Cadence
    history: list[Report]
    now: dt.datetime

    @property
    def automatic(self) -> bool:
        return self.state.enabled and self.cadence != "manual"

    @property
    def next_scan_at(self) -> dt.datetime | None:
        if not self.automatic:
            return None
        times = [t for t in (self.state.next_scan_at, self.state.retry_at) if t is not None]
        return max([*times, self.now])  # a slot already past runs at the scheduler's next look

    def as_dict(self) -> dict[str, Any]:
        state = self.state
        return {
            "governance_enabled": self.automatic,
            "cadence": self.cadence,
            "plan_cadence": self.plan_cadence,
            "allowed_cadences": allowed_cadences(self.plan_cadence),
            "last_scan_ts": state.last_scan_at,
            "next_scan_ts": self.next_scan_at,
            "governance_score": state.governance_score,
            "drift_detected": state.drift_detected,
            "drift": state.drift,
            "last_error": (
                {"detail": state.last_error, "ts": state.last_error_at, "failures": state.failures}
                if state.last_error
                else None
            ),
            "history": [
                {"report_id": r.report_id, "score": r.aggregate_score, "ts": r.created_at}
                for r in self.history
            ],
        }


def view(session: Session, caller: Caller, catalog: Catalog, now: dt.datetime) -> GovernanceView:
    tenant = caller_tenant(session, caller)
    return view_of(session, tenant, catalog, now)


def view_of(
    session: Session,
    tenant: Tenant,
    catalog: Catalog,
    now: dt.datetime,
    *,
    with_history: bool = True,
) -> GovernanceView:
    state = GovernanceRepository(session, tenant.id).get_or_default(now)
    plan_cadence = catalog.plan(tenant.plan).governance_cadence
    history: list[Report] = []
    if with_history:
        history, _ = ReportRepository(session, tenant.id).page(
            since=history_start(catalog, tenant.plan, now),
            report_type=GOVERNANCE,
            cursor=None,
            limit=HISTORY_LIMIT,
        )
    return GovernanceView(
        tenant,
        state,
        effective_cadence(state.cadence, plan_cadence),
        plan_cadence,
        history,
        now,
    )


def update(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    now: dt.datetime,
    *,
    enabled: bool | None,
    cadence: str | None,
) -> GovernanceView:
    """PUT /governance: pause or resume, and choose a cadence no more frequent than the plan's."""
    tenant = caller_tenant(session, caller)
    plan_cadence = catalog.plan(tenant.plan).governance_cadence
    state = GovernanceRepository(session, tenant.id).ensure(now)
    before = {"enabled": state.enabled, "cadence": state.cadence}
    if cadence is not None:
        if frequency(cadence) > frequency(plan_cadence):
            raise PlanRestriction(
                f"Cadence '{cadence}' is not available on plan '{tenant.plan}' (allowed: "
                f"{', '.join(allowed_cadences(plan_cadence))})"
            )
        state.cadence = cadence
    if enabled is not None:
        state.enabled = enabled
    _reschedule(state, effective_cadence(state.cadence, plan_cadence), now)
    after = {"enabled": state.enabled, "cadence": state.cadence}
    if after != before:
        audit.record(
            session,
            actor=caller.actor,
            action="governance.settings_changed",
            tenant_id=tenant.id,
            target=f"tenant:{tenant.id}",
            details={"before": before, "after": after},
        )
    session.flush()
    return view_of(session, tenant, catalog, now)


def _reschedule(state: GovernanceState, cadence: Cadence, now: dt.datetime) -> None:
    """After a settings change: one interval after the last scan, or now if that is past."""
    if not state.enabled or cadence == "manual":
        return  # nothing is due while paused or manual; the slot is set again on resuming
    following = state.last_scan_at + INTERVALS[cadence] if state.last_scan_at else now
    state.next_scan_at = max(following, now)


def delete_history(
    session: Session, caller: Caller, now: dt.datetime, request: DeletionRequest | None
) -> tuple[int, str | None]:
    """DELETE /governance/history: the one report named, or, asked explicitly, every one.

    No body is a 422 (the seed's bodiless call wiped everything): see ``deletion.one_or_all``.
    """
    report_id = one_or_all(request, everything="the whole governance history")
    selective = report_id is not None
    tenant = caller_tenant(session, caller)
    state = GovernanceRepository(session, tenant.id).ensure(now)
    deleted = delete_one_or_all(session, tenant.id, GOVERNANCE, report_id)
    if state.last_report_id in deleted:  # the state no longer points at a deleted report
        state.last_report_id = None
        state.governance_score = None
        state.drift_detected = False
        state.drift = None
    audit.record(
        session,
        actor=caller.actor,
        action="governance.history_deleted",
        tenant_id=tenant.id,
        target=report_id if selective else f"tenant:{tenant.id}",
        details={"selective": selective, "deleted": len(deleted), "report_ids": sorted(deleted)},
    )
    return len(deleted), report_id if selective else None
