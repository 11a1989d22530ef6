"""Read and bump the auth epoch, so that every API process drops its key cache at once.

A revocation, a role change, a suspension or a plan change bumps the epoch in the same
transaction as the change itself. Each request reads it (one primary-key lookup) before it
trusts its process's key cache: when the epoch moved, what was cached is not used. So the next
request in any process sharing the database sees the change, not only the process that made it.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tutela.server.auth.models import EPOCH_ROW, AuthEpoch


def current(session: Session) -> int:
    value = session.scalar(select(AuthEpoch.value).where(AuthEpoch.id == EPOCH_ROW))
    return 0 if value is None else value


def bump(session: Session) -> None:
    """Move the epoch on; commits (or rolls back) with the change that called it."""
    moved = session.execute(
        update(AuthEpoch).where(AuthEpoch.id == EPOCH_ROW).values(value=AuthEpoch.value + 1)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]  # a store created without migrations
        session.add(AuthEpoch(id=EPOCH_ROW, value=1))
        session.flush()
