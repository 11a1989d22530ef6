"""The report for people: a summary and the failing checks as rich tables.

A failing check's controls are listed by id, each not mapped directly followed by its mapping
("supporting", "by analogy"); a general-purpose resource in an AI workload says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

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
    summary = Table(title="Tutela compliance scan", show_header=True, title_justify="left")
    for column in (
        "framework",
        "score",
        "checks",
        "passed",
        "failed",
        "unknown",
        "controls with gaps",
    ):
        summary.add_column(column, justify="right" if column != "framework" else "left")
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
    rows = failing if failing is not None else failing_checks(report)
    total = len(rows) if failing_total is None else failing_total
    if not total:
        console.print("[green]No failing checks.[/]")
        return
    table = Table(show_header=True, title="Failing checks", title_justify="left")
    for column in ("severity", "check", "resource", "controls"):
        table.add_column(column, overflow="fold")
    for row in rows[:max_rows]:
        workload = f"\n[dim]AI workload: {escape(row.ai_workload)}[/]" if row.ai_workload else ""
        table.add_row(
            f"[{SEVERITY_STYLE[row.severity]}]{row.severity}[/]",
            f"{row.check_id}\n{row.title}",
            f"{escape(str(row.resource_name))}\n[dim]{escape(row.resource_type)}[/]{workload}",
            ", ".join(row.controls_shown()),
        )
    console.print(table)
    if total > max_rows:
        console.print(f"… and {total - max_rows} more failing checks ({more_hint}).")
