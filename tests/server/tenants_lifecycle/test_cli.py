"""`tutela admin export-tenant / delete-tenant / cancel-deletion / purge-tenants`."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from tests.platform import Platform, TenantCtx
from tests.server.tenants_lifecycle.helpers import audit_actions, rows_of
from tutela.cli.main import app
from tutela.server.config import Settings


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def settings(settings_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    made: Settings = settings_factory()
    monkeypatch.setenv("TUTELA_DATA_DIR", str(made.data_dir))
    return made


@pytest.fixture
def tenant(settings: Settings) -> TenantCtx:
    with Platform(settings) as platform:
        return platform.tenant("starter")


def test_export_tenant_writes_the_archive(
    settings: Settings, tenant: TenantCtx, tmp_path: Path
) -> None:
    output = tmp_path / "leaving.zip"

    result = run("admin", "export-tenant", tenant.id, "--output", str(output))

    assert result.exit_code == 0, result.output
    assert f"Tenant {tenant.id} exported to {output}" in result.output
    with zipfile.ZipFile(output) as archive:
        manifest = orjson.loads(archive.read("manifest.json"))
    assert manifest["tenant_id"] == tenant.id
    assert manifest["counts"]["users"] == 1
    assert list((settings.data_dir / "exports").glob("*")) == []  # moved, not copied
    again = run("admin", "export-tenant", tenant.id, "--output", str(output))
    assert again.exit_code == 1
    assert again.output.strip() == f"error: {output} exists already; give another --output"


def test_delete_cancel_and_purge_now(settings: Settings, tenant: TenantCtx) -> None:
    too_soon = run("admin", "delete-tenant", tenant.id, "--now")
    assert too_soon.exit_code == 1
    assert "is not marked for deletion" in too_soon.output
    assert len(too_soon.output.strip().splitlines()) == 1

    requested = run("admin", "delete-tenant", tenant.id)
    assert requested.exit_code == 0, requested.output
    assert "marked for deletion" in requested.output
    cancelled = run("admin", "cancel-deletion", tenant.id)
    assert cancelled.exit_code == 0, cancelled.output
    assert "it is active again" in cancelled.output

    assert run("admin", "delete-tenant", tenant.id).exit_code == 0
    assert run("admin", "purge-tenants").output.strip() == "Purged 0 tenant(s) (0 report(s))."
    purged = run("admin", "delete-tenant", tenant.id, "--now")

    assert purged.exit_code == 0, purged.output
    assert "purged" in purged.output
    with Platform(settings) as platform:
        assert set(rows_of(platform, tenant.id).values()) == {0}
        actions = [a for a in audit_actions(platform, tenant.id) if a.startswith("tenant.")]
    assert actions == [
        "tenant.created",
        "tenant.deletion_requested",
        "tenant.deletion_cancelled",
        "tenant.deletion_requested",
        "tenant.purged",
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["export-tenant", "nope", "--output", "{tmp}/x.zip"],
        ["delete-tenant", "nope"],
        ["delete-tenant", "nope", "--now"],
        ["cancel-deletion", "nope"],
    ],
)
def test_an_unknown_tenant_is_one_line(
    settings: Settings, tmp_path: Path, command: list[str]
) -> None:
    result = run("admin", *[part.replace("{tmp}", str(tmp_path)) for part in command])

    assert result.exit_code == 1
    assert result.output.strip() == "error: Tenant not found"
    assert not (tmp_path / "x.zip").exists()
