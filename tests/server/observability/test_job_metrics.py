"""Metrics of the scale-out engine: a real `tutela worker` on Redis, and the queue's depth."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from tests.server.observability.otlp import ReceivedSpan, Receiver, otlp_receiver
from tests.server.observability.scrape import sample, scrape
from tests.server.workers import TUTELA, environment, stop_groups
from tests.serving import free_port
from tutela.server.config import Settings
from tutela.server.jobs.celery_app import create_celery
from tutela.server.jobs.registry import KEY_HEALTH, REPORTS_PURGE
from tutela.server.metrics import serve_metrics, stop_metrics

pytestmark = [pytest.mark.redis]


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], redis_url: str) -> Iterator[Settings]:
    queue = f"tutela-test-{uuid.uuid4().hex[:8]}"
    yield settings_factory(
        redis_url=redis_url,
        job_backend="celery",
        job_queue=queue,
        retention_interval_hours=0,
        scheduler_interval_seconds=0,
        metrics_port=free_port(),
    )
    client = redis.Redis.from_url(redis_url)
    client.delete(queue)
    client.close()


def test_queue_depth_is_read_from_the_broker_at_scrape_time(settings: Settings) -> None:
    server = serve_metrics(settings)
    assert settings.metrics_port is not None
    try:
        assert sample(scrape(settings.metrics_port), "tutela_job_queue_depth") == 0
        celery = create_celery(settings)
        for _ in range(3):  # no worker runs: they wait in the queue
            celery.send_task(REPORTS_PURGE)
        assert sample(scrape(settings.metrics_port), "tutela_job_queue_depth") == 3
    finally:
        stop_metrics(server)


def test_no_queue_depth_with_the_in_process_scheduler(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(metrics_port=free_port())
    server = serve_metrics(settings)
    assert settings.metrics_port is not None
    try:
        assert "tutela_job_queue_depth" not in scrape(settings.metrics_port)
    finally:
        stop_metrics(server)


@dataclass
class Worker:
    log: Path
    traces: Receiver


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    """`tutela worker` as an operator starts it, with metrics, JSON logs and traces on."""
    receiver = ExitStack()
    traces = receiver.enter_context(otlp_receiver())
    env = environment(settings)
    env.pop("TUTELA_DATABASE_URL")  # None: the SQLite file under the data dir
    env.pop("TUTELA_SMTP_HOST")
    env["TUTELA_METRICS_PORT"] = str(settings.metrics_port)
    env["TUTELA_LOG_FORMAT"] = "json"
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = f"http://127.0.0.1:{traces.port}/v1/traces"
    env["OTEL_BSP_SCHEDULE_DELAY"] = "100"
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [TUTELA, "worker", "--concurrency", "1"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the worker and its pool process: one group to stop
        )
    try:
        yield Worker(log, traces)
    finally:
        receiver.close()
        stop_groups([process])


def test_a_worker_serves_the_outcomes_of_the_jobs_its_pool_ran(
    settings: Settings, worker: Worker
) -> None:
    assert settings.metrics_port is not None
    celery = create_celery(settings)
    celery.send_task(REPORTS_PURGE)
    celery.send_task(KEY_HEALTH)
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            text = scrape(settings.metrics_port)
            purged = sample(text, "tutela_job_runs_total", job=REPORTS_PURGE, outcome="ok")
            checked = sample(text, "tutela_job_runs_total", job=KEY_HEALTH, outcome="ok")
            if purged == 1 and checked == 1:
                break
        time.sleep(0.2)
    else:
        pytest.fail(f"job outcomes never served: {text[-2000:]}\n{worker.log.read_text()}")
    assert sample(text, "tutela_job_queue_depth") == 0
    assert sample(text, "tutela_job_runs_total", job=REPORTS_PURGE, outcome="failed") == 0

    # Each run is a trace of the worker's, and its log lines carry an id of their own.
    deadline = time.monotonic() + 15
    jobs: dict[object, ReceivedSpan] = {}
    while len(jobs) < 2 and time.monotonic() < deadline:
        spans = worker.traces.wait_for("job")
        jobs = {s.attributes["tutela.job"]: s for s in spans if s.name == "job"}
        time.sleep(0.1)
    purge = jobs[REPORTS_PURGE]
    assert purge.service == "tutela-worker"
    assert purge.attributes["tutela.failures"] == 0
    records = [json.loads(line) for line in worker.log.read_text().splitlines() if line[:1] == "{"]
    finished = next(r for r in records if r.get("event") == "job_finished")
    assert finished["correlation_id"] not in ("-", None)
    assert finished["correlation_id"] in {
        s.attributes["tutela.correlation_id"] for s in jobs.values()
    }
    assert any(r["logger"].startswith("celery.") for r in records)  # Celery's lines: JSON too
