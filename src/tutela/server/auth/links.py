"""One-time links mailed to a person: an invitation to set a first password, or a password
reset. The token travels only in the link; the table keeps its SHA-256. A link works once,
until it expires, and a newer link of the same purpose replaces an older one."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tutela.server.auth.models import OneTimeLink
from tutela.server.db import utcnow
from tutela.server.errors import InvalidInput
from tutela.server.tenants.models import User

INVITATION: Final = "invitation"
RESET: Final = "reset"
PAGES: Final = {INVITATION: "/portal/accept-invitation", RESET: "/portal/reset-password"}


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: dt.datetime

    def url(self, public_url: str, purpose: str) -> str:
        return f"{public_url}{PAGES[purpose]}?{urlencode({'token': self.token})}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def issue(
    session: Session, user: User, purpose: str, *, lifetime: dt.timedelta, created_by: str
) -> Issued:
    session.execute(
        delete(OneTimeLink).where(
            OneTimeLink.user_id == user.id,
            OneTimeLink.purpose == purpose,
            OneTimeLink.used_at.is_(None),
        )
    )
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime
    session.add(
        OneTimeLink(
            token_hash=_hash(token),
            purpose=purpose,
            user_id=user.id,
            created_by=created_by,
            expires_at=expires_at,
        )
    )
    return Issued(token, expires_at)


def redeem(session: Session, token: str, purpose: str) -> User:
    """The person a link was for, the link used up; 422 for an unknown, used or expired one
    (one answer for all three: the token is all the caller has)."""
    link = session.scalars(
        select(OneTimeLink)
        .where(OneTimeLink.token_hash == _hash(token), OneTimeLink.purpose == purpose)
        .with_for_update()
    ).one_or_none()
    now = utcnow()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise InvalidInput(
            ("body", "token"),
            "This link is not valid: it was used already, has expired, or was replaced by a "
            "newer one. Ask for a new one.",
        )
    link.used_at = now
    user = session.get(User, link.user_id)
    assert user is not None  # links go with their user (ON DELETE CASCADE)
    return user
