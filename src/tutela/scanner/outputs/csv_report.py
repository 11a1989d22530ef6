"""The failing checks as CSV, one row per failing check and resource, for spreadsheets.

UTF-8 with a byte-order mark, which is how Excel recognises UTF-8 when a CSV is opened by
double-click (Python's ``utf-8-sig`` and pandas read past it). A cell a spreadsheet would take
for a formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
written with a leading ``'``: resource names and tags come from whoever controls the scanned
estate, and a formula in them must not run on the reader's machine (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Final

import orjson

from tutela.scanner.outputs.failing import FailingCheck
from tutela.scanner.outputs.report import json_default

COLUMNS: Final = (
    "severity",
    "check_id",
    "title",
    "resource_id",
    "resource_name",
    "resource_type",
    "source",  # the input file the resource was read from
    "origin",  # where in it: a Terraform address, a template's path, a Resource Graph record
    "controls",  # ";"-joined, each not mapped directly followed by its mapping in brackets
    "frameworks",
    "ai_workload",
    "evidence",  # "path=value" pairs, values as JSON, ";"-joined
    "remediation",
    "report_id",
    "scan_ts",
    "conditional",  # "true": a template deploys the resource under a condition not decided offline
)
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_BATCH: Final = 1_000  # rows made and written at a time: a FailingRows makes each on demand


def write_csv(
    handle: IO[bytes], header: Mapping[str, object], failing: Sequence[FailingCheck]
) -> None:
    """Write the header row, then a row per failing check and resource, most severe first."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=False)
    try:
        writer = csv.writer(text)
        writer.writerow(COLUMNS)
        report = (str(header.get("report_id") or ""), str(header.get("scan_ts") or ""))
        for start in range(0, len(failing), _BATCH):
            writer.writerows(_row(row, report) for row in failing[start : start + _BATCH])
        text.flush()
    finally:
        text.detach()  # the caller's handle stays open


def _row(row: FailingCheck, report: tuple[str, str]) -> list[str]:
    source, address = _split_origin(row.origin)
    cells = (
        row.severity,
        row.check_id,
        row.title,
        row.resource,
        str(row.resource_name),
        row.resource_type,
        source,
        address,
        "; ".join(row.controls_shown()),
        "; ".join(row.frameworks),
        row.ai_workload or "",
        "; ".join(_evidence(row.evidence)),
        row.remediation,
        *report,
        "true" if row.conditional else "",
    )
    return [safe_cell(cell) for cell in cells]


def safe_cell(text: str) -> str:
    """The text, made inert for a spreadsheet if it would start a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _split_origin(origin: str | None) -> tuple[str, str]:
    if not origin:
        return "", ""
    source, _, address = origin.partition(": ")
    return source, address


def _evidence(evidence: Sequence[tuple[str, object]]) -> Iterator[str]:
    for path, value in evidence:
        yield f"{path}={orjson.dumps(value, default=json_default).decode()}"
