"""RESULTS-api-memory.md of ``bench/api_memory.py``: the rows measured now, beside those kept.

A run of some cases (``--cases``) keeps the other cases' rows and the lines saying when and how
they were measured.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api_memory import Case


def mib(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 2**20 // 10:  # an insight's answer: a few KiB, not "0.0 MiB"
        return f"{n / 2**10:,.1f} KiB"
    return f"{n / 2**20:,.1f} MiB"


_ROW = re.compile(r"^\| ([\w-]+) \|.*\*\*([\d,.]+) MiB\*\*")


def kept_rows(path: Path, measured: set[str]) -> tuple[list[str], list[str], list[str]]:
    """From the results file as it is: the rows of the cases not measured again, their peaks
    (MiB) and the lines saying when and how they were measured."""
    if not path.exists():
        return [], [], []
    rows, peaks, runs = [], [], []
    lines = path.read_text(encoding="utf-8").splitlines()
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        if line.startswith("- measured") and after.startswith("- command"):
            cases = re.search(r"--cases (\S+)`", after)  # a run of some cases, or of all
            runs.append(([line, after], set(cases.group(1).split(",")) if cases else None))
        row = _ROW.match(line)
        if row and row.group(1) not in measured:
            rows.append(line)
            peaks.append(row.group(2))
    # Each kept row was measured by the last run that covers its case.
    last = {
        name: max(i for i, (_, ran) in enumerate(runs) if ran is None or name in ran)
        for name in {re.sub(r"-first$", "", row.split(" | ")[0][2:]) for row in rows}
        if any(ran is None or name in ran for _, ran in runs)
    }
    notes = [note for i, (pair, _) in enumerate(runs) if i in last.values() for note in pair]
    return rows, peaks, notes


def render(
    cases: list[Case], resources: int, command: str, kept: tuple[list[str], list[str], list[str]]
) -> str:
    rows = [
        "| case | request | input | status | resources | findings | peak RSS | "
        "server RSS before | time | response (gzip / plain) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *kept[0],
    ]
    for c in cases:
        rows.append(
            f"| {c.name} | {c.request} | {c.input_desc}, {mib(c.input_bytes)} | {c.status} | "
            f"{c.resources:,} | {c.findings:,} | **{mib(c.peak_rss)}** | {mib(c.idle_rss)} | "
            f"{c.seconds:.1f} s | {mib(c.wire_bytes)} / {mib(c.plain_bytes)} |"
        )
    peaks = [c.peak_rss for c in cases] + [int(float(p.replace(",", "")) * 2**20) for p in kept[1]]
    ceiling = max(peaks)
    measured = ", ".join(c.name for c in cases)
    other = " (the other rows)"
    earlier = [note.removesuffix(other) + other for note in kept[2]] if kept[0] else []
    return "\n".join(
        [
            "# Server memory for the largest accepted inputs",
            "",
            "Written by `bench/api_memory.py`; do not edit by hand. The peak resident memory "
            "(VmHWM) of one `tutela serve` process answering one request of the largest size "
            f"a tenant may send: {resources:,} resources (the enterprise plan's "
            "`max_resources_per_scan`), within `TUTELA_MAX_UPLOAD_BYTES` (50 MiB); for the "
            "governance rows, of the `tutela jobs run-due` process that runs the scan.",
            "",
            *earlier,
            f"- measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
            f"Python {platform.python_version()}, SQLite store"
            + (f" ({measured})" if kept[0] else ""),
            f"- command: `{command}`",
            "",
            *rows,
            "",
            f"Highest peak: **{mib(ceiling)}**.",
            "",
        ]
    )
