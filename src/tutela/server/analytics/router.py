"""HTTP for platform analytics, under /admin/analytics (``admin:read``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from tutela.server.analytics import schemas, service
from tutela.server.analytics.service import DayRange
from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import utcnow
from tutela.server.openapi import error_responses
from tutela.server.pagination import LimitParam
from tutela.server.runtime import RuntimeDep, SessionDep

router = APIRouter(prefix="/analytics", tags=["analytics"])

AdminReader = Annotated[Caller, Depends(Authorize(Scope.ADMIN_READ))]
_RANGE_ERRORS = error_responses(422)


def _iso_day(value: object) -> object:
    """Only ``YYYY-MM-DD``: Pydantic alone also takes a number of seconds ("0") as a date."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise PydanticCustomError("date_from_iso", "Input should be a date as YYYY-MM-DD")
    return value


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IsoDay = Annotated[dt.date, BeforeValidator(_iso_day)]


def _day_range(
    since: Annotated[
        IsoDay | None,
        Query(description="First UTC day (YYYY-MM-DD), included. Default: 29 days before `until`."),
    ] = None,
    until: Annotated[
        IsoDay | None,
        Query(description="Last UTC day (YYYY-MM-DD), included. Default: today."),
    ] = None,
) -> DayRange:
    return service.day_range(since, until, utcnow())


Days = Annotated[DayRange, Depends(_day_range)]


@router.get(
    "/scans",
    summary="Scans stored per day, per plan and per type",
    description="Reports stored (manual and governance scans) in the range, on every tenant.",
    responses=_RANGE_ERRORS,
)
def scans(session: SessionDep, caller: AdminReader, days: Days) -> schemas.ScansOut:
    return service.scans(session, days)


@router.get(
    "/findings",
    summary="Failed findings by severity and by framework",
    description="Severity totals count every report in the range; the per-framework counts "
    "only the reports stored with analytics counts (`reports_counted`).",
    responses=_RANGE_ERRORS,
)
def findings(session: SessionDep, caller: AdminReader, days: Days) -> schemas.FindingsOut:
    return service.findings(session, days)


@router.get(
    "/checks",
    summary="The most-failed checks across the platform",
    responses=_RANGE_ERRORS,
)
def checks(
    session: SessionDep,
    caller: AdminReader,
    days: Days,
    limit: Annotated[int, Query(ge=1, le=100, description="How many checks (1-100).")] = 10,
) -> schemas.ChecksOut:
    return service.checks(session, days, limit)


@router.get(
    "/tenants",
    summary="Tenants: total, active in the range, by plan and by status",
    description="Active: stored a report in the range, or a key of theirs was last used in "
    "it (a key's last use only, written at most once a minute).",
    responses=_RANGE_ERRORS,
)
def tenants(session: SessionDep, caller: AdminReader, days: Days) -> schemas.TenantsOut:
    return service.tenants(session, days)


@router.get(
    "/quota",
    summary="Tenants near their plan's monthly scan quota",
    responses=_RANGE_ERRORS,
)
def quota(
    session: SessionDep,
    runtime: RuntimeDep,
    caller: AdminReader,
    month: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
            description="Quota period YYYY-MM (UTC). Default: this month.",
        ),
    ] = None,
    threshold: Annotated[
        int, Query(ge=1, le=100, description="Minimum use, in percent of the quota.")
    ] = 80,
    limit: LimitParam = 50,
) -> schemas.QuotaOut:
    return service.quota(
        session,
        runtime.catalog,
        month=month or utcnow().strftime("%Y-%m"),
        threshold_percent=threshold,
        limit=limit,
    )


@router.get(
    "/governance",
    summary="Tenants whose governance scans are failing",
    description="Tenants with at least `min_failures` failed scans since their last successful "
    "one, the latest failure in the range. No error text: only its class.",
    responses=_RANGE_ERRORS,
)
def governance(
    session: SessionDep,
    caller: AdminReader,
    days: Days,
    min_failures: Annotated[int, Query(ge=1, le=1000, description="Minimum failures.")] = 1,
    limit: LimitParam = 50,
) -> schemas.GovernanceOut:
    return service.governance(session, days, min_failures=min_failures, limit=limit)


@router.get(
    "/keys",
    summary="API keys expiring soon",
    description="Unrevoked keys that expire within `within_days` from now. Ids and display "
    "prefixes only, never a secret.",
    responses=_RANGE_ERRORS,
)
def keys(
    session: SessionDep,
    caller: AdminReader,
    within_days: Annotated[int, Query(ge=1, le=366, description="Days ahead (1-366).")] = 14,
    limit: LimitParam = 50,
) -> schemas.KeysOut:
    return service.keys(session, utcnow(), within_days=within_days, limit=limit)
