"""SQL for tenants and their users; every statement names the tenant it is about."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tutela.server.auth.scopes import Role
from tutela.server.pagination import paginate
from tutela.server.tenants.models import ScanUsage, Tenant, TenantSubscription, User


class TenantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, tenant_id: str) -> Tenant | None:
        return self.session.get(Tenant, tenant_id)

    def get_demo(self) -> Tenant | None:
        return self.session.scalars(select(Tenant).where(Tenant.is_demo.is_(True))).first()

    def add(self, tenant: Tenant) -> Tenant:
        self.session.add(tenant)
        self.session.flush()
        return tenant

    def replace_subscriptions(self, tenant: Tenant, subscription_ids: list[str]) -> None:
        tenant.subscriptions.clear()
        self.session.flush()
        tenant.subscriptions.extend(
            TenantSubscription(tenant_id=tenant.id, subscription_id=sub, position=i)
            for i, sub in enumerate(subscription_ids)
        )
        self.session.flush()

    def scan_count(self, tenant_id: str, period: str) -> int:
        usage = self.session.get(ScanUsage, (tenant_id, period))
        return usage.count if usage else 0

    def all(self) -> list[Tenant]:
        """Every tenant: for platform jobs (retention), never for a tenant's request."""
        return list(self.session.scalars(select(Tenant).order_by(Tenant.created_at)))

    def consume_scan(self, tenant_id: str, period: str, limit: int | None) -> bool:
        """Count one scan against the period's quota; False (nothing counted) when it is used up.

        One conditional UPDATE decides, so concurrent scans can never overshoot the quota: on
        PostgreSQL the row lock orders them, on SQLite the write transaction does.
        """
        dialect = self.session.get_bind().dialect.name
        insert_usage = postgresql_insert if dialect == "postgresql" else sqlite_insert
        self.session.execute(
            insert_usage(ScanUsage)
            .values(tenant_id=tenant_id, period=period, count=0)
            .on_conflict_do_nothing()
        )
        statement = (
            update(ScanUsage)
            .where(ScanUsage.tenant_id == tenant_id, ScanUsage.period == period)
            .values(count=ScanUsage.count + 1)
        )
        if limit is not None:
            statement = statement.where(ScanUsage.count < limit)
        result = self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, tenant_id: str, user_id: str) -> User | None:
        return self.session.scalars(
            select(User).where(User.tenant_id == tenant_id, User.id == user_id)
        ).first()

    def find_by_email(self, tenant_id: str, email: str) -> User | None:
        """The user whose email is ``email`` but for case: sign-in matches emails so, and one
        tenant never holds two people whose emails differ only in case."""
        return self.session.scalars(
            select(User).where(
                User.tenant_id == tenant_id, func.lower(User.email) == email.strip().lower()
            )
        ).first()

    def page(
        self, tenant_id: str, *, cursor: str | None, limit: int
    ) -> tuple[list[User], str | None]:
        return paginate(
            self.session,
            select(User).where(User.tenant_id == tenant_id),
            created_at=User.created_at,
            row_id=User.id,
            cursor=cursor,
            limit=limit,
        )

    def list(self, tenant_id: str) -> list[User]:
        return list(
            self.session.scalars(
                select(User).where(User.tenant_id == tenant_id).order_by(User.created_at, User.id)
            )
        )

    def find_operator(self, email: str) -> User | None:
        return self.session.scalars(
            select(User).where(
                User.tenant_id.is_(None), User.role == Role.OPERATOR, User.email == email
            )
        ).first()

    def get_operator(self, user_id: str) -> User | None:
        return self.session.scalars(
            select(User).where(User.tenant_id.is_(None), User.id == user_id)
        ).first()

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def remove(self, user: User) -> None:
        """Delete the user; their keys, sessions and one-time links go with them (ON DELETE
        CASCADE)."""
        self.session.delete(user)
        self.session.flush()
