"""The reports table: listing columns in clear, the full report sealed under its own data key."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base, IdMixin, utcnow


class Report(IdMixin, Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "report_id"),
        Index("ix_reports_tenant_created", "tenant_id", "created_at"),
        # Platform analytics: every tenant's reports in a date range, read from the index alone.
        Index(
            "ix_reports_analytics",
            "created_at",
            "type",
            "plan",
            "tenant_id",
            "critical_count",
            "high_count",
            "medium_count",
            "low_count",
        ),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    report_id: Mapped[str] = mapped_column(String(32))  # COMP-YYYYMMDD-HHmmss[-N] (reports.ids)
    type: Mapped[str] = mapped_column(String(16))  # manual | governance
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    frameworks: Mapped[list[str]] = mapped_column(JSON)
    aggregate_score: Mapped[int | None] = mapped_column(Integer, default=None)
    critical_count: Mapped[int] = mapped_column(Integer, default=0)
    high_count: Mapped[int] = mapped_column(Integer, default=0)
    medium_count: Mapped[int] = mapped_column(Integer, default=0)
    low_count: Mapped[int] = mapped_column(Integer, default=0)
    resources_scanned: Mapped[int] = mapped_column(Integer, default=0)
    checks_unknown: Mapped[int] = mapped_column(Integer, default=0)
    # The tenant's plan when the report was stored; NULL for reports stored before it was kept.
    plan: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Envelope encryption: the body's data key, wrapped by the key of `key_mode` (pmk today).
    key_mode: Mapped[str] = mapped_column(String(16))
    # The exact key that wrapped the data key: a versioned Key Vault secret or key id under
    # cmk; under pmk, None for the first platform key, else the platform key's id.
    key_ref: Mapped[str | None] = mapped_column(String(500), default=None)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[bytes] = mapped_column(LargeBinary)

    def listing(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "type": self.type,
            "label": self.label,
            "frameworks": list(self.frameworks),
            "aggregate_score": self.aggregate_score,
            "critical_count": self.critical_count,
            "high_count": self.high_count,
            "medium_count": self.medium_count,
            "low_count": self.low_count,
        }


class Snapshot(Base):
    """An uploaded Resource Graph export standing in for one linked subscription, sealed."""

    __tablename__ = "snapshots"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    subscription_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resources: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    key_mode: Mapped[str] = mapped_column(String(16))
    # The exact key that wrapped the data key: a versioned Key Vault secret or key id under
    # cmk; under pmk, None for the first platform key, else the platform key's id.
    key_ref: Mapped[str | None] = mapped_column(String(500), default=None)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[bytes] = mapped_column(LargeBinary)
