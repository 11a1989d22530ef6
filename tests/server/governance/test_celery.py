"""Governance on the scale-out engine: real `tutela worker` processes, Redis, PostgreSQL, SMTP.

Each test starts its workers as the operator would (the console script, settings in the
environment), on a PostgreSQL database of its own and a Celery queue of its own, and watches the
outcome in the database and at a real SMTP server on loopback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tests.platform import Platform, TenantCtx
from tests.server.governance.helpers import governance, governance_reports, state
from tests.server.notify.loopback import Collector
from tests.server.notify.mail import parse
from tests.server.scans.estates import DEV, link_sample_snapshot, sample_records, upload_snapshot
from tests.server.workers import TUTELA, environment, stop_groups
from tutela.cli.main import app
from tutela.server.config import Settings
from tutela.server.db import utcnow
from tutela.server.governance.models import GovernanceState
from tutela.server.jobs.celery_app import create_celery
from tutela.server.jobs.models import JobRun
from tutela.server.jobs.registry import GOVERNANCE_SCAN

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LEASE_SECONDS = 5


@pytest.fixture
def settings(
    settings_factory: Callable[..., Settings],
    own_postgres_url: str,
    redis_url: str,
    smtp: tuple[Collector, int],
) -> Settings:
    return settings_factory(
        database_url=own_postgres_url,
        redis_url=redis_url,
        job_backend="celery",
        job_queue=f"tutela-test-{uuid.uuid4().hex[:8]}",
        scheduler_interval_seconds=1,
        governance_lease_seconds=LEASE_SECONDS,
        retention_interval_hours=0,
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_starttls=False,  # a loopback relay; STARTTLS itself is tested in tests/server/notify
        smtp_timeout_seconds=5,
    )


class Workers:
    """Worker processes of one test, each in its own process group; all stopped at the end."""

    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings, self.logs = settings, logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [TUTELA, "worker", "--concurrency", "1", *args],
            env=environment(self.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the worker and its pool processes: one group to kill
        )
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        stop_groups(self.started)

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    if shutil.which(TUTELA) is None and not Path(TUTELA).exists():
        pytest.fail(f"the console script {TUTELA} is not installed")
    logs = tmp_path / "logs"
    logs.mkdir()
    running = Workers(settings, logs)
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    with Platform(settings) as running:
        yield running


def wait_for(condition: Callable[[], Any], what: str, workers: Workers, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker output:\n{workers.output()[-4000:]}")


def make_due(platform: Platform, tenant: TenantCtx) -> None:
    """Move the tenant's next slot to now, as if its interval had passed."""
    with platform.db() as session:
        session.execute(
            update(GovernanceState)
            .where(GovernanceState.tenant_id == tenant.id)
            .values(next_scan_at=utcnow())
        )


def job_run(platform: Platform, name: str) -> JobRun | None:
    with platform.db() as session:
        row = session.get(JobRun, name)
        if row is not None:
            session.expunge(row)
        return row


