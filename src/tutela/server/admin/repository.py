"""Cross-tenant reads for platform operators only (the admin API)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.server.audit.models import AuditEvent
from tutela.server.pagination import paginate
from tutela.server.tenants.models import Tenant


class AdminRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page_tenants(
        self, *, status: str | None, cursor: str | None, limit: int
    ) -> tuple[list[Tenant], str | None]:
        statement = select(Tenant)
        if status:
            statement = statement.where(Tenant.status == status)
        return paginate(
            self.session,
            statement,
            created_at=Tenant.created_at,
            row_id=Tenant.id,
            cursor=cursor,
            limit=limit,
        )

    def page_audit(
        self, *, tenant_id: str | None, action: str | None, cursor: str | None, limit: int
    ) -> tuple[list[AuditEvent], str | None]:
        statement = select(AuditEvent)
        if tenant_id:
            statement = statement.where(AuditEvent.tenant_id == tenant_id)
        if action:
            statement = statement.where(AuditEvent.action == action)
        return paginate(
            self.session,
            statement,
            created_at=AuditEvent.created_at,
            row_id=AuditEvent.id,
            cursor=cursor,
            limit=limit,
        )
