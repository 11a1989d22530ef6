"""The report for people: a summary and the failing checks as rich tables.

A failing check's controls are listed by id, each not mapped directly followed by its mapping
("supporting", "by analogy"); a general-purpose resource in an AI workload says which, and a
resource read from a file says where it is declared (a Terraform address, a template's path).

The tables fit the console's width, 80 columns in a pipe: ids (checks, frameworks) are never
wrapped or cut, their columns as wide as the longest shown; titles, controls and resource
details wrap, and a resource name or address longer than its column folds onto the next line,
whole. What reading the inputs left out (the report's ``notes``) follows the summary, a line each,
then what the scan never looked at (``not_evaluated``); a resource a template deploys under a
condition not decided offline is marked "(conditional)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from tutela.scanner.not_evaluated import one_line, unnoted
from tutela.scanner.outputs.failing import FailingCheck, failing_checks

MAX_ROWS = 50  # failing checks a table shows; the other formats hold them all
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def _score(value: Any) -> str:
    return "n/a" if value is None else f"{value}/100"


def render_table(
    report: Mapping[str, Any],
    console: Console,
    *,
    failing: Sequence[FailingCheck] | None = None,
    failing_total: int | None = None,
    max_rows: int = MAX_ROWS,
    more_hint: str = "--format json for all",
) -> None:
    """The summary, then the first ``max_rows`` failing checks, most severe first.

    ``failing`` saves regrouping the report's findings; it may hold only the first rows when
    ``failing_total`` says how many there are.
    """
    summary = Table(
        Column("framework", no_wrap=True),
        *(
            Column(column, justify="right")
            for column in ("score", "checks", "passed", "failed", "unknown", "controls with gaps")
        ),
        title="Tutela compliance scan",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for framework, scores in report.get("framework_scores", {}).items():
        summary.add_row(
            framework,
            _score(scores["score"]),
            str(scores["checks_evaluated"]),
            str(scores["checks_passed"]),
            str(scores["checks_failed"]),
            str(scores["checks_unknown"]),
            f"{scores['controls_with_gaps']}/{scores['controls_assessed']}",
        )
    console.print(summary)
    counts = ", ".join(
        f"[{SEVERITY_STYLE[s]}]{report.get(f'{s}_count', 0)} {s}[/]" for s in SEVERITY_STYLE
    )
    console.print(
        f"Aggregate score [bold]{_score(report.get('aggregate_score'))}[/] · "
        f"{report.get('resources_scanned', 0)} resources · "
        f"{report.get('checks_evaluated', 0)} checks evaluated, "
        f"{report.get('checks_unknown', 0)} could not be decided · findings: {counts}"
    )
    if report.get("checks_accepted"):  # accepted risks: out of the counts above
        console.print(f"{report['checks_accepted']} accepted (see --format json)")
    if report.get("notes"):  # what the inputs held that the scan could not read
        console.print("Notes:\n" + "\n".join(f"  {escape(text)}" for text in report["notes"]))
    unseen = unnoted(report.get("not_evaluated") or ())  # never looked at, not in the notes
    if unseen:
        lines = (f"  {escape(one_line(entry))}" for entry in unseen)
        console.print("Not evaluated:\n" + "\n".join(lines))
    rows = failing if failing is not None else failing_checks(report)
    total = len(rows) if failing_total is None else failing_total
    if not total:
        console.print("[green]No failing checks.[/]")
        return
    shown = rows[:max_rows]
    console.print(_failing_table(shown, console.width))
    if total > max_rows:
        console.print(f"… and {total - max_rows} more failing checks ({more_hint}).")


def _failing_table(rows: Sequence[FailingCheck], width: int) -> Table:
    """Severity; the check (id, title, controls); the resource (name, type, where declared).

    The widths are set, not left to rich's ratios (which may overrun the console's width when
    a column's minimum is large): the check column as wide as its longest id, and more when
    there is room; the resource column the rest.
    """
    # Beside the severity (8): the padding between the columns (1 each side) and the two rules
    # between them; the edges have neither rule nor padding. At 80 columns the resource column
    # holds a GUID (a role assignment's name) beside the longest check id.
    room = max(width - 8 - 6, 24)
    check_width = max(max((len(row.check_id) for row in rows), default=0), room * 9 // 20)
    table = Table(
        Column("severity", no_wrap=True, width=8),
        Column("check", width=check_width),
        Column("resource", overflow="fold", width=max(room - check_width, 12)),
        title="Failing checks",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    declared = [_declared_at(row.origin) for row in rows]
    for row, at in zip(rows, declared, strict=True):
        # House-policy checks are written by their users: their texts are escaped as names are.
        controls = escape(", ".join(row.controls_shown()))
        resource = escape(str(row.resource_name))
        if row.conditional:  # deployed only if a condition not decided offline holds
            resource += " [yellow](conditional)[/]"
        resource += f"\n[dim]{escape(row.resource_type)}[/]"
        if at:
            resource += f"\n{escape(at)}"
        if row.ai_workload:
            resource += f"\n[dim]AI workload: {escape(row.ai_workload)}[/]"
        table.add_row(
            f"[{SEVERITY_STYLE[row.severity]}]{row.severity}[/]",
            f"[bold]{escape(row.check_id)}[/]\n{escape(row.title)}\n[dim]{controls}[/]",
            resource,
        )
    return table


def _declared_at(origin: str | None) -> str | None:
    """Where the resource is declared in its file: a Terraform address or a template's path;
    None for a Resource Graph record (its name says it) or a resource the scan implied."""
    if not origin:
        return None
    _, _, at = origin.partition(": ")
    if not at or at == "implied by its resources" or _RECORD.fullmatch(at):
        return None
    return at


_RECORD = re.compile(r"(?:data|value)?\[\d+\]")  # a Resource Graph export's record
