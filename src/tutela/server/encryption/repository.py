"""SQL for a tenant's encryption history and its pending switch back to the platform key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.server.encryption.models import EncryptionEvent, PendingDowngrade


class EncryptionRepository:
    """Every statement is about one tenant: the one it was made for."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def history(self, limit: int) -> list[EncryptionEvent]:
        """The latest ``limit`` events, newest first."""
        statement = (
            select(EncryptionEvent)
            .where(EncryptionEvent.tenant_id == self.tenant_id)
            .order_by(EncryptionEvent.changed_at.desc(), EncryptionEvent.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def add_event(self, event: EncryptionEvent) -> None:
        event.tenant_id = self.tenant_id
        self.session.add(event)
        self.session.flush()

    def pending(self) -> PendingDowngrade | None:
        return self.session.get(PendingDowngrade, self.tenant_id)

    def replace_pending(self, pending: PendingDowngrade) -> None:
        """Store ``pending`` as the tenant's one pending switch, replacing any earlier one."""
        pending.tenant_id = self.tenant_id
        self.session.merge(pending)
        self.session.flush()

    def remove_pending(self) -> None:
        existing = self.pending()
        if existing is not None:
            self.session.delete(existing)
            self.session.flush()
