"""``tutela serve --workers N``: N processes answer, and the in-process jobs run in one of them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serving import free_port, served
from tutela.server.jobs.election import take_scheduler_lock
from tutela.server.jobs.registry import JOB_NAMES

AT_START = {name for name in JOB_NAMES if name != "governance.scan_tenant"}  # (run per tenant)


def test_one_process_at_a_time_holds_the_scheduler_lock(tmp_path: Path) -> None:
    first = take_scheduler_lock(tmp_path)
    assert first is not None
    assert take_scheduler_lock(tmp_path) is None, "a second open file of the lock must not take it"
    first.release()
    again = take_scheduler_lock(tmp_path)
    assert again is not None, "released, the lock is free again"
    again.release()


def _wait_for(condition: str, log: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if condition in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"{condition!r} not in the log: {log.read_text(errors='replace')}")


def _job_runs(database: Path) -> dict[str, tuple[int, str | None]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name, runs, last_status FROM job_runs").fetchall()
    return {name: (runs, status) for name, runs, status in rows}


def test_two_workers_answer_and_run_the_start_up_jobs_once(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    environment = {
        "TUTELA_DATA_DIR": str(tmp_path),
        "TUTELA_WORKERS": "2",
        "TUTELA_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    with served(environment, log) as base_url:
        text = _wait_for("scheduler_elsewhere", log)
        text = _wait_for("scheduler_here", log)
        here = [line for line in text.splitlines() if "scheduler_here" in line]
        elsewhere = [line for line in text.splitlines() if "scheduler_elsewhere" in line]
        assert len(here) == 1, text
        assert len(elsewhere) == 1, text
        assert here[0].split("pid=")[1] != elsewhere[0].split("pid=")[1]
        # Both workers' lifespans have begun; the elected one runs each job once at start.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = _job_runs(tmp_path / "tutela.db")
            if runs.keys() >= AT_START and all(runs[name][1] for name in AT_START):
                break
            time.sleep(0.2)
        time.sleep(1)  # (time for a second, wrongly elected, scheduler to record its runs)
        runs = _job_runs(tmp_path / "tutela.db")
        assert {name: runs.get(name, (0, None))[0] for name in AT_START} == dict.fromkeys(
            AT_START, 1
        ), runs
        for _ in range(10):
            assert httpx.get(f"{base_url}/health", timeout=5).status_code == 200
    assert "Started parent process" in log.read_text(errors="replace")


def test_workers_with_one_metrics_port_are_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
    env.update(TUTELA_DATA_DIR=str(tmp_path), TUTELA_METRICS_PORT=str(free_port()))
    script = Path(sys.executable).parent / "tutela"
    done = subprocess.run(
        [str(script), "serve", "--workers", "2", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "TUTELA_METRICS_PORT" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
