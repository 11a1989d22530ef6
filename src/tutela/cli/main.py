"""The ``tutela`` console command."""

from __future__ import annotations

import os
import sys

import typer

from tutela import __version__
from tutela.cli import (
    checks,
    export,
    gate,
    job_commands,
    lifecycle_commands,
    scan,
    server_commands,
    settings_commands,
)
from tutela.cli.errors import one_line_errors

app = typer.Typer(
    name="tutela",
    help="Compliance for AI infrastructure on Azure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("scan")(one_line_errors(scan.scan, code=scan.INTERNAL_ERROR_EXIT))
app.command("gate")(one_line_errors(gate.gate, code=gate.INTERNAL_ERROR_EXIT))
app.command("export")(one_line_errors(export.export, code=export.INTERNAL_ERROR_EXIT))
app.add_typer(checks.checks_app, name="checks")
app.command("serve")(server_commands.serve)
app.add_typer(server_commands.db_app, name="db")
server_commands.admin_app.command("export-tenant")(lifecycle_commands.export_tenant)
server_commands.admin_app.command("delete-tenant")(lifecycle_commands.delete_tenant)
server_commands.admin_app.command("cancel-deletion")(lifecycle_commands.cancel_deletion)
server_commands.admin_app.command("purge-tenants")(lifecycle_commands.purge_tenants)
server_commands.admin_app.add_typer(settings_commands.settings_app, name="settings")
app.add_typer(server_commands.admin_app, name="admin")
app.add_typer(server_commands.keys_app, name="keys")
app.add_typer(server_commands.reports_app, name="reports")
app.command("worker")(job_commands.worker)
app.command("beat")(job_commands.beat)
app.add_typer(job_commands.jobs_app, name="jobs")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def run() -> None:
    """The console script."""
    scan.one_shot_process = True
    try:
        app()
    except SystemExit as done:
        if not scan.kept_alive:
            raise
        # A scan ran: leave without tearing its objects down one by one (see cli/scan.py).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(done.code if isinstance(done.code, int) else 0 if done.code is None else 1)
