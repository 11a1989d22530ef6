"""Turn any expected failure into one readable line and a non-zero exit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from tutela.cli.text import shown

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(Exception):
    """A failure the user can act on; its message is printed as is."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` and exit ``code``: plain text (brackets in a file name are not markup,
    and a name's terminal escape sequences are dropped)."""
    err_console.print(f"[bold red]error:[/] {shown(message)}", markup=True)
    return typer.Exit(code)


def _describe(exc: Exception) -> str | None:
    """The one-line message for failures we expect, or None for a real bug."""
    if isinstance(exc, CliError):
        return str(exc)
    if (
        isinstance(exc, ModuleNotFoundError)
        and exc.name
        and exc.name.split(".")[0]
        in {
            "fastapi",
            "sqlalchemy",
            "alembic",
            "uvicorn",
            "pydantic_settings",
            "cryptography",
            "limits",
            "psycopg",
            "redis",
            "celery",
        }
    ):
        return (
            f"the server extra is not installed ({exc.name}); install Tutela with it: "
            "pip install -c constraints.txt '.[server]' in a checkout (README, Install)"
        )
    try:
        from tutela.server.config import SettingsError
        from tutela.server.errors import DomainError
    except ModuleNotFoundError:
        return None
    if isinstance(exc, SettingsError):
        return str(exc)
    if isinstance(exc, DomainError):
        detail = exc.detail
        if isinstance(detail, list):
            detail = "; ".join(f"{'.'.join(map(str, d['loc'][1:]))}: {d['msg']}" for d in detail)
        return str(detail)
    try:
        from sqlalchemy.exc import OperationalError
    except ModuleNotFoundError:
        return None
    if isinstance(exc, OperationalError):
        return f"database unavailable: {str(exc.orig).strip().splitlines()[0]}"
    return None


def one_line_errors(func: Callable[P, R], *, code: int = 1) -> Callable[P, R]:
    """Any failure becomes one line on stderr and exit ``code``, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            message = _describe(exc) or f"unexpected {type(exc).__name__}: {exc}"
            raise fail(message, code) from None

    return wrapper
