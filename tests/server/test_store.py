"""The store on each backend: migrations match the models, UTC times, one transaction per use."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from tests.conftest import make_settings
from tests.platform import Platform
from tutela.server.db import Base, after_commit, transaction
from tutela.server.errors import PlanRestriction
from tutela.server.keys.models import ApiKey
from tutela.server.migrate import alembic_config, upgrade
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.repository import UserRepository


def test_migrations_match_the_models(any_platform: Platform) -> None:
    with any_platform.runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
        head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
        assert context.get_current_revision() == head


def test_times_come_back_as_aware_utc(any_platform: Platform) -> None:
    tenant = any_platform.tenant()
    key_id = any_platform.key_id(tenant.owner_key)
    with any_platform.db() as session:
        key = session.get(ApiKey, key_id)
        assert key is not None
        assert key.created_at.tzinfo is not None
        assert key.created_at.utcoffset() == dt.timedelta(0)
        assert key.expires_at - key.created_at == dt.timedelta(days=30)


def test_a_failed_use_case_writes_nothing(any_platform: Platform) -> None:
    """A plan refusal raised mid-transaction rolls back what was already written."""
    tenant = any_platform.tenant("free_trial")

    def refuse_half_way() -> None:
        with any_platform.db() as session:
            row = session.get(Tenant, tenant.id)
            assert row is not None
            row.name = "half-written"
            raise PlanRestriction("refused")

    with pytest.raises(PlanRestriction):
        refuse_half_way()
    with any_platform.db() as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        assert row.name != "half-written"


def test_after_commit_runs_only_on_commit(any_platform: Platform) -> None:
    ran: list[str] = []
    with any_platform.db() as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]

    def fail_after_registering() -> None:
        with any_platform.db() as session:
            after_commit(session, lambda: ran.append("rolled back"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_registering()
    assert ran == ["committed"]


def test_user_lookup_is_tenant_scoped(any_platform: Platform) -> None:
    a, b = any_platform.tenant(), any_platform.tenant()
    with any_platform.db() as session:
        users = UserRepository(session)
        assert users.get(a.id, a.owner_id) is not None
        assert users.get(b.id, a.owner_id) is None


def test_api_flow_on_each_backend(any_platform: Platform) -> None:
    tenant = any_platform.tenant("starter")
    response = any_platform.client.put(
        "/tenant/subscriptions",
        headers=tenant.headers,
        json={"subscription_ids": ["3f8a2b1c-0000-4000-8000-000000000001"]},
    )
    assert response.status_code == 200
    with any_platform.db() as session:
        stored = session.scalars(select(Tenant).where(Tenant.id == tenant.id)).one()
        assert [s.subscription_id for s in stored.subscriptions] == [
            "3f8a2b1c-0000-4000-8000-000000000001"
        ]


def test_sqlite_runs_in_wal_mode(platform: Platform) -> None:
    with transaction(platform.runtime.sessions, readonly=True) as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_postgres_backend_is_really_postgres(postgres_url: str, settings_factory) -> None:  # type: ignore[no-untyped-def]
    with Platform(settings_factory(database_url=postgres_url)) as platform:
        assert platform.runtime.engine.dialect.name == "postgresql"
        assert platform.client.get("/health").json()["status"] == "ok"


def test_the_sqlite_database_is_created_private(tmp_path: Path) -> None:
    """Like the platform key: the database, its -wal and -shm files are the owner's alone."""
    settings = make_settings(tmp_path / "data")
    previous = os.umask(0o022)  # a common umask: without care, files are world-readable
    try:
        settings.data_dir.mkdir()
        upgrade(settings.resolved_database_url)
        with Platform(settings) as platform:
            platform.tenant("starter")  # a write: the -wal and -shm files exist now
            database = Path(make_url(settings.resolved_database_url).database or "")
            files = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
            assert all(path.exists() for path in files), files
            assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in files} == {
                path.name: 0o600 for path in files
            }
    finally:
        os.umask(previous)
