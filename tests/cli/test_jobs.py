"""`tutela jobs run-due`, `tutela jobs status`, and `tutela worker` refusing without Celery."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.platform import Platform
from tests.server.exceptions.helpers import accepted_by, set_expiry, today
from tests.server.scans.estates import link, link_sample_snapshot
from tutela.cli.main import app
from tutela.server.config import Settings
from tutela.server.jobs.models import JobRun


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def settings(settings_factory, monkeypatch: pytest.MonkeyPatch) -> Settings:  # type: ignore[no-untyped-def]
    made: Settings = settings_factory()
    monkeypatch.setenv("TUTELA_DATA_DIR", str(made.data_dir))
    return made


def test_run_due_scans_due_tenants_at_the_given_time(settings: Settings) -> None:
    with Platform(settings) as platform:
        tenant = platform.tenant("professional")
        link_sample_snapshot(platform, tenant)
        platform.tenant("starter")  # manual governance: never due

    first = run("jobs", "run-due", "--now", "2027-11-01T06:00:00Z")

    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "Governance at 2027-11-01 06:00:00Z: 1 due: 1 scanned (0 with drift), 0 failed, 0 skipped",
        "Retention: Deleted 0 expired report(s) in 0 tenant(s).",
        "Risk exceptions: 0 exception expiry notice(s) sent, 0 failed",
        "Deleted tenants: Purged 0 tenant(s) (0 report(s)).",
    ]
    same_slot = run("jobs", "run-due", "--now", "2027-11-08T06:00:00+00:00")
    assert "0 due: 0 scanned" in same_slot.output
    next_slot = run("jobs", "run-due", "--now", "2027-11-15T08:00:00+02:00")  # 06:00 UTC
    assert "1 due: 1 scanned" in next_slot.output
    with Platform(settings) as platform:
        history = platform.client.get("/governance", headers=tenant.headers).json()["history"]
    assert [h["ts"] for h in history] == ["2027-11-15T06:00:00Z", "2027-11-01T06:00:00Z"]

    status = run("jobs", "status")
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert lines[0] == "Backend: in-process (the API process runs the jobs)"
    assert lines[1].startswith("Governance: 0 due, 0 running, 0 failing")
    assert any(line.startswith("governance.run_due: ok, 3 run(s); ") for line in lines)
    assert any(line.startswith("reports.purge: ok, 3 run(s); ") for line in lines)


def test_run_due_mails_the_expiry_notice_of_an_exception_a_week_before(settings: Settings) -> None:
    """A cron-only deployment (no scheduler in the API) still announces expiring acceptances."""
    with Platform(settings) as platform:
        tenant = platform.tenant("starter")  # manual governance: no scan due
        exception_id = accepted_by(platform, tenant)
        set_expiry(platform, exception_id, today() + dt.timedelta(days=6))
    outbox = settings.resolved_outbox_dir
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()

    result = run("jobs", "run-due")

    assert result.exit_code == 0, result.output
    assert "Risk exceptions: 1 exception expiry notice(s) sent, 0 failed" in result.output
    [mail] = [path for path in outbox.glob("*.eml") if path not in before]
    assert exception_id in mail.read_text()
    again = run("jobs", "run-due")
    assert "Risk exceptions: 0 exception expiry notice(s) sent" in again.output


def test_run_due_exits_1_when_a_scan_failed(settings: Settings) -> None:
    with Platform(settings) as platform:
        tenant = platform.tenant("enterprise")
        link(platform, tenant, "b3e71d05-9a42-4c8e-8f1b-2d6a0c5e9f37")  # linked, no snapshot
    result = run("jobs", "run-due", "--now", "2027-11-01T06:00:00Z")
    assert result.exit_code == 1, result.output
    assert "1 due: 0 scanned (0 with drift), 1 failed, 0 skipped" in result.output
    status = run("jobs", "status")
    assert "Governance: 0 due, 0 running, 1 failing" in status.output
    assert "governance.run_due: failed, 1 run(s)" in status.output


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tomorrow", "error: --now: not an ISO 8601 time: 'tomorrow'"),
        ("2027-11-01T06:00:00", "error: --now: give a time zone, e.g. 2027-11-01T06:00:00Z"),
    ],
)
def test_a_bad_now_is_one_line(settings: Settings, value: str, message: str) -> None:
    result = run("jobs", "run-due", "--now", value)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[0].startswith(message)
    assert "Traceback" not in result.output


def test_worker_and_beat_need_the_celery_backend(settings: Settings) -> None:
    for command in ("worker", "beat"):
        result = run(command)
        assert result.exit_code == 1
        assert result.output.startswith("error: workers need TUTELA_JOB_BACKEND=celery")


def test_celery_without_a_broker_is_refused(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTELA_JOB_BACKEND", "celery")
    result = run("worker")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: TUTELA_JOB_BACKEND: celery needs a broker: set TUTELA_REDIS_URL (redis://…)"
    )


def test_status_says_when_the_broker_is_unreachable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUTELA_JOB_BACKEND", "celery")
    monkeypatch.setenv("TUTELA_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    result = run("jobs", "status")
    assert result.exit_code == 1
    assert result.output.startswith("Backend: celery, queue 'tutela': broker unreachable: ")


def test_status_prints_job_details_as_text_never_as_terminal_controls(settings: Settings) -> None:
    # A detail quotes messages from elsewhere (Azure's, the database's): an ESC in one must not
    # colour the operator's terminal, nor rich markup style it.
    with Platform(settings) as platform, platform.db() as session:
        session.add(
            JobRun(
                name="governance.run_due",
                runs=1,
                last_status="failed",
                last_detail="\x1b[31mred\x1b[0m [bold]bold[/bold]",
                last_worker="host\x1b]0;title\x07",
            )
        )
    result = run("jobs", "status")
    assert "\x1b" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("governance.")]
    assert line.endswith("on host: red [bold]bold[/bold]")  # the OSC title dropped whole
