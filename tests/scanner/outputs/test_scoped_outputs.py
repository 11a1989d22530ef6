"""Every output says how strongly each finding is mapped, and which AI workload puts a
general-purpose resource in an AI framework's scope."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from typing import Any

import orjson
import pytest
from rich.console import Console

from tests.scanner.engine.controls import control, framework, with_controls
from tests.scanner.engine.test_scoring import scoped_estate
from tutela.scanner.catalog import Catalog
from tutela.scanner.engine.assess import Assessment
from tutela.scanner.narrative.deterministic import DeterministicNarrator
from tutela.scanner.outputs.failing import FailingRows, failing_checks, failing_checks_of
from tutela.scanner.outputs.junit import junit_xml
from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.report_json import ReportDocument
from tutela.scanner.outputs.sarif import sarif_chunks
from tutela.scanner.outputs.table import render_table
from tutela.scanner.scan import run_scan
from tutela.sdk.models import Report
from tutela.server.reports.schemas import ReportOut

SCAN_TS = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
WORKLOAD = "default storage account of Azure ML workspace 'mlw-risk'"


def catalog() -> Catalog:
    return with_controls(
        framework(
            "iso42001",
            "ISO42001",
            control("A.7.2", "Data", direct=("STG-HTTPS-ONLY",)),
            control("A.7.4", "Quality", supporting=("STG-MIN-TLS",)),
            ai_scoped=True,
        ),
        framework(
            "dora",
            "DORA",
            control("Art. 9(2)", "Security", direct=("STG-HTTPS-ONLY",)),
            control("Art. 9(4)(d)", "Encryption", supporting=("STG-MIN-TLS",)),
        ),
    )


def scanned(narrate: bool = True) -> tuple[Assessment, ReportDocument]:
    return run_scan(
        scoped_estate(),
        ["iso42001", "dora"],
        scan_ts=SCAN_TS,
        catalog=catalog(),
        narrator=DeterministicNarrator(catalog()) if narrate else None,
        report_id="COMP-20261123-093000",
    )


@pytest.fixture
def report() -> dict[str, Any]:
    return scanned()[1].to_dict()


@pytest.mark.parametrize("indent", [True, False])
@pytest.mark.parametrize("narrate", [True, False])
def test_the_scoped_document_is_exactly_what_orjson_writes(indent: bool, narrate: bool) -> None:
    out = io.BytesIO()
    scanned(narrate)[1].write(out, indent=indent)
    assert out.getvalue() == dumps(orjson.loads(out.getvalue()), indent=indent)


def test_findings_carry_their_mapping_and_ai_workload(report: dict[str, Any]) -> None:
    seen = [
        (f["resource_name"], f["control_id"], f["mapping"], f["ai_workload"])
        for f in report["findings"]
    ]
    # stlinked is a workspace's storage: it counts for ISO 42001 and DORA, saying why; stloose
    # belongs to no AI workload: DORA only. Each result's findings share one class's parts.
    assert seen == [
        ("stlinked", "ISO42001-A.7.2", "direct", WORKLOAD),
        ("stlinked", "DORA-ART-9-2", "direct", WORKLOAD),
        ("stloose", "DORA-ART-9-2", "direct", None),
        ("stlinked", "ISO42001-A.7.4", "supporting", WORKLOAD),
        ("stlinked", "DORA-ART-9-4-D", "supporting", WORKLOAD),
        ("stloose", "DORA-ART-9-4-D", "supporting", None),
        ("stloose-unknown", "DORA-ART-9-4-D", "supporting", None),
        ("sttagged", "ISO42001-A.7.4", "supporting", "tagged ai-workload=credit-scoring"),
        ("sttagged", "DORA-ART-9-4-D", "supporting", "tagged ai-workload=credit-scoring"),
    ]
    supporting = report["findings"][3]["narrative"]
    assert "supporting evidence for ISO42001-A.7.4" in supporting
    assert [u["frameworks"] for u in report["unknown"]] == [["iso42001", "dora"], ["dora"]]
    assert (report["high_count"], report["medium_count"]) == (3, 6)


def test_the_api_schema_and_the_sdk_read_mapping_and_ai_workload(report: dict[str, Any]) -> None:
    for parsed in (ReportOut.model_validate(report), Report.model_validate(report)):
        assert [(f.mapping, f.ai_workload) for f in parsed.findings][2:4] == [
            ("direct", None),
            ("supporting", WORKLOAD),
        ]


def test_sarif_results_name_their_own_controls_and_ai_workload(report: dict[str, Any]) -> None:
    assessment, document = scanned()
    fresh = b"".join(sarif_chunks(document.header, FailingRows(assessment)))
    read_back = b"".join(sarif_chunks(report))
    assert fresh == read_back, "from the assessment or from the report, the same document"
    run = orjson.loads(fresh)["runs"][0]
    rules = {rule["id"]: rule["properties"] for rule in run["tool"]["driver"]["rules"]}
    assert rules["STG-HTTPS-ONLY"]["controls"] == ["DORA-ART-9-2", "ISO42001-A.7.2"]
    assert rules["STG-HTTPS-ONLY"]["frameworks"] == ["iso42001", "dora"]
    results = [
        (r["ruleId"], r["properties"]["controls"], r["properties"].get("ai_workload"))
        for r in run["results"]
    ]
    assert results[:2] == [
        ("STG-HTTPS-ONLY", {"DORA-ART-9-2": "direct", "ISO42001-A.7.2": "direct"}, WORKLOAD),
        ("STG-HTTPS-ONLY", {"DORA-ART-9-2": "direct"}, None),
    ]
    assert results[2][1] == {"DORA-ART-9-4-D": "supporting", "ISO42001-A.7.4": "supporting"}


def test_junit_counts_each_framework_its_own_failures_and_marks_mappings(
    report: dict[str, Any],
) -> None:
    root = ET.fromstring(junit_xml(report))
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert (suites["iso42001"].get("failures"), suites["dora"].get("failures")) == ("3", "6")
    texts = [f.text or "" for f in suites["iso42001"].iter("failure")]
    assert f"AI workload: {WORKLOAD}" in texts[0]
    assert "Controls: DORA-ART-9-4-D (supporting), ISO42001-A.7.4 (supporting)" in texts[1]


def test_the_table_marks_mappings_and_names_the_ai_workload() -> None:
    assessment, document = scanned()
    console = Console(record=True, width=240)
    render_table(document.header, console, failing=failing_checks_of(assessment))
    shown = console.export_text()
    assert "ISO42001-A.7.4 (supporting)" in shown
    assert f"AI workload: {WORKLOAD}" in shown
    rows = failing_checks_of(assessment)
    assert rows == failing_checks(document.to_dict()), "the same rows, fresh or read back"


def test_the_table_shows_resource_names_as_written_never_as_markup() -> None:
    """A name is input: "[bold red]…" in it is text, not styling (nor a markup error)."""
    assessment, document = scanned()
    rows = failing_checks_of(assessment)
    named = [row._replace(resource_name="[bold red]st-prod[/bold red]") for row in rows]
    console = Console(record=True, width=240)
    render_table(document.header, console, failing=named)
    assert "[bold red]st-prod[/bold red]" in console.export_text()
