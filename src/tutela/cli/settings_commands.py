"""``tutela admin settings``: show and change the platform settings operators change at run time.

They work on the database directly, through the same service as GET/PATCH /admin/settings, so
a change is validated and audit-logged the same way and reaches every running process within
TUTELA_SETTINGS_REFRESH_SECONDS.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table

from tutela.cli.errors import CliError, one_line_errors
from tutela.cli.server_commands import CLI_ACTOR, _unit_of_work, _validated, console
from tutela.cli.text import shown

if TYPE_CHECKING:
    from tutela.server.platform_settings.service import InForce

settings_app = typer.Typer(
    help="Platform settings changed at run time (stored in the database).", no_args_is_help=True
)

SettingName = Annotated[
    str,
    typer.Argument(
        help="default_plan, plan_quotas, rate_limit, tenant_rate_limit, narratives_enabled "
        "or email_from.",
        show_default=False,
    ),
]


@settings_app.command("show")
@one_line_errors
def show() -> None:
    """Show the runtime settings (value, and where it comes from)."""
    from tutela.server.platform_settings import service

    with _unit_of_work() as (runtime, session):
        in_force = service.read(session, runtime.startup_settings, runtime.shipped_catalog)
    _print(in_force)


@settings_app.command("set")
@one_line_errors
def set_setting(
    name: SettingName,
    value: Annotated[
        str,
        typer.Argument(
            help='The value: JSON (false, 25, {"starter": 50}) or plain text (600/minute).',
            show_default=False,
        ),
    ],
) -> None:
    """Change one runtime setting; validated and audit-logged like PATCH /admin/settings."""
    _change(name, _parsed(value))


@settings_app.command("reset")
@one_line_errors
def reset_setting(name: SettingName) -> None:
    """Put one runtime setting back to its default (the environment's or the catalogue's)."""
    _change(name, None)


def _change(name: str, value: Any) -> None:
    from tutela.server.platform_settings import service
    from tutela.server.platform_settings.schemas import SETTING_NAMES, SettingsChange

    if name not in SETTING_NAMES:
        raise CliError(f"no setting {name!r}; one of: {', '.join(SETTING_NAMES)}")
    if value is None:  # a reset
        body = SettingsChange.model_validate({name: None})
    else:
        body = _validated(SettingsChange, **{name: value})
    with _unit_of_work() as (runtime, session):
        in_force = service.change(
            session, runtime.startup_settings, runtime.shipped_catalog, actor=CLI_ACTOR, body=body
        )
    _print(in_force)


def _parsed(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value  # plain text: a limit, a plan id, an address


def _print(in_force: InForce) -> None:
    table = Table("setting", "value", "source", box=box.SIMPLE_HEAD, show_edge=False)
    for name, value in in_force.values.model_dump().items():
        stored = in_force.stored.get(name)
        source = (
            f"database ({shown(stored.updated_by)}, {stored.updated_at:%Y-%m-%d %H:%M} UTC)"
            if stored
            else "default"
        )
        table.add_row(name, shown(json.dumps(value)), source)
    console.print(table)
