"""The report for people: a summary and the failing checks as rich tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def _score(value: Any) -> str:
    return "n/a" if value is None else f"{value}/100"


def render_table(report: Mapping[str, Any], console: Console, *, max_rows: int = 50) -> None:
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
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for finding in report.get("findings", []):
        grouped.setdefault((finding["check_id"], finding["resource"]), []).append(finding)
    if not grouped:
        console.print("[green]No failing checks.[/]")
        return
    failing = Table(show_header=True, title="Failing checks", title_justify="left")
    for column in ("severity", "check", "resource", "controls"):
        failing.add_column(column, overflow="fold")
    for index, ((check_id, _resource), findings) in enumerate(grouped.items()):
        if index == max_rows:
            break
        first = findings[0]
        failing.add_row(
            f"[{SEVERITY_STYLE[first['severity']]}]{first['severity']}[/]",
            f"{check_id}\n{first['title']}",
            f"{first['resource_name']}\n[dim]{first['resource_type']}[/]",
            ", ".join(sorted({f["control_id"] for f in findings})),
        )
    console.print(failing)
    if len(grouped) > max_rows:
        console.print(
            f"… and {len(grouped) - max_rows} more failing checks (--format json for all)."
        )
