"""SQL for tenants and their users; every statement names the tenant it is about."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.server.auth.scopes import Role
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


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, tenant_id: str, user_id: str) -> User | None:
        return self.session.scalars(
            select(User).where(User.tenant_id == tenant_id, User.id == user_id)
        ).first()

    def find_by_email(self, tenant_id: str, email: str) -> User | None:
        return self.session.scalars(
            select(User).where(User.tenant_id == tenant_id, User.email == email)
        ).first()

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
