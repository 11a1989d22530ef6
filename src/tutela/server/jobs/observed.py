"""What every job run leaves for operators: its own correlation id, a span, a counted outcome."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tutela.server.metrics import JOB_RUNS
from tutela.server.observability import correlation_id, reset_correlation_id, set_correlation_id
from tutela.server.tracing import span

if TYPE_CHECKING:
    from tutela.server.jobs.registry import JobResult


@contextmanager
def observed_job(name: str) -> Iterator[list[JobResult]]:
    """Around one run of job ``name``; the block appends the run's result.

    Outside a request the run gets a correlation id of its own, so its log lines (and those of
    the scans it runs) can be told from another run's. The outcome counted in
    ``tutela_job_runs_total`` is ``failed`` when the run raised or reports failures.
    """
    token = set_correlation_id() if correlation_id() == "-" else None
    results: list[JobResult] = []
    try:
        with span("job", {"tutela.job": name}) as current:
            try:
                yield results
            except Exception:
                JOB_RUNS.labels(name, "failed").inc()
                raise
            failures = results[-1].failures if results else 0
            JOB_RUNS.labels(name, "failed" if failures else "ok").inc()
            current.set_attribute("tutela.failures", failures)
    finally:
        if token is not None:
            reset_correlation_id(token)
