"""Governance cadences and the arithmetic of the schedule, all in UTC.

A cadence is an interval: ``daily`` every 24 hours, ``biweekly`` every 14 days (two weeks, not
twice a month, as in the seed's example: a scan on 12 May, the next on 26 May). ``manual`` has
no automatic scans. Intervals are fixed durations in UTC, so month ends, leap days and daylight
saving time change nothing: 14 days after 25 January 06:00 is 8 February 06:00.

A schedule keeps its slot: the next scan is the previous *scheduled* time plus the interval, not
the time the scan finished, so scans do not creep later. A platform that was down for several
slots runs the missed scan once, then returns to the grid: ``next_slot`` skips every slot
already past.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal, cast

Cadence = Literal["manual", "biweekly", "daily"]

CADENCES: Final[tuple[Cadence, ...]] = ("manual", "biweekly", "daily")  # least frequent first
INTERVALS: Final[dict[Cadence, dt.timedelta]] = {
    "daily": dt.timedelta(days=1),
    "biweekly": dt.timedelta(days=14),
}


def is_cadence(value: str) -> bool:
    return value in CADENCES


def frequency(cadence: str) -> int:
    """Rank from least frequent (manual, 0) to most frequent (daily)."""
    return CADENCES.index(cast(Cadence, cadence))


def effective_cadence(chosen: str | None, plan_cadence: str) -> Cadence:
    """The cadence a tenant gets: its choice, never more frequent than its plan allows."""
    if chosen is None or frequency(chosen) > frequency(plan_cadence):
        return cast(Cadence, plan_cadence)
    return cast(Cadence, chosen)


def allowed_cadences(plan_cadence: str) -> list[Cadence]:
    """The cadences a tenant on this plan may choose, least frequent first."""
    return [c for c in CADENCES if frequency(c) <= frequency(plan_cadence)]


def next_slot(scheduled: dt.datetime, cadence: Cadence, now: dt.datetime) -> dt.datetime | None:
    """The first slot of the cadence's grid through ``scheduled`` that is after ``now``.

    None for ``manual``. Both times must be timezone-aware; the answer is in UTC.
    """
    if cadence == "manual":
        return None
    interval = INTERVALS[cadence]
    scheduled, now = scheduled.astimezone(dt.UTC), now.astimezone(dt.UTC)
    if scheduled > now:
        return scheduled
    missed = (now - scheduled) // interval  # whole intervals already past
    return scheduled + (missed + 1) * interval


def retry_delay(failures: int, first: dt.timedelta, cadence: Cadence) -> dt.timedelta:
    """Wait before retry number ``failures`` (1, 2, …): doubles each time, at most one interval."""
    delay = first * (1 << min(max(failures - 1, 0), 20))  # bounded: no overflow after years
    cap = INTERVALS.get(cadence, dt.timedelta(days=1))
    return min(delay, cap)
