"""The ``tutela`` command: db upgrade, tenants, operator keys, one-line errors and serve --demo."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from tests.serving import DemoServer as Server
from tutela.cli import server_commands
from tutela.cli.main import app
from tutela.server.app import create_app
from tutela.server.config import load_settings

KEY = re.compile(r"\btut_[A-Za-z0-9]+")
runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every command of the test, and the app it checks against, use this data directory."""
    monkeypatch.setenv("TUTELA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables would otherwise fit 80 columns
    return tmp_path


def tutela(*args: str) -> Result:
    return runner.invoke(app, list(args))


def ok(*args: str) -> Result:
    result = tutela(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture
def api(data_dir: Path) -> Iterator[TestClient]:
    """The real app on the CLI's data directory, as ``tutela serve`` would build it."""
    ok("db", "upgrade")
    with TestClient(create_app(load_settings()), raise_server_exceptions=False) as client:
        yield client


def count_rows(data_dir: Path, table: str) -> int:
    with closing(sqlite3.connect(data_dir / "tutela.db")) as db:
        count: int = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        return count


def one_secret(output: str) -> str:
    secrets = KEY.findall(output)
    assert len(secrets) == 1, output
    return str(secrets[0])


def assert_one_line_error(result: Result, *expected: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for text in expected:
        assert text in lines[0]


# --- db, tenants --------------------------------------------------------------------------------


def test_db_upgrade_creates_the_database_and_is_repeatable(data_dir: Path) -> None:
    first = ok("db", "upgrade")
    assert (data_dir / "tutela.db").is_file()
    assert re.search(r"Database at revision \w+\.", first.stdout)
    again = ok("db", "upgrade")
    assert again.stdout == first.stdout


def test_create_tenant_prints_a_key_once_that_works_against_the_app(
    data_dir: Path, api: TestClient
) -> None:
    result = ok("admin", "create-tenant", "--email", "a@bank.example", "--plan", "starter")
    secret = one_secret(result.stdout)
    assert result.stdout.count(secret) == 1
    me = api.get("/tenant/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["plan_id"] == "starter"
    assert me.json()["purchaser_email"] == "a@bank.example"
    assert me.json()["tenant_id"] in result.stdout


# --- one-line errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["admin", "create-tenant", "--email", "a@bank.example", "--plan", "gold"], ["plan"]),
        (["admin", "create-tenant", "--email", "not-an-email", "--plan", "starter"], ["email"]),
        (["keys", "create"], ["--operator", "--tenant"]),
        (["keys", "create", "--operator", "ops@example.com", "--scopes", "nope:x"], ["nope:x"]),
        (["keys", "revoke", "no-such-key"], ["no-such-key"]),
    ],
    ids=["bad-plan", "bad-email", "no-owner", "unknown-scope", "unknown-key"],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    data_dir: Path, args: list[str], expected: list[str]
) -> None:
    assert_one_line_error(tutela(*args), *expected)


def test_failed_commands_change_nothing(data_dir: Path) -> None:
    tutela("admin", "create-tenant", "--email", "a@bank.example", "--plan", "gold")
    tutela("keys", "create", "--operator", "ops@example.com", "--scopes", "nope:x")
    assert count_rows(data_dir, "tenants") == 0
    assert count_rows(data_dir, "api_keys") == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TUTELA_PORT", "notaport"), ("TUTELA_DATABASE_URL", "mysql://x")],
)
def test_bad_setting_is_one_line_naming_the_variable(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert_one_line_error(tutela("db", "upgrade"), f"{variable}:")
    assert not (data_dir / "tutela.db").exists()


# --- operator keys ------------------------------------------------------------------------------


def test_operator_key_lifecycle_create_list_revoke(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app and the CLI are separate runtimes: no cached verification may hide the revocation.
    monkeypatch.setenv("TUTELA_KEY_CACHE_SECONDS", "0")
    # The table's console was made at import, maybe 80 columns wide: "revoked" would wrap.
    monkeypatch.setattr(server_commands.console, "width", 200)
    ok("db", "upgrade")
    with TestClient(create_app(load_settings()), raise_server_exceptions=False) as client:
        created = ok("keys", "create", "--operator", "ops@example.com")
        secret = one_secret(created.stdout)
        match = re.search(r"Key (\S+) for ops@example\.com", created.stdout)
        assert match, created.stdout
        key_id = match.group(1)
        assert client.get("/admin/tenants", headers={"X-API-Key": secret}).status_code == 200

        listed = ok("keys", "list", "--operators")
        assert key_id in listed.stdout
        assert secret[:12] in listed.stdout
        assert secret not in listed.stdout
        assert not KEY.search(listed.stdout.replace(secret[:12], ""))

        revoked = ok("keys", "revoke", key_id)
        assert key_id in revoked.stdout
        assert client.get("/admin/tenants", headers={"X-API-Key": secret}).status_code == 401
        assert "revoked" in ok("keys", "list", "--operators").stdout


NASTY_NAME = (
    "\x1b[31mred\x1b[0m \x1b]8;;https://x.example\x07a\x1b]8;;\x07 \x9b2J"
    "[bold]b[/bold] [link=https://x.example]c[/link]\r\u202eevil"
)


def test_names_are_listed_without_terminal_sequences_or_markup(
    data_dir: Path, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tenant user's key named ``ESC[31m…`` coloured the operator's terminal."""
    monkeypatch.setattr(server_commands.console, "width", 400)
    created = ok("admin", "create-tenant", "--email", "a@bank.example", "--plan", "starter")
    tenant_id = re.search(r"Tenant (\S+) created", created.stdout)
    assert tenant_id, created.stdout
    key = api.post(
        "/api-keys",
        headers={"X-API-Key": one_secret(created.stdout)},
        json={"name": NASTY_NAME, "scopes": ["tenant:read"]},
    )
    assert key.status_code == 201, key.text

    listed = ok("keys", "list", "--tenant", tenant_id.group(1)).stdout

    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", listed), repr(listed)
    assert "red a [bold]b[/bold] [link=https://x.example]c[/link]evil" in listed


# --- serve --demo, a real process ---------------------------------------------------------------


@pytest.fixture
def start_server() -> Iterator[Callable[[Path], Server]]:
    """Starts ``tutela serve --demo``; every process started is stopped, whatever happens."""
    started: list[Server] = []

    def start(data_dir: Path) -> Server:
        started.append(Server(data_dir))
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def _demo_tenant_id(output: str) -> str:
    match = re.search(r"Demo tenant (\S+) ", output)
    assert match, output
    return match.group(1)


def test_serve_demo_creates_the_demo_tenant_once(
    tmp_path: Path, start_server: Callable[[Path], Server]
) -> None:
    first = start_server(tmp_path)
    output = first.wait_until_serving()
    secret = one_secret(output)
    tenant_id = _demo_tenant_id(output)
    assert f"Serving on http://127.0.0.1:{first.port}" in output
    health = httpx.get(f"{first.base_url}/health", timeout=5)
    assert health.json()["status"] == "ok"
    me = httpx.get(f"{first.base_url}/tenant/me", headers={"X-API-Key": secret}, timeout=5)
    assert me.status_code == 200
    assert me.json()["plan_id"] == "enterprise"
    assert me.json()["tenant_id"] == tenant_id
    # The portal: the printed link lets the owner choose a password, and signs them in.
    [token] = re.findall(r"/portal/accept-invitation\?token=([A-Za-z0-9_-]+)", output)
    with httpx.Client(base_url=first.base_url, timeout=5) as browser:
        page = browser.get(f"/portal/accept-invitation?token={token}")
        assert page.status_code == 200
        accepted = browser.post(
            "/auth/invitations/accept", json={"token": token, "password": "demo owner passphrase"}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["email"] == "owner@demo.tutela.local"
        assert browser.get("/portal/").status_code == 200
    first.stop()

    second = start_server(tmp_path)
    again = second.wait_until_serving()
    assert "already exists" in again
    assert not KEY.search(again)
    assert "accept-invitation" not in again
    assert _demo_tenant_id(again) == tenant_id
    me = httpx.get(f"{second.base_url}/tenant/me", headers={"X-API-Key": secret}, timeout=5)
    assert me.status_code == 200
    assert me.json()["tenant_id"] == tenant_id
    second.stop()

    assert count_rows(tmp_path, "tenants") == 1
