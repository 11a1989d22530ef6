"""The ``tutela`` console command."""

from __future__ import annotations

import typer

from tutela import __version__
from tutela.cli import scan, server_commands

app = typer.Typer(
    name="tutela",
    help="Compliance for AI infrastructure on Azure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("scan")(scan.scan)
app.command("serve")(server_commands.serve)
app.add_typer(server_commands.db_app, name="db")
app.add_typer(server_commands.admin_app, name="admin")
app.add_typer(server_commands.keys_app, name="keys")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def run() -> None:
    app()