def test_a_worker_runs_due_scans_end_to_end_and_mails_drift(
    platform: Platform,
    workers: Workers,
    smtp: tuple[Collector, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collector, _ = smtp
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant, clean=True)

    workers.start("--beat")  # beat looks every second and fans out one task per due tenant

    [baseline] = wait_for(
        lambda: governance_reports(platform, tenant.id), "the first governance scan", workers
    )
    body = governance(platform, tenant)
    assert body["history"][0]["report_id"] == baseline.report_id
    assert body["governance_score"] == baseline.aggregate_score
    assert body["drift_detected"] is False
    assert collector.received == []

    upload_snapshot(platform, tenant, DEV, sample_records(DEV))  # the critical gaps return
    make_due(platform, tenant)
    reports = wait_for(
        lambda: (r := governance_reports(platform, tenant.id))[1:] and r,
        "the second governance scan",
        workers,
    )
    assert len(reports) == 2
    assert governance(platform, tenant)["drift_detected"] is True
    [received] = wait_for(lambda: collector.received, "the drift email", workers)
    owner = platform.client.get("/tenant/me", headers=tenant.headers).json()["purchaser_email"]
    assert received.rcpt_tos == [owner]
    message = parse(received.content)
    assert str(message["Subject"]).startswith("Tutela: compliance drift in ")
    assert f"report_b={reports[1].report_id}" in message.get_content()

    for name in ("governance.run_due", "governance.scan_tenant"):
        run = job_run(platform, name)
        assert run is not None, name
        assert run.last_status == "ok", (name, run.last_detail)
    # The operator's view of it.
    for key, value in environment(platform.settings).items():
        if key.startswith("TUTELA_"):
            monkeypatch.setenv(key, value)
    status = CliRunner().invoke(app, ["jobs", "status"])
    assert status.exit_code == 0, status.output
    assert f"Backend: celery, queue '{platform.settings.job_queue}': " in status.output
    assert "governance.scan_tenant: ok, " in status.output
    assert "governance.run_due: ok, " in status.output


def test_two_workers_racing_for_a_tenant_make_one_report(
    platform: Platform, workers: Workers
) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    with platform.db() as session:  # due now
        from tutela.server.governance.repository import GovernanceRepository

        GovernanceRepository(session, tenant.id).ensure(utcnow())
    first, second = workers.start(), workers.start()
    celery = create_celery(platform.settings)
    celery.send_task(GOVERNANCE_SCAN, args=[tenant.id])
    celery.send_task(GOVERNANCE_SCAN, args=[tenant.id])

    def both_done() -> bool:
        run = job_run(platform, GOVERNANCE_SCAN)
        return run is not None and run.runs == 2 and state(platform, tenant.id).lease_owner is None

    wait_for(both_done, "both tasks to run", workers)
    time.sleep(1)  # a late finisher would have written by now
    assert len(governance_reports(platform, tenant.id)) == 1
    output = workers.output()
    assert output.count("governance_scan_finished") == 1, output[-4000:]
    finished = [line for line in output.splitlines() if "job_finished" in line]
    assert len(finished) == 2, output[-4000:]
    assert sum("skipped (not due, or another worker has it)" in line for line in finished) == 1
    assert first.poll() is None  # both workers alive: they raced
    assert second.poll() is None


def test_a_worker_killed_mid_scan_leaves_no_report_and_the_scan_is_retried(
    platform: Platform, workers: Workers, own_postgres_url: str
) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    with platform.db() as session:
        from tutela.server.governance.repository import GovernanceRepository

        GovernanceRepository(session, tenant.id).ensure(utcnow())
    dsn = own_postgres_url.replace("postgresql+psycopg://", "postgresql://")
    # Hold the reports table so the worker stops inside its last step, mid-transaction: it
    # has scanned and is storing the report when it is killed.
    blocker = psycopg.connect(dsn)
    blocker.execute("LOCK TABLE reports IN SHARE MODE")
    worker = workers.start()
    create_celery(platform.settings).send_task(GOVERNANCE_SCAN, args=[tenant.id])

    def storing() -> bool:
        with psycopg.connect(dsn, autocommit=True) as watcher:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE 'INSERT INTO reports%%'"
            ).fetchone()
            return bool(row and row[0])

    wait_for(storing, "the worker to reach the report insert", workers)
    owner = state(platform, tenant.id).lease_owner
    assert owner is not None
    workers.kill(worker)
    blocker.rollback()
    blocker.close()

    time.sleep(0.5)
    assert governance_reports(platform, tenant.id) == []  # nothing partial was committed
    assert state(platform, tenant.id).lease_owner == owner  # the dead worker's, until it expires
    assert state(platform, tenant.id).last_scan_at is None

    started = time.monotonic()
    workers.start("--beat")  # beat finds the tenant due again once the lease has expired
    [report] = wait_for(
        lambda: governance_reports(platform, tenant.id), "the retried scan", workers, timeout=90
    )
    assert time.monotonic() - started < 60
    after = state(platform, tenant.id)
    assert after.lease_owner is None
    assert after.last_report_id == report.report_id
    assert after.last_scan_at is not None
    assert after.last_scan_at - dt.timedelta(seconds=1) <= utcnow()


def test_beat_alone_queues_the_periodic_jobs_and_status_counts_them(
    platform: Platform, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    queue = platform.settings.job_queue
    client = redis.Redis.from_url(platform.settings.redis_url or "")
    beat = subprocess.Popen(
        [TUTELA, "beat"],
        env=environment(platform.settings),
        stdout=(workers.logs / "beat.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    workers.started.append(beat)  # stopped with the workers
    try:
        wait_for(lambda: client.llen(queue) >= 2, "beat to send two looks", workers, timeout=60)
    finally:
        client.close()
    for key, value in environment(platform.settings).items():
        if key.startswith("TUTELA_"):
            monkeypatch.setenv(key, value)
    status = CliRunner().invoke(app, ["jobs", "status"])
    assert status.exit_code == 0, status.output
    waiting = int(status.output.split(f"queue '{queue}': ")[1].split(" waiting")[0])
    assert waiting >= 2
    assert "No job has run yet." in status.output  # nobody consumes: no worker runs
