"""Per-tenant governance state: the schedule, the lease of the scan in progress, the last result.

The history itself is not stored here: it is the tenant's reports of type ``governance``, so
deleting one removes it from the history and retention ages it out like any report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base, utcnow


class GovernanceState(Base):
    __tablename__ = "governance_states"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    # The tenant's choice; None follows the plan's most frequent cadence.
    cadence: Mapped[str | None] = mapped_column(String(16), default=None)
    # The schedule's next slot (None: at the next look); a failed scan is retried at retry_at,
    # before the slot moves on, so retries never shift the schedule.
    next_scan_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    retry_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_scan_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_report_id: Mapped[str | None] = mapped_column(String(32), default=None)
    governance_score: Mapped[int | None] = mapped_column(Integer, default=None)
    drift_detected: Mapped[bool] = mapped_column(default=False)
    drift: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The scan in progress: whoever holds an unexpired lease runs it; nobody else may.
    lease_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Failures since the last successful scan, and the newest one's cause.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
