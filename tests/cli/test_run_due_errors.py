"""`tutela jobs run-due` from cron: a failure is one line on stderr, never a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

TUTELA = Path(sys.executable).with_name("tutela")


def _tutela(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
    return subprocess.run(
        [str(TUTELA), *args],
        env={**clean, "TUTELA_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_job_that_raises_is_one_error_line(tmp_path: Path) -> None:
    created = _tutela(
        tmp_path, "admin", "create-tenant", "--email", "o@example.com", "--plan", "enterprise"
    )
    assert created.returncode == 0, created.stderr
    # A database the migrations no longer describe (a table dropped by hand): the governance
    # job raises as it looks for due tenants.
    with sqlite3.connect(tmp_path / "tutela.db") as database:
        database.execute("DROP TABLE governance_states")

    done = _tutela(tmp_path, "jobs", "run-due")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "error: database unavailable: no such table: governance_states"
    ]


def test_an_unreachable_database_is_one_error_line(tmp_path: Path) -> None:
    done = _tutela(
        tmp_path,
        "jobs",
        "run-due",
        TUTELA_DATABASE_URL="postgresql+psycopg://tutela@127.0.0.1:9/tutela?connect_timeout=2",
    )
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: database unavailable: ")
    assert done.stdout == ""
