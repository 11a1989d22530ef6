"""GET /health/ready: 200 when the database, the broker and the platform key are usable, else 503.

Each failure is real: a database or a Redis on a closed port, a SQLite file that cannot be
opened, a key file removed or replaced under the running process.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.platform import Platform
from tests.serving import free_port
from tutela.server.config import Settings

READY = {"database": "ok", "broker": "not configured", "platform_key": "ok"}


@contextmanager
def running(settings: Settings) -> Iterator[Platform]:
    with Platform(settings) as platform:
        yield platform


def ready(platform: Platform) -> tuple[int, dict[str, object]]:
    started = time.monotonic()
    response = platform.client.get("/health/ready")
    assert time.monotonic() - started < 5  # bounded, whatever is down
    body: dict[str, object] = response.json()
    return response.status_code, body


def test_ready_on_each_store(any_platform: Platform) -> None:
    assert ready(any_platform) == (200, {"status": "ready", "checks": READY})
    health = any_platform.client.get("/health")
    assert health.status_code == 200
    assert set(health.json()) == {"status", "version"}  # liveness keeps its public shape


def test_ready_with_the_broker(settings_factory: Callable[..., Settings], redis_url: str) -> None:
    with running(settings_factory(redis_url=redis_url)) as platform:
        assert ready(platform) == (200, {"status": "ready", "checks": {**READY, "broker": "ok"}})


def test_broker_unreachable(settings_factory: Callable[..., Settings]) -> None:
    url = f"redis://:hunter2secret@127.0.0.1:{free_port()}/0"
    with running(settings_factory(redis_url=url)) as platform:
        status, body = ready(platform)
    assert status == 503
    assert body["detail"] == "Not ready: broker unreachable"
    assert body["checks"] == {**READY, "broker": "unreachable"}
    assert "hunter2secret" not in str(body)


def test_postgres_unreachable(settings_factory: Callable[..., Settings]) -> None:
    url = f"postgresql+psycopg://tutela:pw@127.0.0.1:{free_port()}/tutela"
    with running(settings_factory(database_url=url)) as platform:
        status, body = ready(platform)
        assert platform.client.get("/health").status_code == 503
    assert status == 503
    assert body["detail"] == "Not ready: database unavailable"
    assert body["checks"] == {**READY, "database": "unavailable"}


def test_postgres_database_dropped(
    settings_factory: Callable[..., Settings], own_postgres_url: str
) -> None:
    import psycopg

    with running(settings_factory(database_url=own_postgres_url)) as platform:
        assert ready(platform)[0] == 200
        platform.runtime.engine.dispose()
        base, _, name = own_postgres_url.rpartition("/")
        admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        status, body = ready(platform)
    assert status == 503
    assert body["checks"] == {**READY, "database": "unavailable"}


def test_sqlite_file_unusable(settings_factory: Callable[..., Settings], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'tutela.db'}"
    with running(settings_factory(database_url=url)) as platform:
        status, body = ready(platform)
    assert status == 503
    assert body["checks"] == {**READY, "database": "unavailable"}


@pytest.mark.parametrize("change", ["removed", "replaced", "garbled"])
def test_platform_key_file(any_platform: Platform, change: str) -> None:
    key_file = any_platform.settings.resolved_platform_key_file
    assert ready(any_platform)[0] == 200
    if change == "removed":
        key_file.unlink()
        expected = "unreadable: the key file is missing"
    elif change == "replaced":
        key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        expected = "changed: not the key this process runs with"
    else:
        key_file.write_text("not base64 at all\n")
        expected = "unreadable"
    status, body = ready(any_platform)
    assert status == 503
    assert body["detail"] == f"Not ready: platform_key {expected}"
    assert body["checks"] == {**READY, "platform_key": expected}
    assert not key_file.exists() or change != "removed"  # the check never writes a new key
