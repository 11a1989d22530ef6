"""``tutela keys list`` at 80 columns (a pipe, a narrow terminal): every line fits, and no id,
prefix, status, date or scope is cut or folded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutela.cli import server_commands
from tutela.cli.main import app

runner = CliRunner()
SCOPES = ["scan:run", "report:read", "tenant:read", "governance:write"]


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_keys_list_is_readable_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTELA_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(server_commands.console, "width", 80)
    ok("db", "upgrade")
    created = ok("admin", "create-tenant", "--email", "a@bank.example", "--plan", "starter")
    tenant = re.search(r"Tenant (\S+) created", created)
    assert tenant, created
    made = ok(
        "keys",
        "create",
        "--tenant",
        tenant.group(1),
        "--email",
        "a@bank.example",
        "--scopes",
        ",".join(SCOPES),
    )
    key_ids = re.findall(r"Key (\S+) for", made)
    assert key_ids, made

    listed = ok("keys", "list", "--tenant", tenant.group(1))

    lines = listed.splitlines()
    assert max(len(line) for line in lines) <= 80, listed
    words = set(listed.replace(",", " ").split())
    for key_id in key_ids:
        assert key_id in words, listed
    assert re.search(r"\btut_\w+…", listed), listed  # the prefix, whole
    assert "active" in words
    assert re.search(r"\b\d{4}-\d{2}-\d{2}\b", listed)  # the expiry date, on one line
    for scope in SCOPES:
        assert scope in words, listed
