"""The ``tutela`` console command.

Each subcommand's module is imported only when that subcommand runs or shows its own help:
``tutela --help`` lists them from the registry below, so it imports no scanner, server or YAML.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from tutela import __version__
from tutela.cli import one_shot

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter  # typer's own click

# What a subcommand's module gives: the command's function, or a Typer of subcommands.
Target = Callable[..., Any] | typer.Typer


def _scan() -> Target:
    from tutela.cli import scan
    from tutela.cli.errors import one_line_errors

    return one_line_errors(scan.scan, code=scan.INTERNAL_ERROR_EXIT)


def _gate() -> Target:
    from tutela.cli import gate
    from tutela.cli.errors import one_line_errors

    return one_line_errors(gate.gate, code=gate.INTERNAL_ERROR_EXIT)


def _export() -> Target:
    from tutela.cli import export
    from tutela.cli.errors import one_line_errors

    return one_line_errors(export.export, code=export.INTERNAL_ERROR_EXIT)


def _serve() -> Target:
    from tutela.cli import server_commands

    return server_commands.serve


def _worker() -> Target:
    from tutela.cli import job_commands

    return job_commands.worker


def _beat() -> Target:
    from tutela.cli import job_commands

    return job_commands.beat


def _checks() -> Target:
    from tutela.cli import checks

    return checks.checks_app


def _db() -> Target:
    from tutela.cli import server_commands

    return server_commands.db_app


@cache  # the commands are added to server_commands' admin_app once per process
def _admin() -> Target:
    from tutela.cli import lifecycle_commands, server_commands, settings_commands

    admin = server_commands.admin_app
    admin.command("export-tenant")(lifecycle_commands.export_tenant)
    admin.command("delete-tenant")(lifecycle_commands.delete_tenant)
    admin.command("cancel-deletion")(lifecycle_commands.cancel_deletion)
    admin.command("purge-tenants")(lifecycle_commands.purge_tenants)
    admin.add_typer(settings_commands.settings_app, name="settings", cls=Group)
    return admin


def _keys() -> Target:
    from tutela.cli import server_commands

    return server_commands.keys_app


def _reports() -> Target:
    from tutela.cli import server_commands

    return server_commands.reports_app


def _jobs() -> Target:
    from tutela.cli import job_commands

    return job_commands.jobs_app


@dataclass(frozen=True, slots=True)
class Subcommand:
    """A subcommand as ``tutela --help`` lists it, and how to import it when it runs."""

    name: str
    help: str  # its help's first paragraph (a test keeps it equal to the module's)
    load: Callable[[], Target]


# In the order ``tutela --help`` lists them; ``version`` is defined below, not imported.
SUBCOMMANDS = (
    Subcommand(
        "scan",
        "Scan files offline and gate: exit 0 passed, 1 gate failed, 2 bad input, 3 crash.",
        _scan,
    ),
    Subcommand(
        "gate",
        "Scan through the Tutela API and gate: exit 0 passed, 1 blocked, 2 usage or API error.",
        _gate,
    ),
    Subcommand(
        "export",
        "Read a live Azure estate and write it as one Resource Graph export for `tutela scan`.",
        _export,
    ),
    Subcommand(
        "serve",
        "Migrate the database and serve the API (and, with --demo, the demo tenant).",
        _serve,
    ),
    Subcommand(
        "worker",
        "Run a Celery worker: governance scans and retention, from the Redis queue.",
        _worker,
    ),
    Subcommand(
        "beat",
        "Run Celery beat, the clock that sends the periodic jobs (run exactly one).",
        _beat,
    ),
    Subcommand("version", "Print the version.", lambda: version),
    Subcommand("checks", "The catalogue's checks: list them, or show one.", _checks),
    Subcommand("db", "Database schema.", _db),
    Subcommand("admin", "Operate tenants.", _admin),
    Subcommand("keys", "Operators' API key management.", _keys),
    Subcommand("reports", "Saved reports.", _reports),
    Subcommand("jobs", "Background jobs: governance scans, retention.", _jobs),
)


class _Listed(TyperCommand):
    """A subcommand not imported yet, as ``--help`` lists it: its name and one line of help."""


def listed_help(command: Any) -> str:
    """What a command list shows of a command: its help's first paragraph, on one line."""
    text = command.short_help or command.help or ""
    return " ".join(text.split("\n\n", 1)[0].split())


class Group(TyperGroup):
    """A group whose command list shows each command's first paragraph of help whole (click
    cuts it at the terminal's width with "...")."""

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, listed_help(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class LazyGroup(Group):
    """The root command: its subcommands are built from ``SUBCOMMANDS`` on first use.

    Listing them (the help's Commands section) reads only the registry; running one, or asking
    for its help, imports its module then.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        listed: dict[str, Command] = {
            entry.name: _Listed(entry.name, help=entry.help, rich_markup_mode=self.rich_markup_mode)
            for entry in SUBCOMMANDS
        }
        self.commands = {**listed, **self.commands}  # any command registered on app as it is
        self._listing = False

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = self.commands.get(cmd_name)
        if isinstance(command, _Listed) and not self._listing:
            command = self.commands[cmd_name] = _build(cmd_name, self)
        return command

    @contextmanager
    def _only_listing(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        with self._only_listing():
            super().format_help(ctx, formatter)


def _build(name: str, group: LazyGroup) -> Command:
    """The subcommand's click command, as ``app.command`` or ``app.add_typer`` would make it."""
    target = next(entry for entry in SUBCOMMANDS if entry.name == name).load()
    if isinstance(target, typer.Typer):
        # typer before 0.20 has no "Did you mean" suggestions (nor the argument that sets them)
        suggest = (
            {}
            if not hasattr(group, "suggest_commands")
            else {"suggest_commands": group.suggest_commands}
        )
        return get_group_from_info(
            TyperInfo(target, name=name, cls=Group),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=group.rich_markup_mode,
            **suggest,
        )
    return get_command_from_info(
        CommandInfo(name=name, callback=target),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=group.rich_markup_mode,
    )


def _root() -> None:
    # A callback makes typer build a group however few commands are registered eagerly.
    pass


app = typer.Typer(
    name="tutela",
    cls=LazyGroup,
    callback=_root,
    help="Compliance for AI infrastructure on Azure.",
    no_args_is_help=True,
    # click's plain help and errors: rendering them with rich (typer's rich_utils imports
    # markdown, syntax and traceback support) cost more than the rest of `tutela --help`.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def run() -> None:
    """The console script."""
    one_shot.active = True
    try:
        app()
    except SystemExit as done:
        if not one_shot.kept_alive:
            raise
        # A scan ran: leave without tearing its objects down one by one (see cli/one_shot.py).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(done.code if isinstance(done.code, int) else 0 if done.code is None else 1)
