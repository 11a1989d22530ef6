"""``tutela checks list`` and ``tutela checks show``: the catalogue's checks, from the terminal."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tutela.cli.errors import fail, one_line_errors
from tutela.cli.selection import SelectionError, close_ids, matches, parse_severities, split_values

if TYPE_CHECKING:
    from tutela.scanner.catalog import Catalog
    from tutela.scanner.catalog.checks import CheckSpec

USAGE_EXIT = 2
INTERNAL_ERROR_EXIT = 3
WIDTH = 80  # the table and the text fit a classic terminal and a CI log

checks_app = typer.Typer(
    help="The catalogue's checks: list them, or show one.", no_args_is_help=True
)


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class ShowFormat(StrEnum):
    text = "text"
    json = "json"


def list_checks(
    framework: Annotated[
        list[str] | None,
        typer.Option(help="Only checks mapped to this framework (repeat, or comma-separate)."),
    ] = None,
    resource_type: Annotated[
        list[str] | None,
        typer.Option(
            help="Only checks on this ARM type, e.g. microsoft.storage/storageaccounts "
            "(globs allowed; repeat, or comma-separate)."
        ),
    ] = None,
    severity: Annotated[
        list[str] | None,
        typer.Option(help="Only checks of these severities: critical,high,medium,low."),
    ] = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", help="Table (80 columns) or JSON.")
    ] = ListFormat.table,
) -> None:
    """List the checks, most severe first, then by id."""
    from tutela.scanner.catalog import load_catalog

    catalog = load_catalog()
    try:
        levels = parse_severities(severity, "--severity")
    except SelectionError as exc:
        raise fail(str(exc), USAGE_EXIT) from None
    frameworks = split_values(framework)
    unknown = [f for f in frameworks if f not in catalog.framework_ids]
    if unknown or (framework is not None and not frameworks):
        named = f"unknown framework(s) {', '.join(unknown)}" if unknown else "no framework named"
        raise fail(
            f"--framework: {named}; valid ids: {', '.join(catalog.framework_ids)}", USAGE_EXIT
        )
    types = [t.lower() for t in split_values(resource_type)]
    chosen = [
        check
        for check in catalog.checks
        if (levels is None or check.severity in levels)
        and (not frameworks or set(frameworks) & set(frameworks_of(catalog, check.id)))
        and (not types or any(matches(t, rt) for t in types for rt in check.resource_types))
    ]
    chosen.sort(key=lambda c: (_RANK[c.severity], c.id))
    if output_format is ListFormat.json:
        rows = [
            {
                "id": check.id,
                "title": check.title,
                "severity": check.severity,
                "resource_types": list(check.resource_types),
                "frameworks": frameworks_of(catalog, check.id),
            }
            for check in chosen
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    _print_table(chosen)


_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _print_table(chosen: list[CheckSpec]) -> None:
    table = Table(show_header=True, box=None, pad_edge=False)
    widest = max((len(check.id) for check in chosen), default=2)
    table.add_column("ID", no_wrap=True, min_width=widest)
    table.add_column("SEVERITY", no_wrap=True)
    table.add_column("TITLE", overflow="fold", ratio=1)
    for check in chosen:
        table.add_row(check.id, check.severity, check.title)
    console = Console(width=WIDTH, highlight=False, markup=False, emoji=False)
    console.print(table)
    console.print(f"{len(chosen)} check(s)")


def show_check(
    check_id: Annotated[str, typer.Argument(help="A check id, e.g. AOAI-LOCAL-AUTH.")],
    output_format: Annotated[
        ShowFormat, typer.Option("--format", help="Readable text or JSON.")
    ] = ShowFormat.text,
) -> None:
    """Show every field of one check, and the controls it is mapped to in each framework."""
    from tutela.scanner.catalog import load_catalog

    catalog = load_catalog()
    ids = [check.id for check in catalog.checks]
    wanted = check_id.strip().upper()
    if wanted not in ids:
        raise fail(f"no check {check_id}{close_ids(wanted, ids)}", USAGE_EXIT)
    check = catalog.check(wanted)
    controls = controls_of(catalog, check.id)
    if output_format is ShowFormat.json:
        document = {**check.model_dump(mode="json", exclude_none=True), "controls": controls}
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    typer.echo("\n".join(_described(check, controls)))


def frameworks_of(catalog: Catalog, check_id: str) -> list[str]:
    """The frameworks with a control the check is mapped to, in catalogue order."""
    mapped = {framework for framework, _, _ in catalog.controls_for_check(check_id)}
    return [framework for framework in catalog.framework_ids if framework in mapped]


def controls_of(catalog: Catalog, check_id: str) -> dict[str, list[dict[str, str]]]:
    """framework → the controls the check is mapped to: id as findings show it, title, strength."""
    from tutela.scanner.catalog.checks import finding_control_id

    found: dict[str, list[dict[str, str]]] = {}
    for controls in catalog.controls:
        for control in controls.controls:
            mapping = control.mapping_of(check_id)
            if mapping is None:
                continue
            found.setdefault(controls.framework, []).append(
                {
                    "control_id": finding_control_id(controls.control_prefix, control.id),
                    "title": control.title,
                    "strength": mapping.strength,
                }
            )
    return {f: found[f] for f in catalog.framework_ids if f in found}


def _described(check: CheckSpec, controls: dict[str, list[dict[str, str]]]) -> Iterator[str]:
    yield f"{check.id} ({check.severity})"
    yield from _wrapped(check.title)
    yield ""
    yield from _field("Description", check.description)
    yield from _field("Severity", f"{check.severity}: {check.severity_reason}")
    yield from _field("Resource types", ", ".join(check.resource_types))
    if check.applies_if is not None:
        yield from _field("Applies if", _compact(check.applies_if))
    if check.pass_if is not None:
        yield from _field("Passes if", _compact(check.pass_if))
    else:
        params = f" with {_compact(check.params)}" if check.params else ""
        yield from _field("Evaluator", f"{check.evaluator}{params}")
    yield from _field("Remediation", check.remediation)
    yield from _field("Portal steps", check.portal_steps)
    yield from _field("Owner", f"{check.owner_role}; effort {check.effort}")
    if check.references:
        yield "References:"
        for reference in check.references:
            named = " ".join(p for p in (reference.id, reference.title, reference.url) if p)
            yield from _wrapped(f"- {reference.kind}: {named}", indent="  ", rest="    ")
    yield "Mapped controls:" if controls else "Mapped controls: none"
    for framework, mapped in controls.items():
        yield f"  {framework}"
        for control in mapped:
            line = f"- {control['control_id']} ({control['strength']}): {control['title']}"
            yield from _wrapped(line, indent="    ", rest="      ")


def _field(name: str, value: str) -> Iterator[str]:
    yield f"{name}:"
    yield from _wrapped(value, indent="  ", rest="  ")


def _wrapped(text: str, indent: str = "", rest: str | None = None) -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()),
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=indent if rest is None else rest,
        break_on_hyphens=False,
    ) or [indent]


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


checks_app.command("list")(one_line_errors(list_checks, code=INTERNAL_ERROR_EXIT))
checks_app.command("show")(one_line_errors(show_check, code=INTERNAL_ERROR_EXIT))
