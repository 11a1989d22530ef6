"""SQL for governance state. A tenant's statements start from its id; the scheduler's two
cross-tenant statements (which states are missing, which are due) return tenant ids only.

The lease is one conditional UPDATE: it sets the owner only where no unexpired lease exists and
the scan is due, and the row count says whether this caller won. On PostgreSQL the UPDATE takes
the row lock and re-reads the row after a concurrent writer commits (READ COMMITTED), so of two
workers racing for a tenant exactly one matches; SQLite serialises writers (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tutela.server.governance.models import GovernanceState
from tutela.server.tenants.models import Tenant


def _due(now: dt.datetime) -> ColumnElement[bool]:
    state = GovernanceState
    return and_(
        state.enabled.is_(True),
        or_(state.next_scan_at.is_(None), state.next_scan_at <= now),
        or_(state.retry_at.is_(None), state.retry_at <= now),
        or_(state.lease_expires_at.is_(None), state.lease_expires_at <= now),
    )


class GovernanceRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def get(self, *, for_update: bool = False) -> GovernanceState | None:
        return self.session.get(GovernanceState, self.tenant_id, with_for_update=for_update)

    def get_or_default(self, now: dt.datetime) -> GovernanceState:
        """The tenant's state, or (not stored) the one it would get: for readers."""
        return self.get() or self.default(now)

    def default(self, now: dt.datetime) -> GovernanceState:
        """A new tenant's state: follow the plan's cadence, first scan due at once."""
        now = now.replace(microsecond=0)  # schedules count whole seconds, like report ids
        return GovernanceState(
            tenant_id=self.tenant_id,
            enabled=True,
            failures=0,
            next_scan_at=now,
            drift_detected=False,
            updated_at=now,
        )

    def ensure(self, now: dt.datetime) -> GovernanceState:
        """The tenant's state, stored with the defaults when missing."""
        state = self.get()
        if state is None:
            state = self.default(now)
            try:
                with self.session.begin_nested():
                    self.session.add(state)
            except IntegrityError:  # created meanwhile by another process
                state = self.get()
                assert state is not None
        return state

    def claim(self, owner: str, now: dt.datetime, until: dt.datetime) -> bool:
        """Take the lease of a due scan; False when not due or someone else holds it."""
        result = self.session.execute(
            update(GovernanceState)
            .where(GovernanceState.tenant_id == self.tenant_id, _due(now))
            .values(lease_owner=owner, lease_expires_at=until)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def tenants_without_state(session: Session) -> list[str]:
    statement = (
        select(Tenant.id)
        .outerjoin(GovernanceState, GovernanceState.tenant_id == Tenant.id)
        .where(GovernanceState.tenant_id.is_(None))
    )
    return list(session.scalars(statement))


def due_states(session: Session, now: dt.datetime) -> list[tuple[str, str | None, str]]:
    """(tenant id, chosen cadence, plan) of active tenants whose scan is due and free."""
    statement = (
        select(GovernanceState.tenant_id, GovernanceState.cadence, Tenant.plan)
        .join(Tenant, Tenant.id == GovernanceState.tenant_id)
        .where(_due(now), Tenant.status == "active")
        .order_by(GovernanceState.next_scan_at.asc().nulls_first(), GovernanceState.tenant_id)
    )
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]
