"""SQL for platform analytics: counts written per report, and cross-tenant aggregates.

Writing starts from the report's tenant, like every repository. Reading is for platform
operators only (the admin API, ``admin:read``) and spans tenants, but every statement returns
counts, plans, timestamps and ids, never a tenant's content. Everything is counted by the
database (GROUP BY), on SQLite and PostgreSQL alike; only the grouped rows come back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Row,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    union,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from tutela.server.analytics.counts import ReportCounts
from tutela.server.analytics.models import ReportCheckCount, ReportFrameworkCount
from tutela.server.governance.models import GovernanceState
from tutela.server.keys.models import ApiKey
from tutela.server.reports.models import Report
from tutela.server.tenants.models import ScanUsage, Tenant

# What a governance failure's text starts with when the cause was not one of ours
# (governance.scans._describe): the only part of the text analytics reads.
_INTERNAL_ERROR = "Internal error (%"


class ReportCountsRepository:
    """The counts of one tenant's reports, written beside each report."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def add(self, report_row_id: str, created_at: dt.datetime, counts: ReportCounts) -> None:
        common = {
            "report_row_id": report_row_id,
            "tenant_id": self.tenant_id,
            "created_at": created_at,
        }
        frameworks = [
            {**common, "framework": framework, "severity": severity, "findings": findings}
            for (framework, severity), findings in sorted(counts.by_framework.items())
        ]
        checks = [
            {
                **common,
                "check_id": check_id,
                "findings": findings,
                "resources": counts.check_resources[check_id],
            }
            for check_id, findings in sorted(counts.check_findings.items())
        ]
        if frameworks:
            self.session.execute(insert(ReportFrameworkCount), frameworks)
        if checks:
            self.session.execute(insert(ReportCheckCount), checks)


