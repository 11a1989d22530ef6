"""``tutela gate --iac-out DIR`` against a real ``tutela serve --demo``: a blocked run's remediation
script written for the Enterprise demo tenant, one line and the findings' exit code otherwise."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from tests.cli.test_gate import CI_VARIABLES, KEY, SCRIPT, TF_PLAN, report_id
from tests.serving import DemoServer, free_port
from tutela.cli.gate_remediation import export_script, script_path, terraform_dir
from tutela.cli.main import app
from tutela.scanner.outputs.iac import split_files
from tutela.sdk import Session

ROLE_TEMPLATE = """{
  "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [{
    "type": "Microsoft.Authorization/roleDefinitions",
    "apiVersion": "2022-04-01",
    "name": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
    "properties": {
      "roleName": "ML platform operator",
      "type": "CustomRole",
      "permissions": [{"actions": ["*"], "notActions": []}],
      "assignableScopes": ["[subscription().id]"]
    }
  }]
}"""

runner = CliRunner()


@dataclass(frozen=True)
class Server:
    url: str
    enterprise_key: str
    professional_key: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("gate-iac-out")
    demo = DemoServer(data_dir)
    try:
        [enterprise] = KEY.findall(demo.wait_until_serving())
        env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
        created = subprocess.run(
            [
                str(SCRIPT),
                "admin",
                "create-tenant",
                "--email",
                "o@example.com",
                "--plan",
                "professional",
            ],
            env={**env, "TUTELA_DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        [professional] = KEY.findall(created.stdout)
        yield Server(demo.base_url, enterprise, professional)
    finally:
        demo.stop()


@pytest.fixture(autouse=True)
def _outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def gate(server: Server, key: str, *args: str) -> Result:
    env = {"TUTELA_URL": server.url, "TUTELA_API_KEY": key}
    return runner.invoke(app, ["gate", *args], env=env)


def served(server: Server, path: str) -> httpx.Response:
    response = httpx.get(server.url + path, headers={"X-API-Key": server.enterprise_key})
    assert response.status_code == 200, response.text
    return response


def test_a_blocked_enterprise_run_writes_the_script_the_api_serves(
    server: Server, tmp_path: Path
) -> None:
    out = tmp_path / "remediation" / "nested"  # created
    result = gate(server, server.enterprise_key, "--frameworks", "sr11_7", "--iac-out", str(out))

    assert result.exit_code == 1, result.output
    assert "BLOCKED: 1 critical finding(s)" in result.stdout
    report = report_id(result.stdout)
    path = script_path(out, report)
    assert path.name == f"{report}-remediate.azcli.sh"
    assert path.read_text() == served(server, f"/report/{report}/iac/azcli").text
    assert "ACR-ANON-PULL" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    count = served(server, f"/report/{report}/iac").json()["finding_count"]
    assert count > 0
    assert result.stdout.strip().splitlines()[-1] == (
        f"Remediation script {path} written: it fixes {count} findings."
    )
    assert server.enterprise_key not in result.output


def test_below_enterprise_one_line_no_file_and_the_findings_exit_code(
    server: Server, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ("--iac", str(TF_PLAN), "--fail-on", "high", "--iac-out", str(out))
    result = gate(server, server.professional_key, *args)

    assert result.exit_code == 1, result.output  # the plan's high findings, not the export
    assert "BLOCKED: " in result.stdout
    report_id(result.stdout)  # saved
    assert result.stderr.splitlines() == [
        "warning: Remediation script not exported: the API denied the request (403): This "
        "feature requires the 'enterprise' plan or higher (current plan: 'professional')."
    ]
    assert not out.exists() or not any(out.iterdir())


def test_a_dry_run_has_nothing_to_export_and_says_so(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("--frameworks", "sr11_7", "--dry-run", "--iac-out", str(out))
    result = gate(server, server.enterprise_key, *args)

    assert result.exit_code == 1, result.output
    assert result.stdout.strip().splitlines()[-1] == (
        "--iac-out ignored: a dry run saves no report, so there is no remediation script to export."
    )
    assert not out.exists()


def test_a_passed_run_exports_nothing(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("--frameworks", "sr11_7", "--fail-on", "none", "--iac-out", str(out))
    result = gate(server, server.enterprise_key, *args)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("PASSED")
    assert not out.exists()


def test_an_unwritable_directory_is_a_warning_not_a_failure(server: Server, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    args = ("--frameworks", "sr11_7", "--fail-on", "none", "--max-score-drop", "100")
    passed = gate(server, server.enterprise_key, *args, "--iac-out", str(blocker / "x"))
    assert passed.exit_code == 0  # passed: nothing exported, nothing said
    assert passed.stderr == ""

    blocked = gate(
        server, server.enterprise_key, "--frameworks", "sr11_7", "--iac-out", str(blocker)
    )
    assert blocked.exit_code == 1, blocked.output
    assert re.fullmatch(
        r"warning: Remediation script not exported: \S+/a-file: cannot be created "
        r"\(File exists\)\.\n",
        blocked.stderr,
    )
    assert blocker.read_text() == "not a directory"


def test_an_existing_file_is_kept_unless_it_is_the_same_script(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rich.console import Console

    result = gate(
        server, server.enterprise_key, "--frameworks", "sr11_7", "--iac-out", str(tmp_path)
    )
    report = report_id(result.stdout)
    path = script_path(tmp_path, report)
    script = path.read_text()
    console = Console(width=200)

    with Session(server.url, server.enterprise_key) as session:
        export_script(console, session, report, tmp_path, server.url, server.enterprise_key)
        assert "already there: it fixes" in capsys.readouterr().out
        path.write_text("# edited by hand\n")
        export_script(console, session, report, tmp_path, server.url, server.enterprise_key)
    err = capsys.readouterr().err
    assert "already exists with other content: not overwritten" in err
    assert path.read_text() == "# edited by hand\n"
    assert script.startswith("#!")  # what the first run wrote was the script itself


def test_a_network_error_while_exporting_is_one_line(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rich.console import Console

    nowhere = f"http://127.0.0.1:{free_port()}"
    with Session(nowhere, server.enterprise_key, retries=0) as session:
        export_script(Console(), session, "COMP-1", tmp_path, nowhere, server.enterprise_key)
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"warning: Remediation script not exported: cannot reach {nowhere}: connection refused."
    )
    assert list(tmp_path.iterdir()) == []


def test_a_report_id_that_is_not_a_file_name_is_refused(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rich.console import Console

    with Session(server.url, server.enterprise_key) as session:
        export_script(Console(), session, "../x", tmp_path, server.url, server.enterprise_key)
    assert "not a safe file name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_plan_gets_terraform_files_named_for_the_plan(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("--iac", str(TF_PLAN), "--fail-on", "high", "--iac-out", str(out))
    result = gate(server, server.enterprise_key, *args)

    assert result.exit_code == 1, result.output
    report = report_id(result.stdout)
    folder = terraform_dir(out, report)
    served_files = split_files(served(server, f"/report/{report}/iac/terraform").text)
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert written == sorted(served_files)
    assert any("/" in name for name in written)  # a module's files in its own folder
    for name, text in served_files.items():
        assert (folder / name).read_text() == text
    assert 'resource "azurerm_' in (folder / "tutela_override.tf").read_text()
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(f"Remediation files ({len(served_files)}) written in ")


@pytest.mark.parametrize(("fmt", "suffix"), [("arm", "arm.json"), ("bicep", "bicep")])
def test_a_chosen_format_is_written_as_the_api_serves_it(
    server: Server, tmp_path: Path, fmt: str, suffix: str
) -> None:
    args = ("--frameworks", "sr11_7", "--iac-out", str(tmp_path), "--iac-format", fmt)
    result = gate(server, server.enterprise_key, *args)

    assert result.exit_code == 1, result.output
    report = report_id(result.stdout)
    path = script_path(tmp_path, report, fmt)
    assert path.name == f"{report}-remediate.{suffix}"
    assert path.read_text() == served(server, f"/report/{report}/iac/{fmt}").text


def test_a_run_blocked_only_by_manual_fixes_says_there_is_no_script(
    server: Server, tmp_path: Path
) -> None:
    template = tmp_path / "role.json"
    template.write_text(ROLE_TEMPLATE)
    out = tmp_path / "out"
    args = ("--iac", str(template), "--fail-on", "high", "--iac-out", str(out))
    result = gate(server, server.enterprise_key, *args)

    assert result.exit_code == 1, result.output  # RBAC-CUSTOM-WILDCARD: a manual fix
    report = report_id(result.stdout)
    assert result.stdout.strip().splitlines()[-1] == (
        f"No remediation script: none of report {report}'s findings is fixed by a configuration "
        "change (the portal steps are in each check's remediation)."
    )
    assert not out.exists()
