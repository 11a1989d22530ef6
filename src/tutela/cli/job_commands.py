"""Commands that run background jobs: worker, beat (Celery) and jobs run-due / status."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tutela.cli.errors import CliError, one_line_errors
from tutela.cli.text import shown

if TYPE_CHECKING:
    from celery import Celery

    from tutela.server.config import Settings

console = Console(highlight=False, soft_wrap=True)
jobs_app = typer.Typer(help="Background jobs: governance scans, retention.", no_args_is_help=True)


def _settings() -> Settings:
    from tutela.server.config import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _log_once(settings: Settings) -> None:
    """tutela's lines go out through its own handler only, not again through Celery's."""
    import logging

    from tutela.server.observability import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("tutela").propagate = False


def _serve_metrics(settings: Settings, *, forks: bool) -> None:
    """The metrics listener on TUTELA_METRICS_PORT, if set. A worker that ``forks`` its task
    processes collects theirs through files (prometheus_client's multiprocess mode), which
    must be chosen before prometheus_client is first imported."""
    if settings.metrics_port is None:
        return
    if forks and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        directory = tempfile.mkdtemp(prefix="tutela-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    from tutela.server.metrics import serve_metrics

    serve_metrics(settings)


def _celery(settings: Settings) -> Celery:
    from tutela.server.jobs.celery_app import create_celery

    if settings.job_backend != "celery":
        raise CliError(
            "workers need TUTELA_JOB_BACKEND=celery and TUTELA_REDIS_URL (the broker); "
            "the embedded default runs jobs inside `tutela serve`"
        )
    return create_celery(settings)


@contextlib.contextmanager
def _warnings_without_tracebacks() -> Iterator[None]:
    """run-due's own lines say how each job went, and a job that raised ends the command with
    one error line: meanwhile the jobs' warnings (a tenant's scan failing) are bare lines on
    stderr, without tracebacks and without repeating the failure that the error line gives."""
    import logging

    class FirstLines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:  # the sys.stderr of the moment: the one a test runner captures, too
                sys.stderr.write((record.getMessage().splitlines() or [""])[0] + "\n")
            except Exception:
                self.handleError(record)

    handler = FirstLines(logging.WARNING)
    handler.addFilter(lambda record: not record.getMessage().startswith("job_failed "))
    tutela_log = logging.getLogger("tutela")
    tutela_log.addHandler(handler)
    try:
        yield
    finally:
        tutela_log.removeHandler(handler)


def _parse_now(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--now: not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise CliError(f"--now: give a time zone, e.g. {value}Z or {value}+00:00")
    return moment.astimezone(dt.UTC)


@one_line_errors
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
    ] = None,
    beat: Annotated[
        bool, typer.Option("--beat", help="Also run the beat clock in this worker (one only).")
    ] = False,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
) -> None:
    """Run a Celery worker: governance scans and retention, from the Redis queue."""
    from tutela.server.migrate import upgrade

    settings = _settings()
    _log_once(settings)
    _serve_metrics(settings, forks=True)
    upgrade(settings.resolved_database_url)
    argv = ["worker", f"--loglevel={loglevel}", "--queues", settings.job_queue]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    if beat:
        argv += ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    if settings.log_format == "json":
        argv.insert(0, "--quiet")  # no start-up banner between the JSON lines
    _celery(settings).worker_main(argv)


@one_line_errors
def beat(
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
) -> None:
    """Run Celery beat, the clock that sends the periodic jobs (run exactly one)."""
    settings = _settings()
    _log_once(settings)
    _serve_metrics(settings, forks=False)
    _celery(settings).start(
        [
            "beat",
            f"--loglevel={loglevel}",
            f"--schedule={settings.data_dir / 'celerybeat-schedule'}",
        ]
    )


@jobs_app.command("run-due")
@one_line_errors
def run_due(
    now: Annotated[
        str | None,
        typer.Option(help="Act as if it were this time (ISO 8601 with zone), to test a schedule."),
    ] = None,
) -> None:
    """Run every periodic job once, here: due governance scans, retention, then the risk
    exceptions' expiry notices and the purge of tenants past their deletion grace period
    (for cron)."""
    from tutela.server.db import utcnow
    from tutela.server.jobs.inprocess import run_job
    from tutela.server.jobs.registry import (
        EXCEPTION_NOTICES,
        GOVERNANCE_DUE,
        REPORTS_PURGE,
        TENANTS_PURGE,
        exception_notices,
        governance_due,
        reports_purge,
        tenants_purge,
    )
    from tutela.server.migrate import upgrade
    from tutela.server.runtime import Runtime

    moment = _parse_now(now) or utcnow()
    settings = _settings()
    with _warnings_without_tracebacks():
        upgrade(settings.resolved_database_url)
        runtime = Runtime.start(settings)
        try:
            due = run_job(runtime, GOVERNANCE_DUE, lambda: governance_due(runtime, moment))
            purge = run_job(runtime, REPORTS_PURGE, lambda: reports_purge(runtime, moment))
            notices = run_job(
                runtime, EXCEPTION_NOTICES, lambda: exception_notices(runtime, moment)
            )
            tenants = run_job(runtime, TENANTS_PURGE, lambda: tenants_purge(runtime, moment))
        finally:
            runtime.close()
    # Details quote Azure's and the database's messages: printed as text, never as controls.
    console.print(f"Governance at {moment:%Y-%m-%d %H:%M:%S}Z: {shown(due.detail)}")
    console.print(f"Retention: {shown(purge.detail)}")
    console.print(f"Risk exceptions: {shown(notices.detail)}")
    console.print(f"Deleted tenants: {shown(tenants.detail)}")
    if due.failures:
        raise typer.Exit(1)


@jobs_app.command("status")
@one_line_errors
def status() -> None:
    """Each job's last run, the queue's depth, and governance scans due, running, failing."""
    from tutela.server.db import utcnow
    from tutela.server.jobs.status import jobs_status
    from tutela.server.migrate import upgrade
    from tutela.server.runtime import Runtime

    settings = _settings()
    upgrade(settings.resolved_database_url)
    runtime = Runtime.start(settings)
    try:
        report = jobs_status(runtime, utcnow())
    finally:
        runtime.close()
    if report.backend == "celery":
        depth = shown(report.broker_error or f"{report.queue_depth} waiting")
        console.print(f"Backend: celery, queue '{report.queue}': {depth}")
    else:
        console.print("Backend: in-process (the API process runs the jobs)")
    console.print(
        f"Governance: {report.due_now} due, {report.running} running, {report.failing} failing"
    )
    if not report.runs:
        console.print("No job has run yet.")
    for run in report.runs:  # one line per job: greppable, and never wrapped into a table cell
        console.print(
            f"{run.name}: {run.last_status or 'running'}, {run.runs} run(s); last started "
            f"{_when(run.last_started_at)}, finished {_when(run.last_finished_at)} on "
            f"{shown(run.last_worker or '-')}: {shown(run.last_detail or '')}".rstrip(": ")
        )
    if report.broker_error:
        raise typer.Exit(1)


def _when(moment: dt.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else "-"
