"""CSV: a row per failing check and resource, UTF-8 that Excel reads, and no cell a spreadsheet
would run as a formula."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.scanner.engine.cases import make_resource
from tests.scanner.outputs.conftest import SCAN_TS, small_catalog
from tutela.scanner.estate import Estate
from tutela.scanner.outputs.csv_report import COLUMNS, safe_cell, write_csv
from tutela.scanner.outputs.failing import FailingRows, failing_checks
from tutela.scanner.scan import run_scan


def read_back(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())  # the byte-order mark Excel looks for
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header, *rows = list(reader)
    assert tuple(header) == COLUMNS
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_a_row_per_failing_check_and_resource_with_where_and_why(report: dict[str, Any]) -> None:
    out = io.BytesIO()
    write_csv(out, report, failing_checks(report))
    rows = read_back(out.getvalue())
    assert [(r["severity"], r["check_id"], r["resource_name"]) for r in rows] == [
        ("high", "AOAI-LOCAL-AUTH", "oai-open"),
        ("medium", "AOAI-DIAG-LOGS", "oai-closed"),
    ]
    open_account = rows[0]
    assert open_account["controls"] == "ISO42001-A.9.2; SR117-MRM-ACCESS-CONTROL (by analogy)"
    assert open_account["frameworks"] == "iso42001; sr11_7"
    assert open_account["source"] == "plan.json"
    assert open_account["origin"] == "azurerm_cognitive_account.open"
    assert open_account["evidence"] == (
        'properties.disableLocalAuth="<absent; service default False>"'
    )
    assert open_account["resource_type"] == "microsoft.cognitiveservices/accounts"
    assert open_account["resource_id"].endswith("/oai-open")
    assert open_account["remediation"]
    assert open_account["report_id"] == "COMP-20261123-093005"
    assert open_account["scan_ts"] == "2026-11-23T09:30:05Z"
    assert rows[1]["origin"] == rows[1]["source"] == ""


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_a_cell_that_would_start_a_formula_is_made_inert(name: str) -> None:
    estate = Estate(
        [
            make_resource(
                {
                    "type": "microsoft.cognitiveservices/accounts",
                    "name": name,
                    "properties": {},
                    "diagnostic_settings": [],
                }
            )
        ]
    )
    assessment, report = run_scan(
        estate, ["iso42001"], scan_ts=SCAN_TS, catalog=small_catalog(), record_passes=False
    )
    out = io.BytesIO()
    write_csv(out, report.header, FailingRows(assessment))
    rows = read_back(out.getvalue())
    assert rows
    for row in rows:
        assert row["resource_name"] == "'" + name
        assert row["resource_id"].endswith("/" + name)  # an id starts with "/": left as it is
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_text_outside_ascii_survives_and_plain_cells_are_untouched() -> None:
    assert safe_cell("oai-zoë") == "oai-zoë"
    assert safe_cell("a=b") == "a=b"
    estate = Estate(
        [
            make_resource(
                {
                    "type": "microsoft.cognitiveservices/accounts",
                    "name": "oai-zoë-東京",
                    "properties": {},
                    "diagnostic_settings": [],
                }
            )
        ]
    )
    assessment, report = run_scan(
        estate, ["iso42001"], scan_ts=SCAN_TS, catalog=small_catalog(), record_passes=False
    )
    out = io.BytesIO()
    write_csv(out, report.header, FailingRows(assessment))
    assert {row["resource_name"] for row in read_back(out.getvalue())} == {"oai-zoë-東京"}
    assert not out.closed  # the caller's handle stays open
