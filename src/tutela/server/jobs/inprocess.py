"""The embedded engine: the API process runs the periodic jobs itself, on asyncio timers.

Each job runs in a worker thread (the scans are synchronous), one run at a time per job; a run
that fails is logged and recorded, and the timer goes on. Governance is looked at every
``TUTELA_SCHEDULER_INTERVAL_SECONDS``; CMK keys are checked every
``TUTELA_KEY_HEALTH_INTERVAL_HOURS``; retention, the risk exceptions' expiry notices and the
purge of tenants past their deletion grace period run every ``TUTELA_RETENTION_INTERVAL_HOURS``.
Each runs once at start-up too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from tutela.server.db import utcnow
from tutela.server.jobs.observed import observed_job
from tutela.server.jobs.registry import (
    EXCEPTION_NOTICES,
    GOVERNANCE_DUE,
    KEY_HEALTH,
    REPORTS_PURGE,
    TENANTS_PURGE,
    JobResult,
    exception_notices,
    governance_due,
    key_health,
    recorded,
    reports_purge,
    tenants_purge,
)
from tutela.server.runtime import Runtime


def run_job(runtime: Runtime, name: str, job: Callable[[], JobResult]) -> JobResult:
    """Run a job now, in this thread, recorded in job_runs (and counted, traced: observed)."""
    with observed_job(name) as observed, recorded(runtime, name) as results:
        results.append(job())
        observed.append(results[-1])
    return results[-1]


def periodic_jobs(runtime: Runtime) -> list[tuple[str, float, Callable[[], JobResult]]]:
    """(name, interval in seconds, job) of every enabled periodic job."""
    settings = runtime.settings
    jobs: list[tuple[str, float, Callable[[], JobResult]]] = []
    if settings.scheduler_interval_seconds > 0:
        jobs.append(
            (
                GOVERNANCE_DUE,
                settings.scheduler_interval_seconds,
                lambda: governance_due(runtime, utcnow()),
            )
        )
    if settings.key_health_interval_hours > 0:
        jobs.append(
            (
                KEY_HEALTH,
                settings.key_health_interval_hours * 3600,
                lambda: key_health(runtime, utcnow()),
            )
        )
    if settings.retention_interval_hours > 0:
        jobs.append(
            (
                REPORTS_PURGE,
                settings.retention_interval_hours * 3600,
                lambda: reports_purge(runtime, utcnow()),
            )
        )
        jobs.append(
            (
                EXCEPTION_NOTICES,
                settings.retention_interval_hours * 3600,
                lambda: exception_notices(runtime, utcnow()),
            )
        )
        jobs.append(
            (
                TENANTS_PURGE,
                settings.retention_interval_hours * 3600,
                lambda: tenants_purge(runtime, utcnow()),
            )
        )
    return jobs


class Scheduler:
    """Runs the periodic jobs while the app lives: ``start()`` it at start-up, then ``stop()``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for name, interval, job in periodic_jobs(self.runtime):
            self._tasks.append(asyncio.create_task(self._every(name, interval, job), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _every(self, name: str, interval: float, job: Callable[[], JobResult]) -> None:
        while True:
            # A failed run is logged and recorded by run_job; the timer goes on.
            with contextlib.suppress(Exception):
                await run_in_threadpool(run_job, self.runtime, name, job)
            await asyncio.sleep(interval)
