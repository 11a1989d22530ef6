"""Exactly once across API processes: two real ``tutela serve`` on one PostgreSQL database.

The same keyed POST /scan reaches both processes at once; the unique (tenant, key) constraint
lets one of them run it, and the other answers the replay (or 409 until the first is done).
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager as ContextManager
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import make_settings
from tests.platform import Platform
from tests.server.scans.estates import link_sample_snapshot, scan_count
from tests.serving import served

ROUNDS = 3


def api_process(data_dir: Path, database_url: str, log: Path) -> ContextManager[str]:
    """``tutela serve`` on a free port, on the given database; its base URL."""
    return served(
        {
            "TUTELA_DATA_DIR": str(data_dir),
            "TUTELA_DATABASE_URL": database_url,
            "TUTELA_SCHEDULER_INTERVAL_SECONDS": "0",
            "TUTELA_RETENTION_INTERVAL_HOURS": "0",
            "TUTELA_RATE_LIMIT": "100000/minute",
        },
        log,
    )


def scan_until_answered(
    base_url: str, headers: dict[str, str], start: threading.Barrier
) -> dict[str, Any]:
    """POST /scan, waiting out 409s as their Retry-After says; the answer and the statuses."""
    statuses = []
    start.wait(timeout=30)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for _ in range(60):
            response = client.post("/scan", json={"frameworks": ["iso42001", "sr11_7"]})
            statuses.append(response.status_code)
            if response.status_code != 409:
                break
            time.sleep(float(response.headers["retry-after"]))
    assert response.status_code == 200, response.text
    return {
        "statuses": statuses,
        "report_id": response.json()["report_id"],
        "replayed": response.headers.get("idempotency-replayed") == "true",
    }


def test_one_keyed_scan_sent_to_two_processes_at_once_runs_once(
    tmp_path: Path, own_postgres_url: str
) -> None:
    with Platform(make_settings(tmp_path, database_url=own_postgres_url)) as platform:
        tenant = platform.tenant("enterprise")
        link_sample_snapshot(platform, tenant)

        with ExitStack() as stack:
            urls = [
                stack.enter_context(
                    api_process(tmp_path, own_postgres_url, tmp_path / f"serve{n}.log")
                )
                for n in range(2)
            ]
            for round_ in range(1, ROUNDS + 1):
                headers = {**tenant.headers, "Idempotency-Key": str(uuid.uuid4())}
                start = threading.Barrier(2)
                with ThreadPoolExecutor(2) as pool:
                    answers = list(pool.map(scan_until_answered, urls, [headers] * 2, [start] * 2))

                assert len(answers) == 2, "a caller got no answer"
                assert answers[0]["report_id"] == answers[1]["report_id"], answers
                assert sorted(a["replayed"] for a in answers) == [False, True], answers
                assert scan_count(platform, tenant) == round_
                reports = platform.client.get("/reports", headers=tenant.headers).json()["items"]
                assert len(reports) == round_
