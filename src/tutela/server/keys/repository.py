"""SQL for API keys; a key is always looked up inside its owner's tenant."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tutela.server.keys.models import ApiKey
from tutela.server.pagination import paginate


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _owned(self, tenant_id: str | None, user_id: str) -> Select[ApiKey]:
        tenant_clause = (
            ApiKey.tenant_id.is_(None) if tenant_id is None else (ApiKey.tenant_id == tenant_id)
        )
        return select(ApiKey).where(tenant_clause, ApiKey.user_id == user_id)

    def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        self.session.flush()
        return key

    def get_owned(self, tenant_id: str | None, user_id: str, key_id: str) -> ApiKey | None:
        return self.session.scalars(
            self._owned(tenant_id, user_id).where(ApiKey.id == key_id)
        ).first()

    def page_owned(
        self, tenant_id: str | None, user_id: str, *, cursor: str | None, limit: int
    ) -> tuple[list[ApiKey], str | None]:
        return paginate(
            self.session,
            self._owned(tenant_id, user_id),
            created_at=ApiKey.created_at,
            row_id=ApiKey.id,
            cursor=cursor,
            limit=limit,
        )

    def list_in_tenant(self, tenant_id: str | None) -> list[ApiKey]:
        clause = ApiKey.tenant_id.is_(None) if tenant_id is None else ApiKey.tenant_id == tenant_id
        return list(self.session.scalars(select(ApiKey).where(clause).order_by(ApiKey.created_at)))

    def get_in_tenant(self, tenant_id: str | None, key_id: str) -> ApiKey | None:
        clause = ApiKey.tenant_id.is_(None) if tenant_id is None else ApiKey.tenant_id == tenant_id
        return self.session.scalars(select(ApiKey).where(clause, ApiKey.id == key_id)).first()
