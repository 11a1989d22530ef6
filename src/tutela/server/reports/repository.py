"""SQL for reports and snapshots; every statement starts from one tenant."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tutela.server.pagination import paginate
from tutela.server.reports.models import Report, Snapshot


class ReportRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def add(self, report: Report) -> Report:
        report.tenant_id = self.tenant_id
        self.session.add(report)
        self.session.flush()
        return report

    def get(self, report_id: str, *, since: dt.datetime | None = None) -> Report | None:
        statement = select(Report).where(
            Report.tenant_id == self.tenant_id, Report.report_id == report_id
        )
        if since is not None:
            statement = statement.where(Report.created_at >= since)
        return self.session.scalars(statement).one_or_none()

    def taken_ids(self, prefix: str) -> set[str]:
        """Report ids of this tenant starting with ``prefix`` (e.g. one minute's)."""
        statement = select(Report.report_id).where(
            Report.tenant_id == self.tenant_id, Report.report_id.startswith(prefix)
        )
        return set(self.session.scalars(statement))

    def page(
        self,
        *,
        since: dt.datetime,
        report_type: str | None,
        cursor: str | None,
        limit: int,
        label: str | None = None,
    ) -> tuple[list[Report], str | None]:
        statement = select(Report).where(
            Report.tenant_id == self.tenant_id, Report.created_at >= since
        )
        if report_type is not None:
            statement = statement.where(Report.type == report_type)
        if label is not None:  # (autoescape: a % or _ typed is that character, not a wildcard)
            statement = statement.where(Report.label.icontains(label, autoescape=True))
        return paginate(
            self.session,
            statement,
            created_at=Report.created_at,
            row_id=Report.id,
            cursor=cursor,
            limit=limit,
        )

    def latest(self, *, report_type: str, since: dt.datetime) -> Report | None:
        statement = (
            select(Report)
            .where(
                Report.tenant_id == self.tenant_id,
                Report.type == report_type,
                Report.created_at >= since,
            )
            .order_by(Report.created_at.desc(), Report.id.desc())
            .limit(1)
        )
        return self.session.scalars(statement).first()

    def delete(self, report: Report) -> None:
        self.session.delete(report)

    def delete_of_type(self, report_type: str) -> list[str]:
        """Delete every report of a type; the report ids deleted."""
        ids = list(
            self.session.scalars(
                select(Report.report_id).where(
                    Report.tenant_id == self.tenant_id, Report.type == report_type
                )
            )
        )
        self.session.execute(
            delete(Report).where(Report.tenant_id == self.tenant_id, Report.type == report_type)
        )
        return ids

    def delete_older_than(self, cutoff: dt.datetime) -> int:
        result = self.session.execute(
            delete(Report).where(Report.tenant_id == self.tenant_id, Report.created_at < cutoff)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def count(self) -> int:
        statement = select(func.count()).where(Report.tenant_id == self.tenant_id)
        return int(self.session.scalar(statement) or 0)


class SnapshotRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def get(self, subscription_id: str) -> Snapshot | None:
        return self.session.get(Snapshot, (self.tenant_id, subscription_id))

    def put(self, snapshot: Snapshot) -> Snapshot:
        snapshot.tenant_id = self.tenant_id
        existing = self.get(snapshot.subscription_id)
        if existing is not None:
            self.session.delete(existing)
            self.session.flush()
        self.session.add(snapshot)
        self.session.flush()
        return snapshot
