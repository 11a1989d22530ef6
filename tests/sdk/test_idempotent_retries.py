"""A retried POST whose first attempt is still running waits for it: one scan, one report.

Scripted: 409 with Retry-After (the server's answer to a repeat of a running keyed POST) is
waited out without using up ``retries``. Real: ``Session(timeout=small, retries=2)`` against the
app behind uvicorn, whose live scan (Azure through a recorded transport answering slowly) takes
longer than the timeout: the first attempt times out, the retry waits, and the call returns the
first attempt's report; one report stored and one quota unit used.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.platform import Platform
from tests.scanner.sources.replay import ReplayTransport
from tests.sdk.scripted import Reply, serving
from tests.server.scans.estates import listed, live_tenant, scan_count
from tests.server.scans.test_quota import serving as uvicorn_serving
from tutela import Session
from tutela.sdk import APITimeoutError, ConflictError

REPORT: dict[str, Any] = {
    "scan_ts": "2026-11-23T09:30:05Z",
    "report_id": "COMP-20261123-093005",
    "frameworks": ["iso42001"],
    "critical_count": 0,
    "high_count": 0,
    "medium_count": 0,
    "low_count": 0,
    "findings": [],
}
RUNNING = Reply(409, {"detail": "still running"}, {"Retry-After": "0"})


def test_409_with_retry_after_is_waited_out_without_using_up_the_retries() -> None:
    with serving(RUNNING, RUNNING, RUNNING, Reply(200, REPORT), retries=1) as (fake, session):
        assert session.scans.run(["iso42001"]).report_id == "COMP-20261123-093005"
    assert fake.attempts == 4
    assert len({r.headers["idempotency-key"] for r in fake.received}) == 1


def test_a_409_without_retry_after_is_final() -> None:
    conflict = Reply(409, {"detail": "No resources to scan"})
    with (
        serving(conflict, Reply(200, REPORT), retries=2) as (fake, session),
        pytest.raises(ConflictError),
    ):
        session.scans.run(["iso42001"])
    assert fake.attempts == 1


def test_with_no_retries_a_409_is_raised() -> None:
    with (
        serving(RUNNING, Reply(200, REPORT), retries=0) as (fake, session),
        pytest.raises(ConflictError) as caught,
    ):
        session.scans.run(["iso42001"])
    assert fake.attempts == 1
    assert caught.value.retry_after == 0


def test_a_409_on_a_request_without_idempotency_key_is_final() -> None:
    with serving(RUNNING, Reply(200, {"status": "ok", "version": "1"}), retries=2) as (
        fake,
        session,
    ):
        assert session.connection.fetch("health", "")[0] == 409
    assert fake.attempts == 1


def test_a_scan_slower_than_the_timeout_is_stored_once_and_returned(platform: Platform) -> None:
    # Each exchange with "Azure" takes 0.2 s: the live scan takes well over a second.
    tenant = live_tenant(
        platform, transport=ReplayTransport.of("sign_in.json", "estate.json", latency=0.2)
    )

    with (
        uvicorn_serving(platform.app) as base_url,
        Session(base_url, tenant.owner_key, timeout=0.3, retries=2) as session,
    ):
        started = time.monotonic()
        report = session.scans.run(["iso42001"])
        elapsed = time.monotonic() - started
        with (
            Session(base_url, tenant.owner_key, timeout=0.3, retries=0) as impatient,
            pytest.raises(APITimeoutError),
        ):
            impatient.scans.run(["iso42001"])  # the scan really is slower than the timeout

    assert elapsed > 0.3
    assert report.report_id is not None
    # The impatient scan above went on after its client gave up; wait for it to be stored.
    deadline = time.monotonic() + 30
    while scan_count(platform, tenant) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    ids = [r["report_id"] for r in listed(platform, tenant)]
    assert ids.count(report.report_id) == 1
    assert len(ids) == scan_count(platform, tenant) == 2  # one per call, not one per attempt
