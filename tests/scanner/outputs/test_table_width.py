"""The table in an 80-column pipe: nothing overruns the width, no check id is wrapped or cut, and
each resource's name and Terraform address are all there (an address longer than its column
folds onto the next line, whole)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from rich.console import Console

from tutela.scanner.catalog import load_catalog
from tutela.scanner.outputs.failing import FailingCheck, failing_checks_of
from tutela.scanner.outputs.table import render_table
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import read_estate

FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures"


def rendered(path: Path, console: Console, max_rows: int = 50) -> tuple[str, list[FailingCheck]]:
    catalog = load_catalog()
    assessment, report = run_scan(
        read_estate([path]),
        [f.id for f in catalog.frameworks],
        scan_ts=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        record_passes=False,
    )
    rows = failing_checks_of(assessment, max_rows)
    render_table(
        report.header,
        console,
        failing=rows,
        failing_total=report.header["checks_failed"],
        max_rows=max_rows,
    )
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue(), rows


def resource_column(text: str) -> str:
    """The failing table's resource column, its lines run together (a folded value rejoined)."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("severity"))
    start = lines[header].index("resource")
    return "".join(line[start:].rstrip() for line in lines[header + 2 :])


@pytest.mark.parametrize("fixture", ["tf_plan_modules.json", "tf_plan_ai_landing_zone.json"])
def test_a_plan_at_80_columns_keeps_ids_whole_and_shows_addresses(
    fixture: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    console = Console(file=io.StringIO(), highlight=False)  # a pipe: not a terminal
    assert console.width == 80
    text, rows = rendered(FIXTURES / fixture, console)
    assert rows
    assert max(len(line) for line in text.splitlines()) <= 80
    words = set(text.split())
    for row in rows:
        assert row.check_id in words  # on one line, never folded or cut with "…"
        assert str(row.resource_name) in text
    column = resource_column(text)
    addresses = {str(row.origin).split(": ", 1)[1] for row in rows if row.origin}
    addresses.discard("implied by its resources")
    assert any(len(address) > 34 for address in addresses)  # some must fold at 80 columns
    for address in addresses:
        assert address in column
    for framework in load_catalog().frameworks:
        assert framework.id in words


def test_the_longest_check_id_is_whole_in_a_narrow_console() -> None:
    console = Console(file=io.StringIO(), width=80, highlight=False)
    text, rows = rendered(FIXTURES / "tf_plan_modules.json", console)
    longest = max((row.check_id for row in rows), key=len)
    assert len(longest) >= 25
    assert longest in text.split()


def test_a_resource_graph_record_path_is_not_shown_as_an_address() -> None:
    console = Console(file=io.StringIO(), width=120, highlight=False)
    text, rows = rendered(FIXTURES / "arg_export.json", console)
    assert rows
    assert "data[" not in text
    assert max(len(line) for line in text.splitlines()) <= 120
