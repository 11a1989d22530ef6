"""SQL for API keys; a key is always looked up inside its owner's tenant."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from tutela.server.keys.models import ApiKey
from tutela.server.pagination import paginate
from tutela.server.tenants.models import User


def _in_tenant(tenant_id: str | None) -> ColumnElement[bool]:
    return ApiKey.tenant_id.is_(None) if tenant_id is None else ApiKey.tenant_id == tenant_id


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

    def page_in_tenant(
        self, tenant_id: str, *, cursor: str | None, limit: int
    ) -> tuple[list[ApiKey], str | None]:
        return paginate(
            self.session,
            select(ApiKey).where(_in_tenant(tenant_id)),
            created_at=ApiKey.created_at,
            row_id=ApiKey.id,
            cursor=cursor,
            limit=limit,
        )

    def owners(self, tenant_id: str, user_ids: set[str]) -> dict[str, tuple[str, str]]:
        """Each key owner's (email, role), for keys listed tenant-wide."""
        rows = self.session.execute(
            select(User.id, User.email, User.role).where(
                User.tenant_id == tenant_id, User.id.in_(user_ids)
            )
        )
        return {user_id: (email, role) for user_id, email, role in rows}

    def lock_owner(self, user: User) -> None:
        """Hold the owner's row until commit: two key creations for one user queue here.

        PostgreSQL takes a row lock; SQLite ignores FOR UPDATE, but its writers already run one
        at a time (every write transaction begins IMMEDIATE).
        """
        self.session.execute(select(User.id).where(User.id == user.id).with_for_update())

    def count_live(self, user_id: str, now: dt.datetime) -> int:
        statement = (
            select(func.count())
            .select_from(ApiKey)
            .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None), ApiKey.expires_at > now)
        )
        return self.session.scalar(statement) or 0
