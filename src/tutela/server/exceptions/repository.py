"""SQL for risk exceptions: every statement is one tenant's, but the expiry-notice sweep's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from tutela.server.exceptions.models import APPROVED, PENDING, RiskException
from tutela.server.pagination import paginate


class ExceptionRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def _tenant(self) -> Select[RiskException]:
        return select(RiskException).where(RiskException.tenant_id == self.tenant_id)

    def add(self, row: RiskException) -> RiskException:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        self.session.flush()
        return row

    def count_open(self, day: dt.date) -> int:
        """The tenant's pending and approved exceptions that have not expired by ``day``."""
        statement = (
            select(func.count())
            .select_from(RiskException)
            .where(
                RiskException.tenant_id == self.tenant_id,
                RiskException.status.in_((PENDING, APPROVED)),
                RiskException.expires > day,
            )
        )
        return int(self.session.scalar(statement) or 0)

    def get(self, exception_id: str, *, for_update: bool = False) -> RiskException | None:
        statement = self._tenant().where(RiskException.id == exception_id)
        if for_update:
            statement = statement.with_for_update()
        return self.session.scalars(statement).first()

    def page(
        self,
        *,
        status: str | None,
        check_id: str | None,
        expiring_before: dt.date | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[RiskException], str | None]:
        statement = self._tenant()
        if status is not None:
            statement = statement.where(RiskException.status == status)
        if check_id is not None:
            statement = statement.where(RiskException.check_id == check_id)
        if expiring_before is not None:
            statement = statement.where(RiskException.expires < expiring_before)
        return paginate(
            self.session,
            statement,
            created_at=RiskException.created_at,
            row_id=RiskException.id,
            cursor=cursor,
            limit=limit,
        )

    def active_on(self, day: dt.date) -> list[RiskException]:
        """The approved exceptions that scans dated ``day`` apply, oldest first."""
        statement = self._tenant().where(
            RiskException.status == APPROVED, RiskException.expires > day
        )
        return list(self.session.scalars(statement.order_by(RiskException.created_at)))


def expiring_unnoticed(session: Session, after: dt.date, until: dt.date) -> list[RiskException]:
    """Every tenant's approved exceptions that expire after ``after`` and on or before
    ``until`` and whose expiry notice was never sent."""
    statement = select(RiskException).where(
        RiskException.status == APPROVED,
        RiskException.expires > after,
        RiskException.expires <= until,
        RiskException.expiry_notice_sent_at.is_(None),
    )
    return list(session.scalars(statement.order_by(RiskException.tenant_id, RiskException.id)))


def claim_notice(session: Session, exception_id: str, now: dt.datetime) -> bool:
    """Mark the notice sent unless someone already did: one conditional UPDATE, so two
    processes never both mail it."""
    result = session.execute(
        update(RiskException)
        .where(
            RiskException.id == exception_id,
            RiskException.status == APPROVED,
            RiskException.expiry_notice_sent_at.is_(None),
        )
        .values(expiry_notice_sent_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def release_notice(session: Session, exception_id: str, claimed_at: dt.datetime) -> None:
    """Undo a claim whose email was not sent, so the next sweep tries again."""
    session.execute(
        update(RiskException)
        .where(
            RiskException.id == exception_id,
            RiskException.expiry_notice_sent_at == claimed_at,
        )
        .values(expiry_notice_sent_at=None)
    )
