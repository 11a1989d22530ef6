"""Prometheus metrics of every process, and the listener that serves them off the public port.

The metrics live in prometheus_client's default registry; ``serve_metrics`` starts its own
HTTP listener at ``TUTELA_METRICS_HOST:TUTELA_METRICS_PORT`` (``tutela serve``, ``tutela worker``
and ``tutela beat`` each, so each needs its own port). Labels are bounded sets chosen by the
code (route templates, job names, severities): never a tenant id, a key prefix or user input.

A Celery worker runs its tasks in forked child processes: ``tutela worker`` sets
``PROMETHEUS_MULTIPROC_DIR`` before this module is first imported, so every process writes its
values to files in one directory, which the worker's listener reads (multiprocess mode).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tutela.server.errors import DomainError

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.metrics_core import Metric

    from tutela.server.config import Settings

log = logging.getLogger("tutela.metrics")

HTTP_REQUESTS = Counter(
    "tutela_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "tutela_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
)
SCANS = Counter(
    "tutela_scans",
    "Scans by type (subscriptions, iac, governance) and outcome (stored, dry_run, refused, "
    "failed).",
    ["type", "outcome"],
)
SCAN_DURATION = Histogram(
    "tutela_scan_duration_seconds",
    "Time the engine took to assess an estate (one scan, before storing).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
FINDINGS = Counter(
    "tutela_findings",
    "Failed findings of stored reports, by severity.",
    ["severity"],
)
JOB_RUNS = Counter(
    "tutela_job_runs",
    "Background job runs by job name and outcome (ok, failed).",
    ["job", "outcome"],
)
KEY_CACHE = Counter(
    "tutela_key_cache_requests",
    "API-key verifications answered from this process's key cache (hit) or not (miss).",
    ["result"],
)
SEVERITIES = ("critical", "high", "medium", "low")


@contextmanager
def observed_scan(scan_type: str, *, dry_run: bool = False) -> Iterator[None]:
    """Count the scan the block runs: ``stored`` (or ``dry_run``), or on an error ``refused``
    (a domain error: quota, plan, input) or ``failed``."""
    try:
        yield
    except DomainError:
        SCANS.labels(scan_type, "refused").inc()
        raise
    except Exception:
        SCANS.labels(scan_type, "failed").inc()
        raise
    SCANS.labels(scan_type, "dry_run" if dry_run else "stored").inc()


def count_findings(header: Mapping[str, Any]) -> None:
    """A stored report's failed findings, from its header's ``critical_count`` and the like."""
    for severity in SEVERITIES:
        count = header.get(f"{severity}_count") or 0
        if count:
            FINDINGS.labels(severity).inc(count)


class QueueDepthCollector(Collector):
    """``tutela_job_queue_depth``: messages waiting in the Celery queue, read at scrape time."""

    def __init__(self, redis_url: str, queue: str) -> None:
        self.redis_url = redis_url
        self.queue = queue

    def collect(self) -> Iterable[Metric]:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=1)
        try:
            depth = int(client.llen(self.queue))
        except redis.RedisError as exc:
            # No sample rather than a wrong one; the scrape itself still succeeds.
            log.warning("queue_depth_unavailable error=%s", type(exc).__name__)
            return
        finally:
            client.close()
        gauge = GaugeMetricFamily(
            "tutela_job_queue_depth", "Messages waiting in the Celery job queue."
        )
        gauge.add_metric([], depth)
        yield gauge


class _Default(Collector):
    """The default registry, as one collector of a listener's own registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def metrics_registry(settings: Settings) -> CollectorRegistry:
    """What a listener serves: this process's metrics, or every worker process's in
    multiprocess mode, and the queue depth when Celery runs the jobs."""
    registry = CollectorRegistry()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Default())
    if settings.job_backend == "celery" and settings.redis_url:
        registry.register(QueueDepthCollector(settings.redis_url, settings.job_queue))
    return registry


def serve_metrics(settings: Settings) -> WSGIServer | None:
    """Start the metrics listener when ``TUTELA_METRICS_PORT`` is set; None otherwise."""
    if settings.metrics_port is None:
        return None
    server, _thread = start_http_server(
        settings.metrics_port, settings.metrics_host, registry=metrics_registry(settings)
    )
    log.info("metrics_listening host=%s port=%s", settings.metrics_host, settings.metrics_port)
    return server


def stop_metrics(server: WSGIServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()
