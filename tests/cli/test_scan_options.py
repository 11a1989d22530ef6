"""``tutela scan``: choosing checks, several reports of one scan, --quiet and --compact, stdin and
directories."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

import tutela.scanner.scan
from tests.cli.test_scan import PLAN_FIXTURE, account, sarif_schema
from tutela.cli.main import app

FIXTURES = Path(__file__).parents[1] / "scanner" / "sources" / "fixtures"


@pytest.fixture(autouse=True)
def _no_config_file_around(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own directory, where no .tutela.yaml is found."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """An Azure OpenAI account open to the internet, with keys: high and medium failures."""
    path = tmp_path / "estate.json"
    path.write_text(json.dumps({"data": [account("oai-open", publicNetworkAccess="Enabled")]}))
    return path


def scan(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, ["scan", *args], input=stdin)


def failing(*args: str) -> set[str]:
    result = scan(*args, "--format", "json", "--fail-on", "none")
    assert result.exit_code == 0, result.output
    return {finding["check_id"] for finding in json.loads(result.stdout)["findings"]}


def one_line(result: Any) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return str(lines[0])


def test_check_runs_only_the_checks_named_by_id_or_glob(estate: Path) -> None:
    everything = failing(str(estate))
    assert {"AOAI-LOCAL-AUTH", "AOAI-PUBLIC-NETWORK"} <= everything
    assert len(everything) > 3

    assert failing(str(estate), "--check", "AOAI-LOCAL-AUTH") == {"AOAI-LOCAL-AUTH"}
    assert failing(str(estate), "--check", "aoai-local-auth,AOAI-PUBLIC-NETWORK") == {
        "AOAI-LOCAL-AUTH",
        "AOAI-PUBLIC-NETWORK",
    }
    repeated = failing(str(estate), "--check", "AOAI-LOCAL-AUTH", "--check", "*-public-network")
    assert repeated == {"AOAI-LOCAL-AUTH", "AOAI-PUBLIC-NETWORK"}
    assert failing(str(estate), "--check", "AOAI-*") == {c for c in everything if c[:5] == "AOAI-"}


def test_skip_check_and_severity_leave_checks_out(estate: Path) -> None:
    everything = failing(str(estate))
    assert failing(str(estate), "--skip-check", "AOAI-LOCAL-AUTH") == everything - {
        "AOAI-LOCAL-AUTH"
    }
    result = scan(str(estate), "--severity", "high", "--format", "json", "--fail-on", "none")
    report = json.loads(result.stdout)
    assert {finding["severity"] for finding in report["findings"]} == {"high"}
    assert report["medium_count"] == report["low_count"] == 0
    assert report["high_count"] > 0
    both = failing(str(estate), "--severity", "critical,high", "--skip-check", "AOAI-LOCAL-AUTH")
    assert "AOAI-LOCAL-AUTH" not in both
    assert "AOAI-PUBLIC-NETWORK" in both


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "AOAI-LOCAL-AUTHS"], "--check AOAI-LOCAL-AUTHS: matches no check (did you"),
        (["--skip-check", "NOPE-*"], "--skip-check NOPE-*: matches no check"),
        (["--check", ""], "--check: no check named"),
        (["--severity", "urgent"], "--severity: unknown severity urgent"),
        (
            ["--check", "AOAI-LOCAL-AUTH", "--severity", "low"],
            "--check, --skip-check and --severity leave no check to evaluate",
        ),
    ],
)
def test_a_selection_that_cannot_be_met_is_exit_2_and_one_line(
    estate: Path, args: list[str], message: str
) -> None:
    result = scan(str(estate), *args)
    assert result.exit_code == 2
    assert message in one_line(result)


def test_several_reports_from_one_scan_each_to_its_place(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = []
    real_run_scan = tutela.scanner.scan.run_scan

    def counted(*args: Any, **kwargs: Any) -> Any:
        scans.append(args)
        return real_run_scan(*args, **kwargs)

    monkeypatch.setattr(tutela.scanner.scan, "run_scan", counted)
    sarif, junit = tmp_path / "out.sarif", tmp_path / "out.xml"
    args = ["--format", "sarif", "--output", str(sarif), "--format", "junit"]
    args += ["--output", str(junit), "--format", "json", "--fail-on", "high"]

    result = scan(str(estate), *args)

    assert result.exit_code == 1
    assert len(scans) == 1
    document = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(document)
    report = json.loads(result.stdout)  # the one format without an --output
    rules = {rule["id"] for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    assert rules == {finding["check_id"] for finding in report["findings"]}
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites"
    assert int(suites.get("failures") or 0) > 0
    assert result.stderr.strip().endswith(
        f"report: sarif written to {sarif}, junit written to {junit}, json on stdout"
    )


def test_an_output_directory_takes_one_report_per_format(estate: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "today"
    formats = [arg for fmt in ("json", "sarif", "junit", "table") for arg in ("--format", fmt)]
    result = scan(str(estate), "-o", str(out), *formats, "--fail-on", "none")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "tutela-report.json",
        "tutela-report.sarif",
        "tutela-report.txt",
        "tutela-report.xml",
    ]
    assert json.loads((out / "tutela-report.json").read_text())["findings"]
    assert "AOAI-LOCAL-AUTH" in (out / "tutela-report.txt").read_text()
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "sarif", "--format", "junit"], "--format sarif and --format junit would"),
        (["--format", "json", "--output", "a", "--output", "b"], "2 --output for 1 --format"),
        (["--format", "json", "--format", "json"], "--format json given more than once"),
        (["--output", "a", "-o", "dir"], "give --output or --output-directory, not both"),
    ],
)
def test_outputs_that_do_not_pair_are_exit_2(estate: Path, args: list[str], message: str) -> None:
    result = scan(str(estate), *args)
    assert result.exit_code == 2
    assert message in one_line(result)


def test_an_output_dash_is_standard_output(estate: Path, tmp_path: Path) -> None:
    sarif = tmp_path / "out.sarif"
    args = ["--format", "json", "--output", "-", "--format", "sarif", "--output", str(sarif)]
    result = scan(str(estate), *args, "--fail-on", "none")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"]
    assert json.loads(sarif.read_text())["version"] == "2.1.0"


@pytest.mark.parametrize("fmt", ["csv", "html"])
def test_csv_and_html_reports(estate: Path, tmp_path: Path, fmt: str) -> None:
    pytest.importorskip(f"tutela.scanner.outputs.{fmt}_report")
    result = scan(str(estate), "--format", fmt, "-o", str(tmp_path / "out"), "--fail-on", "none")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out" / f"tutela-report.{fmt}").read_text()
    assert "AOAI-LOCAL-AUTH" in written


def test_compact_json_and_sarif_are_the_same_documents_unindented(estate: Path) -> None:
    for fmt in ("json", "sarif"):
        wide = scan(str(estate), "--format", fmt, "--fail-on", "none").stdout
        compact = scan(str(estate), "--format", fmt, "--compact", "--fail-on", "none").stdout
        assert len(compact.strip().splitlines()) == 1
        assert len(wide.strip().splitlines()) > 10
        wide_document, compact_document = json.loads(wide), json.loads(compact)
        if fmt == "json":  # each run has its own id and time
            for key in ("report_id", "scan_ts"):
                wide_document.pop(key), compact_document.pop(key)
        assert compact_document == wide_document


def test_compact_and_quiet_tables_list_one_failing_check_per_line(estate: Path) -> None:
    full = scan(str(estate), "--fail-on", "none").stdout
    compact = scan(str(estate), "--compact", "--fail-on", "none").stdout
    quiet = scan(str(estate), "--quiet", "--fail-on", "none").stdout
    assert "Failing checks" in full
    assert "Failing checks" not in compact
    assert compact.splitlines()[0].startswith("Aggregate score")
    rows = compact.splitlines()[1:]
    assert quiet.splitlines() == rows
    expected = ["high", "AOAI-LOCAL-AUTH", "oai-open", "(microsoft.cognitiveservices/accounts)"]
    assert expected in [row.split() for row in rows]
    assert all(len(row.split()) >= 4 for row in rows)


def test_quiet_keeps_only_the_verdict_on_stderr(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    document = json.loads(PLAN_FIXTURE.read_text())
    document["resource_changes"].append(
        {
            "address": "azurerm_dns_zone.extra",
            "mode": "managed",
            "type": "azurerm_dns_zone",
            "name": "extra",
            "change": {"actions": ["create"], "after": {"name": "x"}},
        }
    )
    plan.write_text(json.dumps(document))
    loud = scan(str(plan), "--fail-on", "none", "--format", "json")
    assert "unsupported types skipped" in loud.stderr
    quiet = scan(str(plan), "--fail-on", "none", "--format", "json", "--quiet")
    assert quiet.stderr.strip().splitlines() == loud.stderr.strip().splitlines()[-1:]
    assert json.loads(quiet.stdout)["findings"]


def test_standard_input_is_read_as_any_known_kind(estate: Path) -> None:
    from_file = scan(str(estate), "--format", "json", "--fail-on", "none")
    from_stdin = scan("-", "--format", "json", "--fail-on", "none", stdin=estate.read_text())
    assert from_stdin.exit_code == 0, from_stdin.output

    def pairs(stdout: str) -> set[tuple[str, str, str]]:
        found = json.loads(stdout)["findings"]
        return {(f["check_id"], f["resource"], f["control_id"]) for f in found}

    assert pairs(from_stdin.stdout) == pairs(from_file.stdout)
    plan = scan("-", "--format", "json", "--fail-on", "none", stdin=PLAN_FIXTURE.read_text())
    assert json.loads(plan.stdout)["resources_scanned"] > 5
    bad = scan("-", stdin='{"hello": "world"}')
    assert bad.exit_code == 2
    assert one_line(bad).startswith("error: <stdin>: not an Azure Resource Graph export")


def _resources(*args: str) -> int:
    result = scan(*args, "--format", "json", "--fail-on", "none")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["resources_scanned"])


def test_a_directory_is_searched_for_documents_of_a_known_kind(tmp_path: Path) -> None:
    tree = tmp_path / "infra"
    (tree / "arm" / "nested").mkdir(parents=True)
    shutil.copy(FIXTURES / "arg_export.json", tree / "export.json")
    shutil.copy(FIXTURES / "arm_nested.json", tree / "arm" / "nested" / "template.json")
    (tree / "arm" / "package.json").write_text('{"name": "not azure"}')
    (tree / "notes.txt").write_text("not json at all")
    for ignored in ("node_modules", ".terraform", ".git"):  # never searched
        (tree / ignored).mkdir()
        shutil.copy(PLAN_FIXTURE, tree / ignored / "plan.json")

    whole = scan(str(tree), "--format", "json", "--fail-on", "none")

    assert whole.exit_code == 0, whole.output
    expected = _resources(str(tree / "export.json"), str(tree / "arm" / "nested" / "template.json"))
    assert json.loads(whole.stdout)["resources_scanned"] == expected
    notes = [line for line in whole.stderr.splitlines() if "skipped" in line]
    skipped = tree / "arm" / "package.json"
    assert notes == [f"note: 1 JSON file(s) skipped: {skipped} (of no known kind)"]


def test_a_directory_with_no_known_document_is_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "package.json").write_text("{}")
    result = scan(str(empty))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: {empty}: the directory holds no Resource Graph export, ARM template or "
        "Terraform plan (*.json)"
    )


def test_exceptions_may_name_checks_the_selection_leaves_out(estate: Path, tmp_path: Path) -> None:
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text(
        "exceptions:\n"
        "  - check: AOAI-PUBLIC-NETWORK\n"
        "    resource: /subscriptions/*\n"
        "    reason: The account is reached through the partner network until March.\n"
        "    approver: ciso@contoso.example\n"
        f"    expires: {expires}\n"
    )
    args = ["--exceptions", str(accepted), "--check", "AOAI-LOCAL-AUTH"]
    assert failing(str(estate), *args) == {"AOAI-LOCAL-AUTH"}
