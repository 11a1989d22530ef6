"""The auth epoch (one row whose counter moves whenever what any key may do changes), people's
portal sessions, and the one-time links of invitations and password resets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base, IdMixin, utcnow

EPOCH_ROW = 1  # the table holds this one row


class AuthEpoch(Base):
    __tablename__ = "auth_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class WebSession(IdMixin, Base):
    """A person signed in to the portal: the cookie holds a random token, the table its hash.

    It ends at sign-out, at ``expires_at`` (absolute), or after ``TUTELA_SESSION_IDLE_MINUTES``
    without a request. A password reset ends the person's other sessions and a removal deletes
    them; a role change needs nothing: each request reads the person's current role.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # password | invitation | reset | sso
    source: Mapped[str | None] = mapped_column(String(64), default=None)  # the client's address
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class OneTimeLink(IdMixin, Base):
    """An emailed link's token (stored as its SHA-256): an invitation or a password reset."""

    __tablename__ = "one_time_links"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # invitation | reset
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
