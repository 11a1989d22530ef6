"""tutela db backup / restore (issue 21, point 5, SQLite): a backup taken while the platform
serves, restored into a fresh data dir, reads every report as before; bad backups and targets
are refused in one line and lose nothing."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from tests.conftest import POSTGRES_ADMIN_URL, make_settings
from tests.platform import Platform, TenantCtx
from tests.server.insights.helpers import stored
from tutela.cli.main import app
from tutela.server.backup import DATABASE, KEY, MANIFEST, BackupError, backup, restore
from tutela.server.migrate import upgrade


def _reports(platform: Platform, tenant: TenantCtx, ids: list[str]) -> dict[str, Any]:
    bodies = {}
    for report_id in ids:
        response = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
        assert response.status_code == 200, response.text
        bodies[report_id] = response.json()
    return bodies


def test_a_backup_taken_while_serving_restores_into_a_fresh_data_dir_and_reads_every_report(
    settings_factory: Any, tmp_path: Path
) -> None:
    with Platform(settings_factory()) as platform:
        tenant = platform.tenant("enterprise")
        ids = [stored(platform, tenant) for _ in range(3)]
        before = _reports(platform, tenant, ids)
        manifest = backup(platform.settings, tmp_path / "backup")  # the platform keeps serving
        later = stored(platform, tenant)  # after the backup: not in it

    assert manifest.platform_key
    assert sorted(os.listdir(tmp_path / "backup")) == sorted([DATABASE, KEY, MANIFEST])
    assert (tmp_path / "backup" / KEY).stat().st_mode & 0o077 == 0

    fresh = make_settings(tmp_path / "fresh")
    restored = restore(fresh, tmp_path / "backup")
    assert restored.revision == manifest.revision
    with Platform(fresh) as platform:
        assert _reports(platform, tenant, ids) == before
        missing = platform.client.get(f"/report/{later}", headers=tenant.headers)
        assert missing.status_code == 404


def test_restore_refuses_an_existing_database_a_changed_file_and_postgresql(
    settings_factory: Any, tmp_path: Path, postgres_url: str
) -> None:
    settings = settings_factory()
    with Platform(settings) as platform:
        platform.tenant("starter")
    backup(settings, tmp_path / "backup")

    with pytest.raises(BackupError, match=r"a database exists at .*--force"):
        restore(settings, tmp_path / "backup")
    with pytest.raises(BackupError, match="not an empty folder"):
        backup(settings, tmp_path / "backup")

    fresh = make_settings(tmp_path / "fresh")
    with (tmp_path / "backup" / DATABASE).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BackupError, match="does not match the manifest"):
        restore(fresh, tmp_path / "backup")
    assert not (tmp_path / "fresh" / DATABASE).exists()  # nothing half-restored

    postgres = make_settings(tmp_path / "pg", database_url=postgres_url)
    with pytest.raises(BackupError, match="pg_dump"):
        backup(postgres, tmp_path / "pg-backup")


def test_the_cli_backs_up_and_restores_and_says_what_is_wrong_in_one_line(
    settings_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_factory()
    with Platform(settings) as platform:
        tenant = platform.tenant("enterprise")
        report_id = stored(platform, tenant)
    monkeypatch.setenv("TUTELA_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()

    made = runner.invoke(app, ["db", "backup", str(tmp_path / "b")])
    assert made.exit_code == 0, made.output
    assert "Backup written to" in made.output
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text())
    assert manifest["platform_key"] is True

    again = runner.invoke(app, ["db", "backup", str(tmp_path / "b")])
    assert again.exit_code != 0
    assert "not an empty folder" in again.output
    assert "Traceback" not in again.output

    monkeypatch.setenv("TUTELA_DATA_DIR", str(tmp_path / "fresh"))
    done = runner.invoke(app, ["db", "restore", str(tmp_path / "b")])
    assert done.exit_code == 0, done.output
    with Platform(make_settings(tmp_path / "fresh")) as platform:
        response = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
        assert response.status_code == 200

    refused = runner.invoke(app, ["db", "restore", str(tmp_path / "nothing")])
    assert refused.exit_code != 0
    assert "not a Tutela backup" in refused.output


def test_a_key_given_in_the_environment_is_not_copied_and_the_manifest_says_so(
    settings_factory: Any, tmp_path: Path
) -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    settings = settings_factory(platform_key=key)
    with Platform(settings) as platform:
        platform.tenant("starter")

    manifest = backup(settings, tmp_path / "backup")

    assert manifest.platform_key is False
    assert not (tmp_path / "backup" / KEY).exists()
    assert key not in (tmp_path / "backup" / MANIFEST).read_text()
    restored = restore(make_settings(tmp_path / "fresh", platform_key=key), tmp_path / "backup")
    assert restored.revision == manifest.revision


def test_the_documented_postgresql_procedure_restores_every_report(
    own_postgres_url: str, tmp_path: Path
) -> None:
    """docs/backup.md, PostgreSQL: pg_dump while serving, the key file beside it, pg_restore
    into an empty database, tutela db upgrade; the restored platform reads every report."""
    source = make_settings(tmp_path / "a", database_url=own_postgres_url)
    with Platform(source) as platform:
        tenant = platform.tenant("enterprise")
        ids = [stored(platform, tenant) for _ in range(2)]
        before = _reports(platform, tenant, ids)
        dump = tmp_path / "tutela.dump"
        _run("pg_dump", "--format=custom", f"--file={dump}", _libpq(own_postgres_url))
    key = tmp_path / "tutela-platform.key"
    shutil.copyfile(source.resolved_platform_key_file, key)

    admin_dsn = _libpq(POSTGRES_ADMIN_URL)
    name = f"tutela_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    restored_url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    try:
        _run("pg_restore", "--no-owner", f"--dbname={_libpq(restored_url)}", str(dump))
        target = make_settings(tmp_path / "b", database_url=restored_url)
        target.data_dir.mkdir(parents=True)
        shutil.copyfile(key, target.resolved_platform_key_file)
        upgrade(restored_url)  # tutela db upgrade
        with Platform(target) as platform:
            assert _reports(platform, tenant, ids) == before
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _run(*command: str) -> None:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed (the postgresql-client package)")
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
