"""``tutela scan`` ends with one verdict line on stderr, whatever the format or ``--output``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.test_scan import account as open_account
from tutela.cli.main import app

FORMATS = ["table", "json", "sarif", "junit"]


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """One Azure OpenAI account open to the internet with local auth on: high findings."""
    path = tmp_path / "estate.json"
    account = open_account("oai-open", publicNetworkAccess="Enabled")
    path.write_text(json.dumps({"data": [account]}))
    return path


def _counts(estate: Path) -> dict[str, int]:
    result = CliRunner().invoke(app, ["scan", str(estate), "--format", "json", "--fail-on", "none"])
    report = json.loads(result.stdout)
    counts = {s: report[f"{s}_count"] for s in ("critical", "high", "medium", "low")}
    counts["unknown"] = report["checks_unknown"]
    return counts


def _verdict(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "output"])
def test_every_format_says_blocked_at_which_threshold_and_where_the_report_went(
    estate: Path, tmp_path: Path, output_format: str, to_file: bool
) -> None:
    counts = _counts(estate)
    assert counts["high"] > 0  # so --fail-on high blocks
    args = ["scan", str(estate), "--format", output_format, "--fail-on", "high"]
    out = tmp_path / f"report.{output_format}"
    if to_file:
        args += ["--output", str(out)]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 1
    line = _verdict(result.stderr)
    at_or_above = counts["critical"] + counts["high"]
    assert line.startswith(f"BLOCKED at --fail-on high ({at_or_above} finding(s) at or above it)")
    assert (
        f"findings {counts['critical']} critical, {counts['high']} high, "
        f"{counts['medium']} medium, {counts['low']} low; {counts['unknown']} check(s) unknown"
    ) in line
    if to_file:
        assert line.endswith(f"report: {output_format} written to {out}")
        assert out.stat().st_size > 0
    else:
        assert line.endswith(f"report: {output_format} on stdout")
        assert result.stdout.strip()
        assert "BLOCKED" not in result.stdout  # the verdict never mixes into the report


@pytest.mark.parametrize("output_format", FORMATS)
def test_a_scan_that_passes_says_so_with_its_threshold(
    estate: Path, tmp_path: Path, output_format: str
) -> None:
    counts = _counts(estate)
    assert counts["critical"] == 0
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["scan", str(estate), "--format", output_format, "--output", str(out)]
    )

    assert result.exit_code == 0
    line = _verdict(result.stderr)
    assert line.startswith(
        "PASSED --fail-on critical (no finding at or above it): findings 0 critical"
    )
    assert line.endswith(f"written to {out}")


def test_fail_on_none_passes_and_says_findings_never_block(estate: Path) -> None:
    result = CliRunner().invoke(app, ["scan", str(estate), "--fail-on", "none"])
    assert result.exit_code == 0
    line = _verdict(result.stderr)
    assert line.startswith("PASSED (--fail-on none: findings never block): findings ")
    assert line.endswith("report: table on stdout")


def test_an_output_path_is_printed_without_control_characters(estate: Path, tmp_path: Path) -> None:
    out = tmp_path / "a\x1b[31mred\nreport.json"
    result = CliRunner().invoke(
        app, ["scan", str(estate), "--format", "json", "--output", str(out)]
    )
    assert result.exit_code == 0
    line = _verdict(result.stderr)
    assert "\x1b" not in line
    assert line.endswith("redreport.json")


def test_the_console_script_prints_the_verdict_last_on_stderr(estate: Path) -> None:
    tutela = Path(sys.executable).with_name("tutela")
    done = subprocess.run(
        [str(tutela), "scan", str(estate), "--format", "sarif", "--fail-on", "high"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["version"] == "2.1.0"
    assert done.stderr.decode().splitlines()[-1].startswith("BLOCKED at --fail-on high")
