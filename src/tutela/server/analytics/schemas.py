"""Analytics answers: counts, plans, timestamps and ids only, never a tenant's content."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from tutela.server.schemas import OutputModel, Timestamp


class DateRange(OutputModel):
    since: dt.date = Field(description="First day counted (UTC), inclusive.")
    until: dt.date = Field(description="Last day counted (UTC), inclusive.")


class SeverityCounts(OutputModel):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0


class ScanDay(OutputModel):
    day: dt.date = Field(description="The UTC day the reports were stored.")
    type: str = Field(description="`manual` or `governance`.")
    plan: str | None = Field(
        description="The tenant's plan when the report was stored; null for reports stored "
        "before plans were recorded."
    )
    scans: int = Field(description="Reports stored that day of that type under that plan.")


class PlanScans(OutputModel):
    plan: str | None = Field(description="Plan id; null: reports older than plan recording.")
    scans: int


class ScansOut(OutputModel):
    range: DateRange
    total: int = Field(description="Reports stored in the range (manual and governance scans).")
    by_type: dict[str, int] = Field(description="Reports per type: `manual`, `governance`.")
    by_plan: list[PlanScans]
    per_day: list[ScanDay] = Field(
        description="One entry per day, type and plan that stored at least one report."
    )


class FrameworkFindings(SeverityCounts):
    framework: str = Field(description="Framework id, e.g. `eu_ai_act`.")
    total: int = Field(description="Failed findings against the framework's controls.")


class FindingsOut(OutputModel):
    range: DateRange
    reports: int = Field(description="Reports stored in the range.")
    reports_counted: int = Field(
        description="Of those, the reports stored with per-framework and per-check counts; "
        "older reports count in `by_severity` only."
    )
    by_severity: SeverityCounts = Field(
        description="Failed findings per severity over every report in the range."
    )
    by_framework: list[FrameworkFindings] = Field(
        description="Failed findings per framework and severity (counted reports only)."
    )


class CheckFailures(OutputModel):
    check_id: str
    findings: int = Field(description="Failed findings of the check (one per failing control).")
    resources: int = Field(description="Resources failing it, summed over the reports.")
    reports: int = Field(description="Reports in which the check failed.")


class ChecksOut(OutputModel):
    range: DateRange
    failing_checks: int = Field(description="Distinct checks that failed in the range.")
    items: list[CheckFailures] = Field(description="The most-failed checks, most findings first.")


class PlanTenants(OutputModel):
    plan: str
    tenants: int
    active: int


class TenantsOut(OutputModel):
    range: DateRange
    total: int = Field(description="Tenants on the platform now.")
    active: int = Field(
        description="Tenants that stored a report, or whose key was last used, in the range."
    )
    by_plan: list[PlanTenants]
    by_status: dict[str, int] = Field(
        description="Tenants per status: `active`, `suspended`, `deleting` (in their grace "
        "period; `purging` while a purge runs)."
    )


class QuotaUse(OutputModel):
    tenant_id: str
    plan: str
    used: int = Field(description="Manual scans counted this month.")
    quota: int = Field(description="The plan's manual scans per month.")
    percent: int = Field(description="`used` as a whole percentage of `quota` (rounded down).")


class QuotaOut(OutputModel):
    month: str = Field(description="The quota period, YYYY-MM (UTC).")
    range: DateRange = Field(description="The month's first and last day.")
    threshold_percent: int
    total: int = Field(description="Tenants at or above the threshold; `items`: up to `limit`.")
    items: list[QuotaUse] = Field(description="Fullest first; plans without a quota never appear.")


class GovernanceFailing(OutputModel):
    tenant_id: str
    plan: str
    enabled: bool = Field(description="Whether the tenant's governance schedule is on.")
    failures: int = Field(description="Failed scans since the last successful one.")
    last_error_at: Timestamp
    last_scan_at: Timestamp | None = Field(description="The last successful scan.")
    error_class: Literal["internal", "scan"] = Field(
        description="`internal`: an unexpected error (see the server log); `scan`: the scan "
        "itself refused (credentials, Key Vault, quota of resources…)."
    )


class GovernanceOut(OutputModel):
    range: DateRange = Field(description="Failures whose latest error fell in this range.")
    min_failures: int
    total: int = Field(description="Tenants failing; `items` holds up to `limit`.")
    items: list[GovernanceFailing] = Field(description="Most failures first.")


class ExpiringKey(OutputModel):
    key_id: str
    prefix: str = Field(description="The key's display prefix (never the secret).")
    tenant_id: str | None = Field(description="Null for an operator's key.")
    user_id: str
    expires_at: Timestamp
    last_used_at: Timestamp | None


class KeysOut(OutputModel):
    as_of: Timestamp
    within_days: int
    total: int = Field(description="Unrevoked keys expiring in the window; `items` up to `limit`.")
    items: list[ExpiringKey] = Field(description="Soonest expiry first.")
