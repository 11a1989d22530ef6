"""SQL of a tenant's export and purge: every statement names the tenant it is about.

The export reads every table a tenant owns, and the purge destroys the data keys before the
tenant row goes (its foreign keys cascade to the rest). Both span the domains, which is why
their SQL lives here rather than in each domain's repository: none of those reads or writes
serves any other use case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from tutela.server.audit.models import AuditEvent
from tutela.server.encryption.models import EncryptionEvent
from tutela.server.exceptions.models import RiskException
from tutela.server.governance.models import GovernanceState
from tutela.server.house_policy.models import TenantHousePolicy
from tutela.server.idempotency.models import IdempotencyRecord
from tutela.server.keys.models import ApiKey
from tutela.server.reports.models import Report, Snapshot
from tutela.server.sso.models import TenantSso
from tutela.server.tenants.models import Tenant, User

DELETING, PURGING = "deleting", "purging"
# What a destroyed wrapped data key is overwritten with: no key unwraps it to anything.
DESTROYED = b""
_STREAM_ROWS = 500  # audit events read from the database at a time


class TenantDataRepository:
    """Everything one tenant owns, read for its archive or destroyed for its purge."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def locked_tenant(self) -> Tenant | None:
        """The tenant row, locked until the transaction ends (PostgreSQL)."""
        return self.session.get(Tenant, self.tenant_id, with_for_update=True)

    def users(self) -> Sequence[User]:
        return self.session.scalars(
            select(User).where(User.tenant_id == self.tenant_id).order_by(User.created_at, User.id)
        ).all()

    def api_keys(self) -> Sequence[ApiKey]:
        return self.session.scalars(
            select(ApiKey)
            .where(ApiKey.tenant_id == self.tenant_id)
            .order_by(ApiKey.created_at, ApiKey.id)
        ).all()

    def exceptions(self) -> Sequence[RiskException]:
        return self.session.scalars(
            select(RiskException)
            .where(RiskException.tenant_id == self.tenant_id)
            .order_by(RiskException.created_at, RiskException.id)
        ).all()

    def house_policy(self) -> TenantHousePolicy | None:
        return self.session.get(TenantHousePolicy, self.tenant_id)

    def sso(self) -> TenantSso | None:
        return self.session.get(TenantSso, self.tenant_id)

    def governance_state(self) -> GovernanceState | None:
        return self.session.get(GovernanceState, self.tenant_id)

    def encryption_events(self) -> Sequence[EncryptionEvent]:
        return self.session.scalars(
            select(EncryptionEvent)
            .where(EncryptionEvent.tenant_id == self.tenant_id)
            .order_by(EncryptionEvent.changed_at, EncryptionEvent.id)
        ).all()

    def report_ids(self) -> Sequence[str]:
        """Every report's row id, oldest first: the rows themselves are read one at a time."""
        return self.session.scalars(
            select(Report.id)
            .where(Report.tenant_id == self.tenant_id)
            .order_by(Report.created_at, Report.id)
        ).all()

    def report(self, row_id: str) -> Report | None:
        return self.session.scalars(
            select(Report).where(Report.tenant_id == self.tenant_id, Report.id == row_id)
        ).first()

    def snapshot_ids(self) -> Sequence[str]:
        return self.session.scalars(
            select(Snapshot.subscription_id)
            .where(Snapshot.tenant_id == self.tenant_id)
            .order_by(Snapshot.subscription_id)
        ).all()

    def snapshot(self, subscription_id: str) -> Snapshot | None:
        return self.session.get(Snapshot, (self.tenant_id, subscription_id))

    def audit_events(self) -> Iterator[AuditEvent]:
        """The tenant's audit entries, oldest first, streamed from the database."""
        rows = self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.tenant_id == self.tenant_id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
            .execution_options(yield_per=_STREAM_ROWS)
        )
        yield from rows

    def destroy_data_keys(self) -> tuple[int, int]:
        """Overwrite the wrapped data key of every report and snapshot, the sealed Azure
        credentials and SSO client secret, and delete the kept Idempotency-Key answers (each
        sealed under its own data key): (reports, snapshots) whose key was destroyed."""
        reports = self.session.execute(
            update(Report).where(Report.tenant_id == self.tenant_id).values(wrapped_key=DESTROYED)
        )
        snapshots = self.session.execute(
            update(Snapshot)
            .where(Snapshot.tenant_id == self.tenant_id)
            .values(wrapped_key=DESTROYED)
        )
        self.session.execute(
            update(TenantSso)
            .where(TenantSso.tenant_id == self.tenant_id)
            .values(client_secret=DESTROYED)
        )
        self.session.execute(
            update(Tenant).where(Tenant.id == self.tenant_id).values(azure_credentials=None)
        )
        self.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.owner == self.tenant_id)
        )
        return reports.rowcount, snapshots.rowcount  # type: ignore[attr-defined]

    def delete_reports(self, batch: int) -> int:
        """Delete up to ``batch`` of the tenant's reports; how many were deleted."""
        ids = select(Report.id).where(Report.tenant_id == self.tenant_id).limit(batch)
        doomed = self.session.scalars(ids).all()
        if not doomed:
            return 0
        self.session.execute(
            delete(Report).where(Report.tenant_id == self.tenant_id, Report.id.in_(doomed))
        )
        return len(doomed)

    def delete_tenant(self) -> None:
        """Delete the tenant row: every table with its foreign key cascades (not the audit log)."""
        self.session.execute(delete(Tenant).where(Tenant.id == self.tenant_id))


def due_for_purge(session: Session, now: dt.datetime) -> Sequence[str]:
    """Tenants whose grace period is over, and purges that were interrupted."""
    return session.scalars(
        select(Tenant.id)
        .where(
            or_(
                (Tenant.status == DELETING) & (Tenant.delete_after <= now),
                Tenant.status == PURGING,
            )
        )
        .order_by(Tenant.delete_after, Tenant.id)
    ).all()
