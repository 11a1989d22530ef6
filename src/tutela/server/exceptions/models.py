"""Risk exceptions: a tenant's acceptance of a check's failure on a resource, until a date.

A request (``pending``) is active only once a second person approves it, and only while the
scan date is before ``expires``. Revoking keeps the row (``revoked``) for the audit trail.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base, utcnow

ID_PREFIX = "exc_"
PENDING, APPROVED, REVOKED = "pending", "approved", "revoked"
STATUSES = (PENDING, APPROVED, REVOKED)
MAX_RESOURCE_CHARS = 2048
MAX_REASON_CHARS = 2000
MAX_TICKET_CHARS = 200


def new_exception_id() -> str:
    """``exc_`` and 32 hex digits: told apart from other ids at a glance."""
    return ID_PREFIX + uuid.uuid4().hex


class RiskException(Base):
    __tablename__ = "risk_exceptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_exception_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(MAX_RESOURCE_CHARS))  # an ARM id or a glob
    reason: Mapped[str] = mapped_column(String(MAX_REASON_CHARS))
    ticket: Mapped[str | None] = mapped_column(String(MAX_TICKET_CHARS), default=None)
    expires: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # Who requested it, or last changed what it accepts: never its approver (four eyes). Plain
    # columns, no foreign key: the trail outlives a removed user.
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_by_user_id: Mapped[str] = mapped_column(String(36))
    approved_by: Mapped[str | None] = mapped_column(String(320), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(320), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    expiry_notice_sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def active_on(self, day: dt.date) -> bool:
        """Whether scans dated ``day`` accept the check's failures on the resource."""
        return self.status == APPROVED and day < self.expires
