"""SQL for house policies: every statement is one tenant's."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tutela.server.db import utcnow
from tutela.server.house_policy.models import TenantHousePolicy


class HousePolicyRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def get(self) -> TenantHousePolicy | None:
        return self.session.get(TenantHousePolicy, self.tenant_id)

    def save(self, settings: dict[str, Any]) -> TenantHousePolicy:
        """Store the tenant's settings, replacing those stored before."""
        row = self.get()
        if row is None:
            row = TenantHousePolicy(tenant_id=self.tenant_id, settings=settings)
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                return row
            except IntegrityError:  # stored meanwhile by another request: this one replaces it
                row = self.get()
                assert row is not None
        row.settings, row.updated_at = settings, utcnow()
        self.session.flush()
        return row
