"""Analytics use cases: record a stored report's counts; answer the operators' questions.

Ranges are whole UTC days, both ends included: by default the 30 days up to today; at most
366 days. Every answer is counted by the database (``analytics.repository``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.scanner.outputs.report_json import ReportDocument
from tutela.server.analytics import schemas
from tutela.server.analytics.counts import count_failures
from tutela.server.analytics.repository import PlatformAnalytics, ReportCountsRepository
from tutela.server.errors import InvalidInput
from tutela.server.reports.models import Report

DEFAULT_DAYS = 30
MAX_DAYS = 366
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True, slots=True)
class DayRange:
    """Whole UTC days, ``since`` to ``until`` included."""

    since: dt.date
    until: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.since, dt.time(), dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the range."""
        return dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), dt.UTC)

    def out(self) -> schemas.DateRange:
        return schemas.DateRange(since=self.since, until=self.until)


def day_range(since: dt.date | None, until: dt.date | None, now: dt.datetime) -> DayRange:
    """The range asked for, defaults filled in; 422 if it is reversed or too long."""
    today = now.astimezone(dt.UTC).date()
    if until is None:  # up to today (or the day asked for, if that is later)
        until = today if since is None else max(today, since)
    if until >= dt.date.max:  # (the range ends the day after)
        raise InvalidInput(("query", "until"), "until must be before 9999-12-31")
    if since is None:
        earliest = dt.date.min + dt.timedelta(days=DEFAULT_DAYS - 1)
        since = until - dt.timedelta(days=DEFAULT_DAYS - 1) if until >= earliest else dt.date.min
    if until < since:
        raise InvalidInput(("query", "until"), "until must not be before since")
    if (until - since).days + 1 > MAX_DAYS:
        raise InvalidInput(("query", "since"), f"the range may cover at most {MAX_DAYS} days")
    return DayRange(since, until)


def record_report_counts(
    session: Session, report: Report, document: ReportDocument | dict[str, Any]
) -> None:
    """Write a report's counts beside it, in the caller's transaction."""
    ReportCountsRepository(session, report.tenant_id).add(
        report.id, report.created_at, count_failures(document)
    )


def scans(session: Session, days: DayRange) -> schemas.ScansOut:
    analytics = PlatformAnalytics(session)
    by_type = dict(analytics.scans_by(Report.type, days.start, days.end))
    return schemas.ScansOut(
        range=days.out(),
        total=sum(by_type.values()),
        by_type={kind: by_type.get(kind, 0) for kind in ("manual", "governance")},
        by_plan=[
            schemas.PlanScans(plan=plan, scans=count)
            for plan, count in analytics.scans_by(Report.plan, days.start, days.end)
        ],
        per_day=[
            schemas.ScanDay(day=_date(day), type=kind, plan=plan, scans=count)
            for day, kind, plan, count in analytics.scans_per_day(days.start, days.end)
        ],
    )


def findings(session: Session, days: DayRange) -> schemas.FindingsOut:
    analytics = PlatformAnalytics(session)
    totals = analytics.severity_totals(days.start, days.end)
    frameworks: dict[str, dict[str, int]] = {}
    for framework, severity, count in analytics.findings_by_framework(days.start, days.end):
        frameworks.setdefault(framework, dict.fromkeys(SEVERITIES, 0))[severity] = int(count)
    return schemas.FindingsOut(
        range=days.out(),
        reports=totals.reports,
        reports_counted=totals.reports_counted,
        by_severity=schemas.SeverityCounts(**{s: int(getattr(totals, s)) for s in SEVERITIES}),
        by_framework=[
            schemas.FrameworkFindings(framework=framework, total=sum(counts.values()), **counts)
            for framework, counts in frameworks.items()
        ],
    )


def checks(session: Session, days: DayRange, limit: int) -> schemas.ChecksOut:
    analytics = PlatformAnalytics(session)
    rows = analytics.most_failed_checks(days.start, days.end, limit)
    return schemas.ChecksOut(
        range=days.out(),
        failing_checks=analytics.failing_check_count(days.start, days.end),
        items=[
            schemas.CheckFailures(
                check_id=row.check_id,
                findings=int(row.findings),
                resources=int(row.resources),
                reports=row.reports,
            )
            for row in rows
        ],
    )


def tenants(session: Session, days: DayRange) -> schemas.TenantsOut:
    rows = PlatformAnalytics(session).tenants_by_plan_and_status(days.start, days.end)
    by_plan: dict[str, schemas.PlanTenants] = {}
    by_status: dict[str, int] = {"active": 0, "suspended": 0, "deleting": 0}
    for plan, status, count, active in rows:
        entry = by_plan.setdefault(plan, schemas.PlanTenants(plan=plan, tenants=0, active=0))
        entry.tenants += count
        entry.active += active
        by_status[status] = by_status.get(status, 0) + count
    return schemas.TenantsOut(
        range=days.out(),
        total=sum(by_status.values()),
        active=sum(entry.active for entry in by_plan.values()),
        by_plan=list(by_plan.values()),
        by_status=by_status,
    )


def quota(
    session: Session,
    catalog: Catalog,
    *,
    month: str,
    threshold_percent: int,
    limit: int,
) -> schemas.QuotaOut:
    """Tenants at ``threshold_percent`` or more of their plan's manual scans in ``month``."""
    year, number = (int(part) for part in month.split("-"))
    if year < 1:
        raise InvalidInput(("query", "month"), "month must be YYYY-MM from 0001-01")
    first = dt.date(year, number, 1)
    last = first.replace(day=calendar.monthrange(year, number)[1])
    quotas = {p.id: p.scan_quota for p in catalog.plans if p.scan_quota is not None}
    rows, total = PlatformAnalytics(session).quota_use(month, quotas, threshold_percent, limit)
    return schemas.QuotaOut(
        month=month,
        range=schemas.DateRange(since=first, until=last),
        threshold_percent=threshold_percent,
        total=total,
        items=[
            schemas.QuotaUse(
                tenant_id=row.tenant_id,
                plan=row.plan,
                used=row.used,
                quota=row.quota,
                percent=row.used * 100 // row.quota if row.quota else 100,
            )
            for row in rows
        ],
    )


def governance(
    session: Session, days: DayRange, *, min_failures: int, limit: int
) -> schemas.GovernanceOut:
    rows, total = PlatformAnalytics(session).failing_governance(
        days.start, days.end, min_failures, limit
    )
    return schemas.GovernanceOut(
        range=days.out(),
        min_failures=min_failures,
        total=total,
        items=[schemas.GovernanceFailing.model_validate(row._mapping) for row in rows],
    )


def keys(session: Session, now: dt.datetime, *, within_days: int, limit: int) -> schemas.KeysOut:
    rows, total = PlatformAnalytics(session).keys_expiring(
        now, now + dt.timedelta(days=within_days), limit
    )
    return schemas.KeysOut(
        as_of=now,
        within_days=within_days,
        total=total,
        items=[
            schemas.ExpiringKey(
                key_id=row.id,
                prefix=row.prefix,
                tenant_id=row.tenant_id,
                user_id=row.user_id,
                expires_at=row.expires_at,
                last_used_at=row.last_used_at,
            )
            for row in rows
        ],
    )


def _date(value: dt.date | str) -> dt.date:
    """A grouped day: PostgreSQL answers a date, SQLite its ISO text."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
