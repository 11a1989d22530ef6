"""What ``tutela`` imports to start: each command only what it needs (issue 22, start-up).

A driver runs the console script's entry point in a fresh interpreter and writes the modules
loaded when the process ends, however it ends (a scan leaves through ``os._exit``, which runs
no ``atexit`` handler). Module sets, not timings: those are bench/startup.py's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from tutela.cli import main
from tutela.cli.main import SUBCOMMANDS, app, listed_help

DRIVER = """
import os, sys
out = sys.argv.pop(1)

def dump():
    with open(out, "w") as f:
        f.write("\\n".join(sorted(sys.modules)))

leave = os._exit

def leaving(code):
    dump()
    leave(code)

os._exit = leaving
sys.argv[0] = "tutela"
from tutela.cli.main import run
try:
    run()
finally:
    dump()
"""

# Never needed to start the CLI or scan offline: the server extra, HTTP, templates, YAML.
SERVER_AND_NETWORK = (
    "tutela.server",
    "tutela.sdk",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "pydantic_settings",
    "uvicorn",
    "celery",
    "redis",
    "httpx",
    "openai",
    "azure",
    "jinja2",
    "pygal",
)


def _modules(tmp_path: Path, *args: str) -> set[str]:
    out = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(out), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(out.read_text().split())


def _loaded(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages))


def _storage_account_export(tmp_path: Path) -> Path:
    resource = {
        "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-one"
        "/providers/Microsoft.Storage/storageAccounts/stone",
        "name": "stone",
        "type": "microsoft.storage/storageaccounts",
        "location": "westeurope",
        "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False},
    }
    path = tmp_path / "one.json"
    path.write_bytes(orjson.dumps({"count": 1, "data": [resource]}))
    return path


def test_help_imports_no_subcommand_and_no_rich(tmp_path: Path) -> None:
    modules = _modules(tmp_path, "--help")
    assert _loaded(modules, *SERVER_AND_NETWORK) == []
    assert _loaded(modules, "tutela.scanner", "yaml", "pydantic", "rich", "msgspec") == []
    cli = _loaded(modules, "tutela.cli")
    assert cli == ["tutela.cli", "tutela.cli.main", "tutela.cli.one_shot"]


def test_a_one_resource_scan_imports_the_scanner_only(tmp_path: Path) -> None:
    export = _storage_account_export(tmp_path)
    args = ("scan", str(export), "--format", "table", "--output", "/dev/null", "--fail-on", "none")
    modules = _modules(tmp_path, *args)
    assert "tutela.scanner.engine.assess" in modules  # it did scan
    assert _loaded(modules, *SERVER_AND_NETWORK) == []
    # the catalogue comes from parsed.json, and no .tutela.yaml was there to read
    assert _loaded(modules, "yaml") == []
    # the help's renderer, and the commands not run
    assert _loaded(modules, "typer.rich_utils", "markdown_it", "pygments") == []
    others = ("gate", "export", "checks", "server_commands", "job_commands", "lifecycle_commands")
    assert _loaded(modules, *(f"tutela.cli.{name}" for name in others)) == []
    # the source it reads and the output it writes, no other
    assert "tutela.scanner.sources.arg" in modules
    assert _loaded(modules, "tutela.scanner.sources.arm", "tutela.scanner.sources.terraform") == []
    assert "tutela.scanner.outputs.table" in modules
    outputs = ("sarif", "junit", "csv", "html")
    assert _loaded(modules, *(f"tutela.scanner.outputs.{name}" for name in outputs)) == []


def test_the_listing_is_the_registry_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    commands = result.output.split("Commands:\n", 1)[1]
    names = [line.split()[0] for line in commands.splitlines() if not line.startswith("    ")]
    assert names == [entry.name for entry in SUBCOMMANDS]
    for entry in SUBCOMMANDS:
        assert " ".join(entry.help.split()) in " ".join(commands.split())  # whole, not cut


def test_every_registered_help_is_the_commands_own() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, main.LazyGroup)
    with typer.Context(group) as ctx:
        for entry in SUBCOMMANDS:
            command = group.get_command(ctx, entry.name)
            assert listed_help(command) == entry.help, entry.name


def _every_command_path() -> list[list[str]]:
    """Every command and group under ``tutela``, as the arguments that name it."""
    found: list[list[str]] = []

    def walk(command: object, path: list[str], ctx: typer.Context) -> None:
        found.append(path)
        if isinstance(command, typer.core.TyperGroup):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name], ctx)

    group = typer.main.get_command(app)
    with typer.Context(group) as ctx:
        for entry in SUBCOMMANDS:
            walk(group.get_command(ctx, entry.name), [entry.name], ctx)
    return found


@pytest.mark.parametrize("path", _every_command_path(), ids=" ".join)
def test_every_commands_help_loads(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: tutela {' '.join(path)} ")


def test_a_mistyped_command_still_gets_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["scna"])
    assert result.exit_code == 2
    assert "No such command 'scna'. Did you mean 'scan'?" in result.output
