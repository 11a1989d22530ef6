"""One row per (owner, Idempotency-Key): who holds it, for which request, and its answer."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base, IdMixin, utcnow

RUNNING = "running"
DONE = "done"


class IdempotencyRecord(IdMixin, Base):
    """A keyed POST: running under a lease, then done with its sealed answer.

    The unique (owner, key) constraint is what makes the first writer win across API processes.
    The owner is the tenant, or ``user:<id>`` for callers without one (platform operators).
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("owner", "key"),
        Index("ix_idempotency_records_created_at", "created_at"),
    )

    owner: Mapped[str] = mapped_column(String(48))
    key: Mapped[str] = mapped_column(String(255))
    # sha256 of method, path, query and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Only the same API key gets the replay (or the same portal session: ``session:<id>``).
    api_key_id: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)  # the caller's scopes at the first request
    state: Mapped[str] = mapped_column(String(16), default=RUNNING)  # running | done
    attempt: Mapped[str] = mapped_column(String(36))  # the token of the request holding it
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The answer, once done: status and chosen headers in clear, the body sealed (tenant data).
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    key_mode: Mapped[str | None] = mapped_column(String(16), default=None)
    key_ref: Mapped[str | None] = mapped_column(String(500), default=None)  # as reports' key_ref
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
