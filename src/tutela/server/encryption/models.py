"""A tenant's encryption history and its pending switch back to the platform key.

The tenant's current CMK settings are columns of ``tenants`` (``encryption_mode``, ``cmk_*``);
each stored document records the exact key that wrapped its data key in ``key_ref``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base, IdMixin, utcnow


class EncryptionEvent(IdMixin, Base):
    """One change of a tenant's encryption: CMK configured, a key rotation seen, back to PMK."""

    __tablename__ = "encryption_events"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(8))  # pmk | cmk: the mode after the change
    previous_mode: Mapped[str] = mapped_column(String(8))
    # cmk_configure | cmk_rotate | pmk_confirm (the seed's reasons; ours may be added)
    reason: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(320))  # an email, a key prefix or "health check"
    vault_uri: Mapped[str | None] = mapped_column(String(300), default=None)
    key_name: Mapped[str | None] = mapped_column(String(127), default=None)
    key_version: Mapped[str | None] = mapped_column(String(64), default=None)


class PendingDowngrade(Base):
    """The owner's one-time token confirming the switch back to the platform key (one a tenant)."""

    __tablename__ = "encryption_downgrades"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the emailed token
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
