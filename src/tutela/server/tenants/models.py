"""Tenants, their linked subscriptions, users and monthly scan usage."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutela.server.db import Base, IdMixin, utcnow


def refusal(status: str) -> str:
    """Why a tenant that is not active is refused (keys, sign-in, sessions)."""
    if status in ("deleting", "purging"):  # tenants_lifecycle: the grace period, the purge
        return "Tenant is being deleted"
    return "Tenant is suspended"


class Tenant(IdMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|suspended|deleting
    owner_email: Mapped[str] = mapped_column(String(320))
    is_demo: Mapped[bool] = mapped_column(default=False)
    azure_credentials: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    azure_credentials_set_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Encryption of stored documents: pmk (the platform key) or cmk (the tenant's Key Vault
    # secret or key, named below; the version in use is recorded at each check).
    encryption_mode: Mapped[str] = mapped_column(String(8), default="pmk", server_default="pmk")
    cmk_vault_url: Mapped[str | None] = mapped_column(String(300), default=None)
    cmk_secret_name: Mapped[str | None] = mapped_column(String(127), default=None)
    cmk_key_name: Mapped[str | None] = mapped_column(String(127), default=None)
    cmk_key_version: Mapped[str | None] = mapped_column(String(64), default=None)
    cmk_verified_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    cmk_blocked: Mapped[bool] = mapped_column(default=False, server_default=false())
    cmk_last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Deletion (tenants.lifecycle): requested when and by whom, purged for good after
    # delete_after; a cancellation restores status_before_deletion.
    deletion_requested_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    deletion_requested_by: Mapped[str | None] = mapped_column(String(400), default=None)
    delete_after: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    status_before_deletion: Mapped[str | None] = mapped_column(String(16), default=None)

    subscriptions: Mapped[list[TenantSubscription]] = relationship(
        order_by="TenantSubscription.position", cascade="all, delete-orphan", lazy="selectin"
    )


class TenantSubscription(Base):
    __tablename__ = "tenant_subscriptions"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    subscription_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class User(IdMixin, Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    # NULL for platform operators, who belong to no tenant.
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Sign-in lock-out: consecutive failed password sign-ins, and until when they are refused.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)


class ScanUsage(Base):
    """Manual scans counted per tenant and calendar month (UTC), for the plan quota."""

    __tablename__ = "scan_usage"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    count: Mapped[int] = mapped_column(Integer, default=0)
