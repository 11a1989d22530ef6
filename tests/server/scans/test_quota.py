"""The monthly scan quota under concurrent scans, on SQLite and PostgreSQL.

The app is served by a real uvicorn server on a free port (in a thread of the test process, so
it shares the test's platform and database) and called over TCP by 50 threads at once: the
requests really overlap, which the in-process TestClient would not guarantee. An ASGI wrapper
counts the requests the server holds at once, to show they did.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from tests.platform import Platform, TenantCtx
from tests.server.scans.estates import link_sample_snapshot, scan_count
from tutela.server.db import utcnow
from tutela.server.reports.models import Report
from tutela.server.tenants.models import ScanUsage
from tutela.server.tenants.service import usage_period

PARALLEL = 50
QUOTA_MESSAGE = "Scan quota exceeded for plan 'starter' (25/25 used this month)"


class InFlight:
    """ASGI middleware remembering the most HTTP requests in progress at one time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.current = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.current += 1  # the event loop is one thread: no lock needed
        self.most = max(self.most, self.current)
        try:
            await self.app(scope, receive, send)
        finally:
            self.current -= 1


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app behind uvicorn on a free port; its base URL. Stopped whatever happens."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", backlog=PARALLEL * 2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


def use_scans(platform: Platform, tenant: TenantCtx, count: int) -> None:
    with platform.db() as session:
        session.add(ScanUsage(tenant_id=tenant.id, period=usage_period(utcnow()), count=count))


def test_parallel_scans_never_overshoot_the_quota(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    use_scans(platform, tenant, 20)
    assert scan_count(platform, tenant) == 20
    observed = InFlight(platform.app)
    barrier = threading.Barrier(PARALLEL)

    with (
        serving(observed) as base_url,
        httpx.Client(
            base_url=base_url,
            headers=tenant.headers,
            timeout=30,
            limits=httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=PARALLEL),
        ) as client,
    ):

        def one_scan(index: int) -> httpx.Response:
            barrier.wait(timeout=20)
            return client.post(
                "/scan", json={"frameworks": ["iso42001", "sr11_7"], "scan_label": f"run-{index}"}
            )

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            responses = list(pool.map(one_scan, range(PARALLEL)))
        elapsed = time.monotonic() - started

    statuses = Counter(r.status_code for r in responses)
    unexpected = [r.text[:300] for r in responses if r.status_code not in (200, 403)]
    assert statuses == {200: 5, 403: PARALLEL - 5}, unexpected
    assert {r.json()["detail"] for r in responses if r.status_code == 403} == {QUOTA_MESSAGE}
    report_ids = [r.json()["report_id"] for r in responses if r.status_code == 200]
    assert len(set(report_ids)) == 5
    assert observed.most >= 10, f"requests did not overlap (at most {observed.most} at once)"
    assert elapsed < 20

    with platform.db() as session:
        rows = list(session.scalars(select(Report).where(Report.tenant_id == tenant.id)))
        usage = session.get(ScanUsage, (tenant.id, usage_period(utcnow())))
    assert sorted(row.report_id for row in rows) == sorted(report_ids)
    assert {row.type for row in rows} == {"manual"}
    assert usage is not None
    assert usage.count == 25
    assert scan_count(platform, tenant) == 25
    # Each stored report is the one its scan returned (label and id stored together).
    labels = {r.json()["report_id"]: r.json()["scan_label"] for r in responses if r.is_success}
    assert {row.report_id: row.label for row in rows} == labels

    # The quota stays used up: one more scan is refused and changes nothing.
    again = platform.client.post("/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]})
    assert again.status_code == 403
    assert again.json()["detail"] == QUOTA_MESSAGE
    assert scan_count(platform, tenant) == 25
