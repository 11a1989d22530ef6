"""``tutela gate`` waits for a scan its retry finds still running (409 with Retry-After)."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from tests.sdk.scripted import Reply, ScriptedServer
from tests.server.scans.estates import DEV, clean_records, offline_report, sample_records
from tutela.cli.main import app

runner = CliRunner()


def test_a_scan_still_running_is_waited_for_not_a_failure() -> None:
    report = offline_report(
        clean_records(sample_records(DEV)), ["iso42001"], dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    )
    report["report_id"] = "COMP-20261123-000000"
    running = Reply(409, {"detail": "still running"}, {"Retry-After": "0"})
    with ScriptedServer(running, running, Reply(200, report)) as fake:
        result = runner.invoke(
            app,
            ["gate", "--frameworks", "iso42001", "--retries", "1"],
            env={"TUTELA_URL": fake.url, "TUTELA_API_KEY": "tut_x", "COLUMNS": "200"},
        )
    assert result.exit_code == 0, result.output
    assert fake.attempts == 3
    assert len({r.headers["idempotency-key"] for r in fake.received}) == 1
