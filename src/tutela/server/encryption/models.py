"""A tenant's encryption history and its pending switch back to the platform key.

The tenant's current CMK settings are columns of ``tenants`` (``encryption_mode``, ``cmk_*``);
each stored document records the exact key that wrapped its data key in ``key_ref``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
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


class PlatformKey(Base):
    """One version of the platform key that wraps documents' data keys under ``pmk``.

    ``original`` is the key derived from the root key file (``crypto.load_platform_key``) and
    has no stored material; every later version is 32 random bytes sealed under the root key's
    ring subkey. Exactly one version is ``current`` (new documents are sealed with it); a
    rotation turns the previous one ``retiring`` until no row names it, then ``retired``, its
    stored material erased. A row sealed under ``original`` has ``key_ref`` None; under any
    other version, ``pmk:<id>``.
    """

    __tablename__ = "platform_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # current | retiring | retired
    sealed_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    replaced_at: Mapped[dt.datetime | None] = mapped_column(default=None)  # when it stopped sealing
    retired_at: Mapped[dt.datetime | None] = mapped_column(default=None)
