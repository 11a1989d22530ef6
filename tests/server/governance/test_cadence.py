"""Cadence arithmetic: fixed UTC intervals, slots kept, missed slots run once, bounded retries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tutela.server.governance.cadence import (
    allowed_cadences,
    effective_cadence,
    next_slot,
    retry_delay,
)

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("scheduled", "cadence", "expected"),
    [
        ("2026-05-12T06:00", "biweekly", "2026-05-26T06:00"),  # the seed's example
        ("2026-01-25T06:00", "biweekly", "2026-02-08T06:00"),  # across a month end
        ("2026-12-25T23:30", "biweekly", "2027-01-08T23:30"),  # across a year end
        ("2028-02-20T06:00", "biweekly", "2028-03-05T06:00"),  # over a leap day
        ("2027-02-20T06:00", "biweekly", "2027-03-06T06:00"),  # no leap day
        ("2026-01-31T06:00", "daily", "2026-02-01T06:00"),
        ("2028-02-28T06:00", "daily", "2028-02-29T06:00"),
        ("2026-12-31T23:59", "daily", "2027-01-01T23:59"),
    ],
)
def test_the_next_slot_is_one_interval_after_the_scheduled_one(
    scheduled: str, cadence: str, expected: str
) -> None:
    now = at(scheduled) + dt.timedelta(minutes=3)  # the scan ran a little after its slot
    assert next_slot(at(scheduled), cadence, now) == at(expected)  # type: ignore[arg-type]


def test_utc_intervals_ignore_daylight_saving_time() -> None:
    # 28 March 2027 01:00 UTC: London moves from GMT to BST. A daily slot stays at 06:00 UTC
    # (07:00 London time after the change), and is exactly 24 hours later.
    london = ZoneInfo("Europe/London")
    scheduled = dt.datetime(2027, 3, 27, 6, 0, tzinfo=london)  # 06:00 GMT = 06:00 UTC
    following = next_slot(scheduled, "daily", scheduled + dt.timedelta(seconds=1))
    assert following == at("2027-03-28T06:00")
    assert following is not None
    assert following.tzinfo == UTC
    assert following - scheduled == dt.timedelta(hours=24)
    assert following.astimezone(london).hour == 7


def test_missed_slots_run_once_then_the_grid_resumes() -> None:
    scheduled = at("2026-11-02T06:00")
    # Down for 40 days: five biweekly slots... only the next future slot is returned.
    now = at("2026-12-12T09:00")
    assert next_slot(scheduled, "biweekly", now) == at("2026-12-14T06:00")
    # Exactly on a slot: that slot is past (it is being run), the next one follows.
    assert next_slot(scheduled, "biweekly", at("2026-11-16T06:00")) == at("2026-11-30T06:00")


def test_a_future_slot_is_kept_and_manual_has_none() -> None:
    scheduled = at("2026-12-01T06:00")
    assert next_slot(scheduled, "daily", at("2026-11-23T00:00")) == scheduled
    assert next_slot(scheduled, "manual", at("2026-11-23T00:00")) is None


def test_a_tenant_never_gets_more_than_its_plan_allows() -> None:
    assert effective_cadence(None, "biweekly") == "biweekly"
    assert effective_cadence("daily", "biweekly") == "biweekly"  # plan was downgraded
    assert effective_cadence("manual", "daily") == "manual"
    assert effective_cadence("biweekly", "daily") == "biweekly"
    assert allowed_cadences("manual") == ["manual"]
    assert allowed_cadences("biweekly") == ["manual", "biweekly"]
    assert allowed_cadences("daily") == ["manual", "biweekly", "daily"]


def test_retries_double_and_never_wait_longer_than_one_interval() -> None:
    first = dt.timedelta(minutes=5)
    waits = [retry_delay(n, first, "daily") for n in range(1, 11)]
    assert waits[:4] == [first, first * 2, first * 4, first * 8]
    assert waits[-1] == dt.timedelta(days=1)
    assert retry_delay(10_000, first, "biweekly") == dt.timedelta(days=14)  # no overflow
