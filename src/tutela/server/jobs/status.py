"""What the jobs are doing: each job's last run, the queue's depth, scans due and in progress."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from tutela.server.db import transaction
from tutela.server.governance.models import GovernanceState
from tutela.server.governance.scans import due_tenants
from tutela.server.jobs.models import JobRun
from tutela.server.runtime import Runtime


@dataclass(frozen=True)
class JobsStatus:
    backend: str
    queue: str | None
    queue_depth: int | None  # messages waiting in the broker; None without Celery
    broker_error: str | None
    due_now: int  # tenants whose governance scan is due and not running
    running: int  # governance scans holding an unexpired lease
    failing: int  # tenants whose last governance attempt failed
    runs: list[JobRun]


def jobs_status(runtime: Runtime, now: dt.datetime) -> JobsStatus:
    settings = runtime.settings
    depth, error = None, None
    if settings.job_backend == "celery":
        depth, error = _queue_depth(settings.redis_url or "", settings.job_queue)
    due = len(due_tenants(runtime, now))
    with transaction(runtime.sessions, readonly=True) as session:
        runs = list(session.scalars(select(JobRun).order_by(JobRun.name)))
        running = session.scalar(select(func.count()).where(GovernanceState.lease_expires_at > now))
        failing = session.scalar(select(func.count()).where(GovernanceState.failures > 0))
    return JobsStatus(
        backend=settings.job_backend,
        queue=settings.job_queue if settings.job_backend == "celery" else None,
        queue_depth=depth,
        broker_error=error,
        due_now=due,
        running=int(running or 0),
        failing=int(failing or 0),
        runs=runs,
    )


def _queue_depth(redis_url: str, queue: str) -> tuple[int | None, str | None]:
    """Messages waiting in the Celery queue (a Redis list of that name)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        return int(client.llen(queue)), None
    except redis.RedisError as exc:
        return None, f"broker unreachable: {exc}"
    finally:
        client.close()
