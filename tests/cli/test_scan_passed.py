"""``tutela scan --include-passed``: the JSON report lists what passed; the default is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.test_scan import ACCOUNT, account, scan


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def hardened(tmp_path: Path) -> Path:
    path = tmp_path / "estate.json"
    closed = account("oai-closed", publicNetworkAccess="Disabled", disableLocalAuth=True)
    path.write_text(json.dumps({"data": [closed]}))
    return path


def test_include_passed_lists_the_passes_with_their_evidence(
    runner: CliRunner, hardened: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    args = [str(hardened), "--format", "json", "--fail-on", "none", "--frameworks", "dora"]
    result = scan(runner, *args, "--include-passed", "--output", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_bytes())
    assert list(report)[-2:] == ["passed_recorded", "passed"]
    assert report["passed_recorded"] is True
    by_check = {c["check_id"]: c["resources"] for c in report["passed"]}
    assert sum(len(r) for r in by_check.values()) == report["checks_passed"] > 0
    assert by_check["AOAI-PUBLIC-NETWORK"] == [
        {
            "resource": f"{ACCOUNT}/oai-closed",
            "evidence": [{"path": "properties.publicNetworkAccess", "value": "Disabled"}],
        }
    ]
    assert by_check["AOAI-LOCAL-AUTH"][0]["evidence"] == [
        {"path": "properties.disableLocalAuth", "value": True}
    ]
    # Without the flag: the same report, without the passes.
    plain = scan(runner, *args)
    assert plain.exit_code == 0, plain.output
    default = json.loads(plain.stdout)
    assert "passed" not in default
    assert "passed_recorded" not in default
    del default["scan_ts"], report["scan_ts"]  # (the two scans' times)
    assert default == {k: v for k, v in report.items() if not k.startswith("passed")}


@pytest.mark.parametrize("output_format", ["table", "sarif", "junit"])
def test_include_passed_needs_the_json_format(
    runner: CliRunner, hardened: Path, output_format: str
) -> None:
    result = scan(runner, str(hardened), "--format", output_format, "--include-passed")
    assert result.exit_code == 2
    assert "--include-passed needs --format json" in result.output
