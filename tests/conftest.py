"""Shared fixtures: a platform per test (SQLite, or PostgreSQL), tenants A and B, keys per scope.

PostgreSQL and Redis are the local services (127.0.0.1). When one is down its tests are skipped
with the reason printed; with TUTELA_REQUIRE_SERVICES=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.platform import Platform
from tests.ratelimits import clear_of_a_window_edge, small
from tutela.server.config import Settings
from tutela.server.migrate import upgrade

REQUIRE_SERVICES = os.environ.get("TUTELA_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get(
    "TUTELA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TUTELA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_KEEP_ENV = {"TUTELA_REQUIRE_SERVICES", "TUTELA_TEST_POSTGRES_URL", "TUTELA_TEST_REDIS_URL"}


def service_unavailable(name: str, reason: str) -> None:
    message = f"{name} unavailable: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (TUTELA_REQUIRE_SERVICES=1: the service is required)")
    pytest.skip(f"{message}; start it to run this test")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TUTELA_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("TUTELA_") and name not in _KEEP_ENV:
            monkeypatch.delenv(name)


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped when the block ends."""
    try:
        import psycopg

        admin_dsn = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        connection = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3)
    except Exception as exc:
        service_unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    name = f"tutela_test_{uuid.uuid4().hex[:12]}"
    connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture
def own_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test alone (other tests' tenants would be due too)."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        service_unavailable("Redis", str(exc).strip().splitlines()[0])
    return REDIS_URL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "tutela.db"
    upgrade(f"sqlite:///{path}")
    return path


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "rate_limit": "100000/minute",
        "tenant_rate_limit": "100000/minute",
        "log_level": "DEBUG",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings_factory(tmp_path: Path, sqlite_template: Path):  # type: ignore[no-untyped-def]
    def factory(**overrides: object) -> Settings:
        limits = ("rate_limit", "tenant_rate_limit", "sign_in_limit")
        if any(small(overrides[name]) for name in limits if overrides.get(name)):
            clear_of_a_window_edge()  # the test counts refusals: one window (tests/ratelimits.py)
        if "database_url" not in overrides:
            target = tmp_path / "tutela.db"
            if not target.exists():
                shutil.copy(sqlite_template, target)
        return make_settings(tmp_path, **overrides)

    return factory


@pytest.fixture
def platform(settings_factory) -> Iterator[Platform]:  # type: ignore[no-untyped-def]
    """The API on an embedded SQLite store."""
    with Platform(settings_factory()) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgres"])
def any_platform(request: pytest.FixtureRequest, settings_factory) -> Iterator[Platform]:  # type: ignore[no-untyped-def]
    """The API on each supported store: the test runs once per backend."""
    if request.param == "postgres":
        settings = settings_factory(database_url=request.getfixturevalue("postgres_url"))
    else:
        settings = settings_factory()
    with Platform(settings) as running:
        yield running