class PlatformAnalytics:
    """Aggregates over every tenant, each within ``[start, end)`` where it takes a range."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _day(self, column: Any) -> ColumnElement[Any]:
        """The UTC calendar day of a timestamp column, as the dialect can group on it."""
        if self.session.get_bind().dialect.name == "postgresql":
            return cast(func.timezone("UTC", column), Date)
        return func.date(column)  # SQLite keeps UTC text: "YYYY-MM-DD HH:MM:SS"

    # Scans

    def scans_per_day(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[Row[Any, str, str | None, int]]:
        """(day, type, plan, scans), by day then type then plan."""
        day = self._day(Report.created_at).label("day")
        statement = (
            select(day, Report.type, Report.plan, func.count().label("scans"))
            .where(Report.created_at >= start, Report.created_at < end)
            .group_by(day, Report.type, Report.plan)
            .order_by(day, Report.type, Report.plan.nulls_last())
        )
        return self.session.execute(statement).all()

    def scans_by(
        self, column: InstrumentedAttribute[Any], start: dt.datetime, end: dt.datetime
    ) -> Sequence[Row[Any, int]]:
        """(value, scans) for one column of the reports (``type`` or ``plan``)."""
        statement = (
            select(column, func.count().label("scans"))
            .where(Report.created_at >= start, Report.created_at < end)
            .group_by(column)
            .order_by(column.nulls_last())
        )
        return self.session.execute(statement).all()

    # Findings

    def severity_totals(
        self, start: dt.datetime, end: dt.datetime
    ) -> Row[int, int, int, int, int, int]:
        """Reports, reports with analytics counts, and failed findings per severity."""
        statement = select(
            func.count().label("reports"),
            func.count(Report.plan).label("reports_counted"),
            func.coalesce(func.sum(Report.critical_count), 0).label("critical"),
            func.coalesce(func.sum(Report.high_count), 0).label("high"),
            func.coalesce(func.sum(Report.medium_count), 0).label("medium"),
            func.coalesce(func.sum(Report.low_count), 0).label("low"),
        ).where(Report.created_at >= start, Report.created_at < end)
        return self.session.execute(statement).one()

    def findings_by_framework(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[Row[str, str, int]]:
        """(framework, severity, findings), by framework then severity."""
        counts = ReportFrameworkCount
        statement = (
            select(counts.framework, counts.severity, func.sum(counts.findings).label("findings"))
            .where(counts.created_at >= start, counts.created_at < end)
            .group_by(counts.framework, counts.severity)
            .order_by(counts.framework, counts.severity)
        )
        return self.session.execute(statement).all()

    # Checks

    def most_failed_checks(
        self, start: dt.datetime, end: dt.datetime, limit: int
    ) -> Sequence[Row[str, int, int, int]]:
        """(check_id, findings, resources, reports), most findings first."""
        counts = ReportCheckCount
        findings = func.sum(counts.findings).label("findings")
        statement = (
            select(
                counts.check_id,
                findings,
                func.sum(counts.resources).label("resources"),
                func.count().label("reports"),
            )
            .where(counts.created_at >= start, counts.created_at < end)
            .group_by(counts.check_id)
            .order_by(findings.desc(), counts.check_id)
            .limit(limit)
        )
        return self.session.execute(statement).all()

    def failing_check_count(self, start: dt.datetime, end: dt.datetime) -> int:
        counts = ReportCheckCount
        # Grouped rather than count(DISTINCT): both backends then walk the grouped index.
        failing = (
            select(counts.check_id)
            .where(counts.created_at >= start, counts.created_at < end)
            .group_by(counts.check_id)
            .subquery()
        )
        return int(self.session.scalar(select(func.count()).select_from(failing)) or 0)

    # Tenants

    def tenants_by_plan_and_status(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[Row[str, str, int, int]]:
        """(plan, status, tenants, active): active stored a report or used a key in the range."""
        active = union(
            select(Report.tenant_id.label("tenant_id")).where(
                Report.created_at >= start, Report.created_at < end
            ),
            select(ApiKey.tenant_id.label("tenant_id")).where(
                ApiKey.tenant_id.is_not(None),
                ApiKey.last_used_at >= start,
                ApiKey.last_used_at < end,
            ),
        ).subquery("active")
        statement = (
            select(
                Tenant.plan,
                Tenant.status,
                func.count().label("tenants"),
                func.count(active.c.tenant_id).label("active"),
            )
            .outerjoin(active, active.c.tenant_id == Tenant.id)
            .group_by(Tenant.plan, Tenant.status)
            .order_by(Tenant.plan, Tenant.status)
        )
        return self.session.execute(statement).all()

    # Quota

    def quota_use(
        self, period: str, quotas: dict[str, int], threshold_percent: int, limit: int
    ) -> tuple[Sequence[Row[str, str, int, int]], int]:
        """(tenant_id, plan, used, quota) of tenants at ``threshold_percent`` or more of their
        plan's quota in ``period`` (YYYY-MM), fullest first; and how many there are."""
        if not quotas:
            return [], 0
        quota = case(quotas, value=Tenant.plan).label("quota")
        near = and_(
            ScanUsage.period == period,
            Tenant.plan.in_(list(quotas)),
            ScanUsage.count * 100 >= quota * threshold_percent,
        )
        base = select(Tenant.id.label("tenant_id"), Tenant.plan, ScanUsage.count.label("used"))
        base = base.join(Tenant, Tenant.id == ScanUsage.tenant_id).where(near)
        fullest = (ScanUsage.count * literal(1.0) / quota).desc()
        rows = self.session.execute(
            base.add_columns(quota).order_by(fullest, Tenant.id).limit(limit)
        ).all()
        total = self.session.scalar(select(func.count()).select_from(base.subquery()))
        return rows, int(total or 0)

    # Governance

    def failing_governance(
        self, start: dt.datetime, end: dt.datetime, min_failures: int, limit: int
    ) -> tuple[
        Sequence[Row[str, str, bool, int, dt.datetime | None, dt.datetime | None, str]], int
    ]:
        """Tenants whose governance scans are failing, most failures first; and how many."""
        state = GovernanceState
        cause = case((state.last_error.like(_INTERNAL_ERROR), "internal"), else_="scan")
        failing = and_(
            state.failures >= min_failures,
            state.last_error_at >= start,
            state.last_error_at < end,
        )
        statement = (
            select(
                state.tenant_id,
                Tenant.plan,
                state.enabled,
                state.failures,
                state.last_error_at,
                state.last_scan_at,
                cause.label("error_class"),
            )
            .join(Tenant, Tenant.id == state.tenant_id)
            .where(failing)
            .order_by(state.failures.desc(), state.last_error_at.desc(), state.tenant_id)
            .limit(limit)
        )
        total = self.session.scalar(select(func.count()).select_from(state).where(failing))
        return self.session.execute(statement).all(), int(total or 0)

    # Keys

    def keys_expiring(
        self, now: dt.datetime, until: dt.datetime, limit: int
    ) -> tuple[Sequence[Row[str, str, str | None, str, dt.datetime, dt.datetime | None]], int]:
        """Unrevoked keys expiring in ``(now, until]``, soonest first; and how many."""
        expiring = and_(
            ApiKey.revoked_at.is_(None), ApiKey.expires_at > now, ApiKey.expires_at <= until
        )
        statement = (
            select(
                ApiKey.id,
                ApiKey.prefix,
                ApiKey.tenant_id,
                ApiKey.user_id,
                ApiKey.expires_at,
                ApiKey.last_used_at,
            )
            .where(expiring)
            .order_by(ApiKey.expires_at, ApiKey.id)
            .limit(limit)
        )
        total = self.session.scalar(select(func.count()).select_from(ApiKey).where(expiring))
        return self.session.execute(statement).all(), int(total or 0)
