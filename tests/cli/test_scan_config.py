"""``tutela scan`` reads its options from ``.tutela.yaml``: flag over file over default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.cli.test_scan import account
from tutela.cli.main import app


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory holding an estate with high findings and no critical one."""
    root = tmp_path / "project"
    (root / "infra").mkdir(parents=True)
    estate = {"data": [account("oai-open", publicNetworkAccess="Enabled")]}
    (root / "infra" / "estate.json").write_text(json.dumps(estate))
    monkeypatch.chdir(root)
    return root


def scan(*args: str) -> Any:
    return CliRunner().invoke(app, ["scan", *args])


def configure(directory: Path, text: str, name: str = ".tutela.yaml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def verdict(result: Any) -> str:
    return str(result.stderr.strip().splitlines()[-1])


def test_fail_on_flag_over_file_over_default(project: Path) -> None:
    assert scan("infra/estate.json").exit_code == 0  # default: critical, and none is critical
    configure(project, "fail-on: high\n")
    from_file = scan("infra/estate.json")
    assert from_file.exit_code == 1
    assert verdict(from_file).startswith("BLOCKED at --fail-on high")
    flag = scan("infra/estate.json", "--fail-on", "critical")
    assert flag.exit_code == 0
    assert verdict(flag).startswith("PASSED --fail-on critical")


def test_format_and_frameworks_flag_over_file_over_default(project: Path) -> None:
    default = scan("infra/estate.json", "--fail-on", "none")
    assert "Aggregate score" in default.stdout  # the table
    configure(project, "format: json\nframeworks: [sox, dora]\nfail_on: none\n")

    from_file = scan("infra/estate.json")

    assert json.loads(from_file.stdout)["frameworks"] == ["dora", "sox"]
    flags = scan("infra/estate.json", "--format", "sarif", "--frameworks", "iso42001")
    document = json.loads(flags.stdout)
    assert document["version"] == "2.1.0"
    assert document["runs"][0]["properties"]["frameworks"] == ["iso42001"]


def test_the_file_is_found_upwards_and_its_paths_are_its_own(project: Path) -> None:
    configure(project, "paths: [infra/estate.json]\nformat: [json]\noutput: [out/report.json]\n")
    (project / "out").mkdir()
    deep = project / "src" / "module"
    deep.mkdir(parents=True)
    (deep / "not-the-estate.json").write_text("[]")

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(deep)
        result = scan()

    assert result.exit_code == 0, result.output
    report = json.loads((project / "out" / "report.json").read_text())
    assert report["resources_scanned"] >= 1
    assert verdict(result).endswith(f"json written to {project / 'out' / 'report.json'}")


def test_the_nearest_file_wins_and_yml_is_read_too(project: Path) -> None:
    configure(project, "fail-on: none\n")
    inner = project / "infra"
    configure(inner, "fail-on: high\n", name=".tutela.yml")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(inner)
        assert scan("estate.json").exit_code == 1  # .tutela.yml in infra/, not the outer file
    assert scan("infra/estate.json").exit_code == 0


def test_config_names_the_file_and_no_other_is_read(project: Path, tmp_path: Path) -> None:
    configure(project, "fail-on: none\n")
    named = configure(
        tmp_path, "fail-on: high\ncheck: [AOAI-LOCAL-AUTH]\nformat: json\n", "ci.yaml"
    )

    result = scan("infra/estate.json", "--config", str(named))

    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert {finding["check_id"] for finding in findings} == {"AOAI-LOCAL-AUTH"}


def test_flags_and_lists_in_the_file(project: Path) -> None:
    configure(
        project,
        "skip-check: [AOAI-LOCAL-AUTH, AOAI-PUBLIC-NETWORK]\nseverity: high\n"
        "format: json\ncompact: true\nfail-on: none\n",
    )
    result = scan("infra/estate.json")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 1  # compact
    findings = json.loads(result.stdout)["findings"]
    assert findings
    assert {f["severity"] for f in findings} == {"high"}
    assert not {"AOAI-LOCAL-AUTH", "AOAI-PUBLIC-NETWORK"} & {f["check_id"] for f in findings}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fail-on: high\nfial-on: low\n", "unknown key 'fial-on'; known keys: "),
        ("config: other.yaml\n", "unknown key 'config'"),
        ("fail-on: [high\n", "not valid YAML"),
        ("- fail-on\n", "expected a mapping of option names to values"),
        ("frameworks: {sox: true}\n", "key 'frameworks' takes a value or a list of"),
    ],
)
def test_a_bad_file_is_one_line_exit_2_naming_it(project: Path, text: str, message: str) -> None:
    path = configure(project, text)
    result = scan("infra/estate.json")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: ")
    assert message in lines[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "fail-on: sometimes\n",
            "key 'fail-on': 'sometimes' is not one of 'critical', 'high', 'medium', 'low', 'none'.",
        ),
        ("jobs: 0\n", "key 'jobs': Input should be greater than or equal to 1"),
        ("format: [json, pdf]\n", "key 'format': 'pdf' is not one of 'table', 'json', "),
    ],
)
def test_a_bad_value_in_the_file_is_one_line_naming_the_file_and_key(
    project: Path, text: str, message: str
) -> None:
    path = configure(project, text)
    result = scan("infra/estate.json")
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: {path}: {message}")


def test_a_missing_config_file_is_exit_2(project: Path) -> None:
    result = scan("infra/estate.json", "--config", "nowhere.yaml")
    assert result.exit_code == 2
    assert result.output.strip() == "error: nowhere.yaml: no such file"
