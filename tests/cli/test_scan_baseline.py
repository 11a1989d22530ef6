"""``tutela scan --create-baseline`` then ``--baseline``: only new failures fail the gate."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from tests.cli.test_scan import ACCOUNT, account, sarif_schema
from tutela import __version__
from tutela.cli.main import app


@pytest.fixture(autouse=True)
def _no_config_file_around(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write_estate(path: Path, *names: str) -> Path:
    """Azure OpenAI accounts open to the internet with keys on: high failures each."""
    resources = [account(name, publicNetworkAccess="Enabled") for name in names]
    path.write_text(json.dumps({"data": resources}))
    return path


def scan(*args: str) -> Any:
    return CliRunner().invoke(app, ["scan", *args])


def failing_pairs(estate: Path) -> set[tuple[str, str]]:
    result = scan(str(estate), "--format", "json", "--fail-on", "none")
    return {(f["check_id"], f["resource"]) for f in json.loads(result.stdout)["findings"]}


def verdict(result: Any) -> str:
    return str(result.stderr.strip().splitlines()[-1])


def test_create_baseline_writes_todays_failures_sorted(tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "estate.json", "oai-b", "oai-a")
    baseline = tmp_path / "baseline.json"

    result = scan(str(estate), "--create-baseline", str(baseline), "--fail-on", "high")

    assert result.exit_code == 1  # writing a baseline does not change today's gate
    document = json.loads(baseline.read_text())
    assert document["tutela_baseline"] == 1
    assert document["tutela_version"] == __version__
    assert document["created"] == dt.datetime.now(dt.UTC).date().isoformat()
    entries = [(item["check_id"], item["resource"]) for item in document["failures"]]
    assert entries == sorted(entries)
    assert set(entries) == failing_pairs(estate)


def test_only_new_failures_count_for_the_gate(tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "estate.json", "oai-old")
    baseline = tmp_path / "baseline.json"
    scan(str(estate), "--create-baseline", str(baseline))
    known = len(json.loads(baseline.read_text())["failures"])

    same = scan(str(estate), "--baseline", str(baseline), "--fail-on", "high")

    assert same.exit_code == 0
    assert verdict(same).startswith("PASSED --fail-on high (no new failure at or above it)")
    assert f"failures 0 new, {known} in baseline" in verdict(same)
    without = scan(str(estate), "--fail-on", "high")
    assert without.exit_code == 1  # the same failures block without the baseline

    write_estate(estate, "oai-old", "oai-new")
    grown = scan(str(estate), "--baseline", str(baseline), "--fail-on", "high")

    assert grown.exit_code == 1
    report = json.loads(scan(str(estate), "--format", "json", "--fail-on", "none").stdout)
    new = {(f["check_id"], f["resource"], f["severity"]) for f in report["findings"]}
    new = {pair for pair in new if pair[1].endswith("/oai-new")}
    new_high = sum(severity in ("critical", "high") for _, _, severity in new)
    assert new_high > 0
    assert verdict(grown).startswith(
        f"BLOCKED at --fail-on high ({new_high} new failure(s) at or above it)"
    )
    assert f"failures {len(new)} new, {known} in baseline" in verdict(grown)


def test_sarif_marks_each_result_new_or_unchanged(tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "estate.json", "oai-old")
    baseline = tmp_path / "baseline.json"
    scan(str(estate), "--create-baseline", str(baseline))
    write_estate(estate, "oai-old", "oai-new")
    out = tmp_path / "out.sarif"

    result = scan(
        str(estate), "--baseline", str(baseline), "--format", "sarif", "--output", str(out)
    )

    assert result.exit_code == 0, result.output  # --fail-on critical: nothing critical
    document = json.loads(out.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(document)
    states = {
        item["properties"]["resource"].rsplit("/", 1)[1]: item["baselineState"]
        for item in document["runs"][0]["results"]
    }
    assert states == {"oai-old": "unchanged", "oai-new": "new"}


def test_the_table_counts_what_the_baseline_holds(tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "estate.json", "oai-old")
    baseline = tmp_path / "baseline.json"
    scan(str(estate), "--create-baseline", str(baseline))
    known = len(json.loads(baseline.read_text())["failures"])
    write_estate(estate, "oai-old", "oai-new")
    new = len(failing_pairs(estate)) - known

    table = scan(str(estate), "--baseline", str(baseline)).stdout
    compact = scan(str(estate), "--baseline", str(baseline), "--compact").stdout

    assert f"{new} new failing check(s), {known} in the baseline." in " ".join(table.split())
    marked = [line for line in compact.splitlines() if line.endswith("(in baseline)")]
    assert len(marked) == known
    assert all("oai-old" in line for line in marked)


def test_resource_ids_match_without_case(tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "estate.json", "oai-old")
    baseline = tmp_path / "baseline.json"
    scan(str(estate), "--create-baseline", str(baseline))
    document = json.loads(baseline.read_text())
    for item in document["failures"]:
        item["resource"] = item["resource"].upper()
    baseline.write_text(json.dumps(document))
    assert ACCOUNT.upper() in baseline.read_text()
    result = scan(str(estate), "--baseline", str(baseline), "--fail-on", "high")
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{", "not valid JSON"),
        ("[]", "not a Tutela baseline"),
        ('{"tutela_baseline": 1, "failures": [{"check_id": 1}]}', "not a Tutela baseline"),
        ('{"tutela_baseline": 2, "failures": []}', "not a Tutela baseline"),
    ],
)
def test_a_missing_or_invalid_baseline_is_one_line_exit_2(
    tmp_path: Path, content: str | None, message: str
) -> None:
    estate = write_estate(tmp_path / "estate.json", "oai-old")
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    result = scan(str(estate), "--baseline", str(baseline))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: --baseline {baseline}: {message}")


def test_a_baseline_that_cannot_be_written_is_exit_2(tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "estate.json", "oai-old")
    result = scan(str(estate), "--create-baseline", str(tmp_path / "no" / "such" / "dir.json"))
    assert result.exit_code == 2
    assert "cannot be written" in result.output
    assert len(result.output.strip().splitlines()) == 1
