"""SQL for idempotency records: each change in its own short transaction, by the holder only.

A holder is named by its ``attempt`` token; completing, releasing or renewing a record whose
token has changed (a retry took it over after the lease lapsed) changes nothing.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tutela.server.db import transaction
from tutela.server.idempotency.models import DONE, RUNNING, IdempotencyRecord


class IdempotencyRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def transaction(self) -> AbstractContextManager[Session]:
        return transaction(self.sessions)

    def insert(self, record: IdempotencyRecord) -> bool:
        """Add a new record; False when (owner, key) exists (another request got there first)."""
        try:
            with transaction(self.sessions) as session:
                session.add(record)
                session.flush()
        except IntegrityError:
            return False
        return True

    def locked(self, session: Session, owner: str, key: str) -> IdempotencyRecord | None:
        """The record of (owner, key), locked for this transaction (SQLite: BEGIN IMMEDIATE)."""
        return session.scalars(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
            .with_for_update()
        ).first()

    def complete(
        self,
        record_id: str,
        attempt: str,
        *,
        status_code: int,
        headers: dict[str, str],
        key_mode: str,
        key_ref: str | None,
        wrapped_key: bytes,
        body: bytes,
    ) -> bool:
        with transaction(self.sessions) as session:
            result = session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.id == record_id, IdempotencyRecord.attempt == attempt)
                .values(
                    state=DONE,
                    lease_expires_at=None,
                    status_code=status_code,
                    headers=headers,
                    key_mode=key_mode,
                    key_ref=key_ref,
                    wrapped_key=wrapped_key,
                    body=body,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0))

    def release(self, record_id: str, attempt: str) -> None:
        """Forget a record whose request failed, so that a retry runs it again."""
        with transaction(self.sessions) as session:
            session.execute(
                delete(IdempotencyRecord)
                .where(
                    IdempotencyRecord.id == record_id,
                    IdempotencyRecord.attempt == attempt,
                    IdempotencyRecord.state == RUNNING,
                )
                .execution_options(synchronize_session=False)
            )

    def renew(self, record_id: str, attempt: str, until: dt.datetime) -> bool:
        with transaction(self.sessions) as session:
            result = session.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.id == record_id,
                    IdempotencyRecord.attempt == attempt,
                    IdempotencyRecord.state == RUNNING,
                )
                .values(lease_expires_at=until)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0))

    def purge(self, before: dt.datetime) -> int:
        """Delete the records created before ``before`` (past the retention window)."""
        with transaction(self.sessions) as session:
            result = session.execute(
                delete(IdempotencyRecord)
                .where(IdempotencyRecord.created_at < before)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)
