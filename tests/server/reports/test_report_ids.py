"""Report ids under load: clients saving scans for one tenant at once (PostgreSQL), and a burst
of reports stored by many writers for one tenant (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.platform import Platform
from tests.server.reports.test_reports import report_id_at, store
from tests.server.scans.estates import link_sample_snapshot, listed
from tutela.server.db import utcnow
from tutela.server.reports.ids import REPORT_ID_PATTERN

CLIENTS, SCANS_EACH = 4, 10
SMALL_SCAN = {"frameworks": ["sox"], "generate_narrative": False}


def test_four_clients_saving_scans_at_once_all_succeed_with_their_seconds_ids(
    own_postgres_url: str, tmp_path: Path
) -> None:
    """It was: 201 of 281 requests answered 429, and ids ran up to 60 s ahead of scan_ts."""
    with Platform(make_settings(tmp_path, database_url=own_postgres_url)) as platform:
        tenant = platform.tenant("enterprise")
        link_sample_snapshot(platform, tenant)

        def client_saving_scans(_: int) -> list[tuple[int, dict[str, object]]]:
            # Not entered as a context: the app's lifespan would start its job scheduler.
            client = TestClient(platform.app)
            try:
                return [
                    (response.status_code, response.json())
                    for response in (
                        client.post("/scan", headers=tenant.headers, json=SMALL_SCAN)
                        for _ in range(SCANS_EACH)
                    )
                ]
            finally:
                client.close()

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = [a for batch in pool.map(client_saving_scans, range(CLIENTS)) for a in batch]

        assert [status for status, _ in answers] == [200] * (CLIENTS * SCANS_EACH), answers[:3]
        reports = [body for _, body in answers]
        ids = [str(report["report_id"]) for report in reports]
        assert len(set(ids)) == len(ids)
        for report in reports:
            report_id, scan_ts = str(report["report_id"]), str(report["scan_ts"])
            assert re.fullmatch(REPORT_ID_PATTERN, report_id)
            second = dt.datetime.strptime(scan_ts, "%Y-%m-%dT%H:%M:%SZ")
            assert report_id.split("-")[1:3] == [f"{second:%Y%m%d}", f"{second:%H%M%S}"]
        # Many shared a second (else this test proved nothing), and each of those seconds was
        # named in order: its plain id, then -2, -3, …
        by_second: dict[str, list[str]] = {}
        for report_id in ids:
            by_second.setdefault(report_id[:20], []).append(report_id)
        assert any(len(same) > 1 for same in by_second.values())
        for second_id, same in by_second.items():
            expected = [second_id] + [f"{second_id}-{n}" for n in range(2, len(same) + 1)]
            assert sorted(same, key=lambda i: (len(i), i)) == expected
        listing = platform.client.get("/reports", headers=tenant.headers, params={"limit": 200})
        assert sorted(item["report_id"] for item in listing.json()["items"]) == sorted(ids)


BURST, WRITERS = 100, 8


def test_a_burst_of_reports_for_one_tenant_all_get_ids_of_their_seconds(
    any_platform: Platform,
) -> None:
    """100 reports stored in about a second by 8 writers at once: none refused, ids unique,
    each named by its own scan second (plain, then -2, -3, … in the order they were stored)."""
    platform = any_platform
    tenant = platform.tenant("enterprise")
    start = utcnow().replace(microsecond=0) - dt.timedelta(seconds=10)
    moments = [start + dt.timedelta(seconds=i % 3) for i in range(BURST)]  # 3 seconds' worth

    with ThreadPoolExecutor(WRITERS) as pool:
        ids = list(pool.map(lambda moment: store(platform, tenant, moment), moments))

    assert len(set(ids)) == BURST
    by_second: dict[str, list[str]] = {}
    for report_id, moment in zip(ids, moments, strict=True):
        assert re.fullmatch(REPORT_ID_PATTERN, report_id)
        assert report_id[:20] == report_id_at(moment)
        by_second.setdefault(report_id[:20], []).append(report_id)
    for second_id, same in by_second.items():
        expected = [second_id] + [f"{second_id}-{n}" for n in range(2, len(same) + 1)]
        assert sorted(same, key=lambda i: (len(i), i)) == expected
    assert len(listed(platform, tenant, limit=200)) == BURST
