"""``tutela export``: a live Azure estate written as one Resource Graph export for ``tutela scan``.

It reads the subscriptions through the Azure SDK exactly as a live scan does
(``scanner.sources.azure_export``) and writes every record in one JSON document, no page left
to fetch. Signing in is as a service principal (the only credential the live source takes): the
tenant and client ids as options or ``AZURE_TENANT_ID`` / ``AZURE_CLIENT_ID``, the secret only
from ``AZURE_CLIENT_SECRET``, so that it never sits in a shell history or a process list.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tutela.cli.errors import err_console, fail
from tutela.cli.text import plain

if TYPE_CHECKING:
    from tutela.scanner.sources.azure_arm import Progress

USAGE_EXIT = 2  # bad usage: a missing credential, a malformed subscription id, no azure extra
AZURE_EXIT = 1  # Azure could not be read: sign-in, access, throttling, network
INTERNAL_ERROR_EXIT = 3
SECRET_VARIABLE = "AZURE_CLIENT_SECRET"  # noqa: S105 (the variable's name, not a secret)


@dataclass(frozen=True, slots=True)
class _Principal:
    tenant_id: str
    client_id: str
    client_secret: str


def export(
    subscription: Annotated[
        list[str],
        typer.Option(
            "--subscription",
            metavar="ID",
            help="A subscription id to export; repeat the option for more.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write the export to this file instead of stdout.",
            show_default=False,
        ),
    ] = None,
    tenant_id: Annotated[
        str | None,
        typer.Option(
            envvar="AZURE_TENANT_ID",
            metavar="GUID",
            help="The service principal's Entra tenant id.",
            show_default=False,
        ),
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            envvar="AZURE_CLIENT_ID",
            metavar="GUID",
            help=f"The service principal's client id (its secret: {SECRET_VARIABLE} only).",
            show_default=False,
        ),
    ] = None,
    max_workers: Annotated[int, typer.Option(min=1, max=32, help="Concurrent ARM calls.")] = 4,
) -> None:
    """Read a live Azure estate and write it as one Resource Graph export for `tutela scan`."""
    principal = _principal(tenant_id, client_id, os.environ.get(SECRET_VARIABLE))
    _writable(output)
    try:
        from tutela.scanner.sources.azure_export import export_live_estate
        from tutela.scanner.sources.azure_identity import AzureSourceError
    except ModuleNotFoundError as exc:
        raise fail(
            f"the azure extra is not installed ({exc.name}); install Tutela with it: "
            "pip install -c constraints.txt '.[azure]' in a checkout (README, Install)",
            USAGE_EXIT,
        ) from None
    try:
        with _progress() as follow:
            exported = export_live_estate(
                principal, subscription, max_workers=max_workers, progress=follow
            )
    except AzureSourceError as exc:
        malformed = exc.problem.startswith(("not subscription ids", "no subscription"))
        raise fail(str(exc), USAGE_EXIT if malformed else AZURE_EXIT) from None
    for warning in exported.warnings:
        err_console.print(f"warning: {plain(warning)}", markup=False)
    document = exported.document()
    where = plain(_write(document, output))
    subscriptions = len({s.strip() for s in subscription if s.strip()})
    err_console.print(
        f"exported {document['count']} record(s) of {subscriptions} subscription(s) to "
        f"{where}; scan it with: tutela scan {where if output else 'FILE'}",
        markup=False,
    )


def _principal(tenant_id: str | None, client_id: str | None, secret: str | None) -> _Principal:
    tenant = (tenant_id or "").strip()
    client = (client_id or "").strip()
    secret = secret or ""
    missing = [
        name
        for name, value in (
            ("--tenant-id (or AZURE_TENANT_ID)", tenant),
            ("--client-id (or AZURE_CLIENT_ID)", client),
            (SECRET_VARIABLE, secret.strip()),
        )
        if not value
    ]
    if missing:
        raise fail(
            f"sign-in needs a service principal: missing {', '.join(missing)} "
            "(docs/export.md, Credentials)",
            USAGE_EXIT,
        )
    return _Principal(tenant, client, secret)


@contextlib.contextmanager
def _progress() -> Iterator[Progress | None]:
    """A progress display on stderr while Azure is read, when stderr is a terminal."""
    if not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn
    from rich.progress import Progress as Display

    stages = {"resource graph": "Resource Graph queries", "resource details": "ARM list calls"}
    with Display(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
    ) as display:
        tasks: dict[str, Any] = {}

        def follow(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = display.add_task(stages.get(stage, stage), total=total)
            display.update(tasks[stage], completed=done, total=total)

        yield follow


def _writable(output: Path | None) -> None:
    """Refuse an output that cannot be written before Azure is read, not after."""
    if output is None:
        return
    folder = output.expanduser().parent
    if not folder.is_dir():
        raise fail(f"cannot write {output}: no folder {folder}", USAGE_EXIT)
    if output.expanduser().is_dir():
        raise fail(f"cannot write {output}: it is a folder", USAGE_EXIT)


def _write(document: dict[str, Any], output: Path | None) -> str:
    """Write the document; a file appears whole or not at all. Returns where it went."""
    if output is None:
        json.dump(document, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        sys.stdout.flush()
        return "stdout"
    target = output.expanduser()
    try:
        descriptor, part = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}", USAGE_EXIT) from None
    try:
        with open(descriptor, "w", encoding="utf-8") as file:
            json.dump(document, file, ensure_ascii=False)
        Path(part).replace(target)
    except OSError as exc:
        Path(part).unlink(missing_ok=True)
        raise fail(f"cannot write {output}: {exc.strerror or exc}", USAGE_EXIT) from None
    return str(output)
