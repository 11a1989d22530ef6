"""The scale-out engine: the same jobs as Celery tasks, Redis as broker, beat as the clock.

Beat sends ``governance.run_due`` every ``TUTELA_SCHEDULER_INTERVAL_SECONDS``,
``encryption.key_health`` every ``TUTELA_KEY_HEALTH_INTERVAL_HOURS``, and ``reports.purge``,
``exceptions.expiry_notices`` and ``tenants.purge`` every ``TUTELA_RETENTION_INTERVAL_HOURS``.
``governance.run_due`` fans out one ``governance.scan_tenant`` task per due tenant, so the
scans spread over every worker.

Durability: tasks are acknowledged after they finish (``acks_late``) and handed back when the
worker process running them dies (``reject_on_worker_lost``); each worker process takes one task
at a time (prefetch 1). A scan that outlives its lease is stopped (``task_time_limit``), since
another worker may by then have taken the tenant. Whatever happens to a message, the tenant's
lease in the database decides who scans: a duplicate or redelivered task finds the scan done
or taken and skips.

Each worker process opens its own ``Runtime`` (engine, keys, catalogue) at its first task,
after the fork, so no connection is shared between processes.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, signals

from tutela.server.config import Settings
from tutela.server.db import utcnow
from tutela.server.jobs.inprocess import run_job
from tutela.server.jobs.registry import (
    EXCEPTION_NOTICES,
    GOVERNANCE_DUE,
    GOVERNANCE_SCAN,
    KEY_HEALTH,
    REPORTS_PURGE,
    TENANTS_PURGE,
    exception_notices,
    governance_due,
    governance_scan,
    key_health,
    reports_purge,
    tenants_purge,
)
from tutela.server.runtime import Runtime
from tutela.server.tracing import WORKER_SERVICE, configure_tracing

log = logging.getLogger("tutela.jobs")

_runtimes: dict[int, Runtime] = {}


def create_celery(settings: Settings) -> Celery:
    """The Celery app of this deployment: its broker, queue, schedule and tasks."""
    if not settings.redis_url:
        raise ValueError("TUTELA_REDIS_URL must be set for Celery (the broker)")
    app = Celery("tutela", broker=settings.redis_url, set_as_current=False)
    lease = settings.governance_lease_seconds
    app.conf.update(
        task_default_queue=settings.job_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=lease,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # An unacknowledged message (its worker died) comes back after this; by then the
        # lease has expired too, so the redelivered task can take the tenant.
        broker_transport_options={"visibility_timeout": lease + 60},
        # Our log lines (configure_logging) go to stderr as they are, not again through
        # Celery's logger.
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        timezone="UTC",
        enable_utc=True,
        beat_schedule=_schedule(settings),
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
    )
    if settings.log_format == "json":
        # A receiver of setup_logging stops Celery from adding its own text handlers: the
        # lines stay on ours (configure_logging), one JSON object each.
        signals.setup_logging.connect(_logging_is_ours, weak=False, dispatch_uid="tutela")
    _register_tasks(app, settings)
    return app


def _logging_is_ours(**_: Any) -> None:
    """Celery's ``setup_logging`` signal: the process's logging is already configured."""


def _schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    schedule: dict[str, dict[str, Any]] = {}
    if settings.scheduler_interval_seconds > 0:
        schedule[GOVERNANCE_DUE] = {
            "task": GOVERNANCE_DUE,
            "schedule": settings.scheduler_interval_seconds,
            # A look that waited longer than the interval is superseded by the next one.
            "options": {"expires": settings.scheduler_interval_seconds},
        }
    if settings.key_health_interval_hours > 0:
        schedule[KEY_HEALTH] = {
            "task": KEY_HEALTH,
            "schedule": settings.key_health_interval_hours * 3600,
        }
    if settings.retention_interval_hours > 0:
        schedule[REPORTS_PURGE] = {
            "task": REPORTS_PURGE,
            "schedule": settings.retention_interval_hours * 3600,
        }
        schedule[EXCEPTION_NOTICES] = {
            "task": EXCEPTION_NOTICES,
            "schedule": settings.retention_interval_hours * 3600,
        }
        schedule[TENANTS_PURGE] = {
            "task": TENANTS_PURGE,
            "schedule": settings.retention_interval_hours * 3600,
        }
    return schedule


def _runtime(settings: Settings) -> Runtime:
    """This process's runtime, opened at its first task (after the worker forked)."""
    pid = os.getpid()
    if pid not in _runtimes:
        # The exporter's thread, like the engine's connections, belongs to this process.
        configure_tracing(settings, WORKER_SERVICE)
        _runtimes[pid] = Runtime.start(settings)
    return _runtimes[pid]


def _register_tasks(app: Celery, settings: Settings) -> None:
    @app.task(name=GOVERNANCE_SCAN)  # type: ignore[untyped-decorator]
    def scan_tenant_task(tenant_id: str) -> str:
        runtime = _runtime(settings)
        return run_job(
            runtime, GOVERNANCE_SCAN, lambda: governance_scan(runtime, tenant_id, utcnow())
        ).detail

    @app.task(name=GOVERNANCE_DUE)  # type: ignore[untyped-decorator]
    def governance_due_task() -> str:
        runtime = _runtime(settings)

        def submit(tenant_id: str) -> None:
            scan_tenant_task.delay(tenant_id)

        return run_job(
            runtime, GOVERNANCE_DUE, lambda: governance_due(runtime, utcnow(), submit)
        ).detail

    @app.task(name=KEY_HEALTH)  # type: ignore[untyped-decorator]
    def key_health_task() -> str:
        runtime = _runtime(settings)
        return run_job(runtime, KEY_HEALTH, lambda: key_health(runtime, utcnow())).detail

    @app.task(name=EXCEPTION_NOTICES)  # type: ignore[untyped-decorator]
    def exception_notices_task() -> str:
        runtime = _runtime(settings)
        return run_job(
            runtime, EXCEPTION_NOTICES, lambda: exception_notices(runtime, utcnow())
        ).detail

    @app.task(name=TENANTS_PURGE)  # type: ignore[untyped-decorator]
    def tenants_purge_task() -> str:
        runtime = _runtime(settings)
        return run_job(runtime, TENANTS_PURGE, lambda: tenants_purge(runtime, utcnow())).detail

    @app.task(name=REPORTS_PURGE)  # type: ignore[untyped-decorator]
    def reports_purge_task() -> str:
        runtime = _runtime(settings)
        return run_job(runtime, REPORTS_PURGE, lambda: reports_purge(runtime, utcnow())).detail
