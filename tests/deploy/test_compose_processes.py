"""deploy/compose.yaml's Tutela services run as plain processes (no Docker engine here): each
service's command and environment are taken from the file (with the image's ENV), only the
hostnames mapped to this machine: postgres to a new empty database, redis to the local Redis
on a queue of this test, smtp to a loopback relay, the platform key secret to a file.

Then, as `docker compose up` would: migrate runs to completion, two API processes answer their
healthcheck, a scan stored through one is read through the other, and the worker, fed by the one
beat, runs the governance scans and mails the drift through the relay.
"""

from __future__ import annotations

import base64
import secrets
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import update
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_URL, service_unavailable
from tests.deploy import layout
from tests.deploy.processes import Processes, answers
from tests.platform import Platform
from tests.server.governance.helpers import governance_reports
from tests.server.notify.loopback import Collector
from tests.server.scans.estates import DEV, link_sample_snapshot, sample_records, upload_snapshot
from tests.serving import free_port
from tutela.server.config import Settings
from tutela.server.db import utcnow
from tutela.server.governance.models import GovernanceState
from tutela.server.migrate import alembic_config, current_revision

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@contextmanager
def empty_postgres_database() -> Iterator[str]:
    """A new PostgreSQL database without a table: the migrate service's to fill; then dropped."""
    admin_dsn = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        connection = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3)
    except Exception as exc:
        service_unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    name = f"tutela_deploy_{uuid.uuid4().hex[:12]}"
    connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


class Machine:
    """This machine's stand-ins for the compose file's hosts and secret."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str, smtp_port: int) -> None:
        self.tmp_path, self.database_url = tmp_path, database_url
        self.redis_url, self.smtp_port = redis_url, smtp_port
        self.queue = f"tutela-deploy-{uuid.uuid4().hex[:8]}"
        self.key_file = tmp_path / "secrets" / "platform_key"
        self.key_file.parent.mkdir()
        self.key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        self.key_file.chmod(0o400)

    def environment(self, service: str, instance: int = 0) -> dict[str, str]:
        env = layout.container_environment(service)
        assert make_url(env["TUTELA_DATABASE_URL"]).host == "postgres"
        assert urlsplit(env["TUTELA_REDIS_URL"]).hostname == "redis"
        assert env["TUTELA_SMTP_HOST"] == "smtp"
        assert env["TUTELA_PLATFORM_KEY_FILE"] == "/run/secrets/platform_key"
        assert env["TUTELA_DATA_DIR"] == "/data"
        data_dir = self.tmp_path / f"{service}-{instance}"  # each container's own /data
        data_dir.mkdir()
        env.update(
            TUTELA_DATABASE_URL=self.database_url,
            TUTELA_REDIS_URL=self.redis_url,
            TUTELA_JOB_QUEUE=self.queue,
            TUTELA_SMTP_HOST="127.0.0.1",
            TUTELA_SMTP_PORT=str(self.smtp_port),
            TUTELA_PLATFORM_KEY_FILE=str(self.key_file),
            TUTELA_DATA_DIR=str(data_dir),
            # Test pace: beat looks for due governance scans every second, not every minute.
            TUTELA_SCHEDULER_INTERVAL_SECONDS="1",
        )
        if "TUTELA_HOST" in env:  # one network namespace here: a port of its own each
            env.update(TUTELA_HOST="127.0.0.1", TUTELA_PORT=str(free_port()))
        if "TUTELA_METRICS_PORT" in env:
            env.update(TUTELA_METRICS_HOST="127.0.0.1", TUTELA_METRICS_PORT=str(free_port()))
        return env

    def settings(self) -> Settings:
        """The same settings, for the test's own view of the database (tenants, reports)."""
        env = self.environment("api", instance=99)
        values = {k.removeprefix("TUTELA_").lower(): v for k, v in env.items() if "TUTELA_" in k}
        values.update(log_format="text", metrics_port=None)
        return Settings(**values)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    logs = tmp_path / "logs"
    logs.mkdir()
    running = Processes(logs)
    try:
        yield running
    finally:
        running.stop_all()


def test_the_compose_services_run_as_processes(
    tmp_path: Path,
    redis_url: str,
    smtp: tuple[Collector, int],
    processes: Processes,
) -> None:
    collector, smtp_port = smtp
    with empty_postgres_database() as database_url:
        machine = Machine(tmp_path, database_url, redis_url, smtp_port)
        head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()

        output = processes.run(
            "migrate", layout.container_command("migrate"), machine.environment("migrate")
        )
        assert current_revision(database_url) == head
        assert f"Database at revision {head}." in output

        health = layout.health_path(layout.service("api")["healthcheck"]["test"])
        urls, api_environments = [], []
        for n in range(layout.service("api")["deploy"]["replicas"]):
            env = machine.environment("api", n)
            api_environments.append(env)
            processes.start(f"api-{n}", layout.container_command("api"), env)
            urls.append(f"http://127.0.0.1:{env['TUTELA_PORT']}")
        assert len(urls) == 2
        for url in urls:
            processes.wait_for(lambda url=url: answers(url + health), f"{url}{health}")
        # The healthcheck itself, as Docker runs it in each API container.
        check = layout.service("api")["healthcheck"]["test"]
        assert check[:2] == ["CMD", "python"]
        for n in range(len(urls)):
            processes.run(f"healthcheck-{n}", [sys.executable, *check[2:]], api_environments[n])
        processes.start("worker", layout.container_command("worker"), machine.environment("worker"))
        processes.start("beat", layout.container_command("beat"), machine.environment("beat"))

        with Platform(machine.settings()) as platform:
            scanner = platform.tenant("enterprise")
            link_sample_snapshot(platform, scanner)
            with httpx.Client(base_url=urls[0], headers=scanner.headers, timeout=60) as first:
                stored = first.post("/scan", json={"frameworks": ["iso42001"]})
            assert stored.status_code == 200, stored.text
            report_id = stored.json()["report_id"]
            with httpx.Client(base_url=urls[1], headers=scanner.headers, timeout=60) as second:
                read = second.get(f"/report/{report_id}")
            assert read.status_code == 200, read.text
            assert read.json()["report_id"] == report_id

            # Governance: beat sends the periodic job, the worker scans the due tenant.
            watched = platform.tenant("professional")
            link_sample_snapshot(platform, watched, clean=True)
            processes.wait_for(
                lambda: governance_reports(platform, watched.id), "the first governance scan"
            )
            upload_snapshot(platform, watched, DEV, sample_records(DEV))  # the gaps return
            _make_due(platform, watched.id)
            [mail] = processes.wait_for(lambda: collector.received, "the drift email")
            assert len(governance_reports(platform, watched.id)) == 2
            owner = platform.client.get("/tenant/me", headers=watched.headers).json()
            assert mail.rcpt_tos == [owner["purchaser_email"]]
            assert b"compliance drift" in mail.content


def _make_due(platform: Platform, tenant_id: str) -> None:
    """Move the tenant's next governance slot to now, as if its interval had passed."""
    with platform.db() as session:
        session.execute(
            update(GovernanceState)
            .where(GovernanceState.tenant_id == tenant_id)
            .values(next_scan_at=utcnow())
        )
