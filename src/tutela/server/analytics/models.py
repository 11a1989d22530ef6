"""Per-report failure counts kept in clear for platform analytics: ids and numbers, nothing else.

A report's body is sealed, so SQL cannot see its findings. When a report is stored, the counts
operators aggregate across tenants are written beside it in the same transaction: failed
findings per (framework, severity) and per check. No resource, label or narrative is kept.
``created_at`` is the report's, copied so that a date range reads one table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base


class ReportFrameworkCount(Base):
    """Failed findings of one report for one framework at one severity."""

    __tablename__ = "report_framework_counts"
    __table_args__ = (
        # Both cover the query (the counts are read from the index alone): by date first for a
        # short range (PostgreSQL), by group first for a long one (SQLite skips through it).
        Index(
            "ix_report_framework_counts_created", "created_at", "framework", "severity", "findings"
        ),
        Index(
            "ix_report_framework_counts_grouped", "framework", "severity", "created_at", "findings"
        ),
    )

    report_row_id: Mapped[str] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    framework: Mapped[str] = mapped_column(String(32), primary_key=True)
    severity: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    findings: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]


class ReportCheckCount(Base):
    """Failures of one check in one report: its findings and the resources that failed it."""

    __tablename__ = "report_check_counts"
    __table_args__ = (  # (as for ReportFrameworkCount)
        Index("ix_report_check_counts_created", "created_at", "check_id", "findings", "resources"),
        Index("ix_report_check_counts_grouped", "check_id", "created_at", "findings", "resources"),
    )

    report_row_id: Mapped[str] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    check_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    findings: Mapped[int] = mapped_column(Integer)
    resources: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
