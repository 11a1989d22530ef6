"""``.tutela.yaml``: the options of ``tutela scan`` kept in a file, under the command line's.

The file is found from the working directory upwards (the first ``.tutela.yaml`` or
``.tutela.yml`` met), or named with ``--config``. Its keys are the options' long names
(``fail-on`` or ``fail_on``) and ``paths`` for the inputs. It becomes click's ``default_map``,
so click's own order decides every value: the command line, then the option's environment
variable, then the file, then the option's default. Paths in the file are relative to the
file's directory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, get_args

import typer

from tutela.cli.errors import fail

CONFIG_NAMES = (".tutela.yaml", ".tutela.yml")
USAGE_EXIT = 2
_NOT_IN_FILE = {"config", "help"}
# What click and pydantic put before the reason: the option's name is the file's key here.
_CLICK_PREFIX = re.compile(r"^(Invalid value for '[^']*': )?(Value error, )?")


class _Parameter(Protocol):
    """What a command's parameter says of itself (click's, as typer ships it)."""

    @property
    def name(self) -> str | None: ...

    @property
    def opts(self) -> list[str]: ...

    @property
    def nargs(self) -> int: ...

    @property
    def param_type_name(self) -> str: ...

    def process_value(self, ctx: Any, value: Any) -> Any: ...


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


def find_config(start: Path) -> Path | None:
    """The first configuration file in ``start`` or a directory above it, or None."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def read_config(
    path: Path, params: Sequence[_Parameter], ctx: typer.Context | None = None
) -> dict[str, Any]:
    """The file's values as ``default_map`` of the command: keyed by parameter name, typed as
    click expects (lists for repeatable options, paths resolved against the file's directory).
    With ``ctx``, each value is also checked as the option checks it (``ConfigError`` if bad).
    """
    import yaml  # only when there is a file: most scans have none

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problem = " ".join(str(exc).split())
        raise ConfigError(f"{path}: not valid YAML ({problem})") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping of option names to values")
    by_key = _parameters_by_key(params)
    values: dict[str, Any] = {}
    for key, value in document.items():
        param = by_key.get(str(key).replace("_", "-"))
        if param is None or param.name is None:
            known = ", ".join(sorted(by_key))
            raise ConfigError(f"{path}: unknown key {key!r}; known keys: {known}")
        if value is None:  # an empty key leaves the option at its default
            continue
        values[param.name] = _typed(param, value, path, key)
        _check_values(param, values[param.name], path, key, ctx)
    return values


def _check_values(
    param: _Parameter, value: Any, path: Path, key: object, ctx: typer.Context | None
) -> None:
    """A value the option would refuse on the command line is refused here, naming the file:
    click would otherwise report it as the option's, as if it had been typed."""
    if ctx is None:
        return
    try:
        param.process_value(ctx, value)
    except typer.BadParameter as exc:
        message = _CLICK_PREFIX.sub("", " ".join(exc.format_message().split()))
        raise ConfigError(f"{path}: key {key!r}: {message}") from None


def _parameters_by_key(params: Sequence[_Parameter]) -> dict[str, _Parameter]:
    """Each parameter by the key that names it in a file: its first long option name without
    dashes (``fail-on``), or an argument's name (``paths``)."""
    found: dict[str, _Parameter] = {}
    for param in params:
        if param.param_type_name == "argument" and param.name:
            found[param.name.replace("_", "-")] = param
            continue
        names = [opt[2:] for opt in param.opts if opt.startswith("--")]
        if names and names[0] not in _NOT_IN_FILE:
            found[names[0]] = param
    return found


def _typed(param: _Parameter, value: Any, path: Path, key: object) -> Any:
    many = bool(getattr(param, "multiple", False)) or param.nargs == -1
    if many:
        items = value if isinstance(value, list) else [value]
    elif isinstance(value, list):
        if not all(isinstance(item, str | int | float) for item in value):
            raise ConfigError(f"{path}: key {key!r} takes a value or a list of plain values")
        items = [",".join(str(item) for item in value)]  # ``frameworks: [sox, dora]``
    else:
        items = [value]
    if any(isinstance(item, dict | list) for item in items):
        raise ConfigError(f"{path}: key {key!r} takes a value or a list of values")
    if _takes_paths(param):
        items = [_relative_to(path.parent, item) for item in items]
    return items if many else items[0]


def _takes_paths(param: _Parameter) -> bool:
    """Whether the parameter takes paths: annotated ``Path`` (typer), or of click's path type."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        annotation = descriptor.annotation
        return annotation is Path or Path in get_args(annotation)
    return getattr(getattr(param, "type", None), "name", None) == "path"


def _relative_to(base: Path, value: Any) -> str:
    text = str(value)
    if text == "-":  # standard input
        return text
    return str(base / Path(text).expanduser())


def use_config(ctx: typer.Context, value: Path | None) -> Path | None:
    """The ``--config`` option's callback: the named file or the one found, as defaults.

    Eager, so it runs before every other parameter takes its value.
    """
    if ctx.resilient_parsing:
        return value
    path = value if value is not None else find_config(Path.cwd())
    if path is None:
        return None
    try:
        values = read_config(path, ctx.command.params, ctx)
    except ConfigError as exc:
        raise fail(str(exc), USAGE_EXIT) from None
    ctx.default_map = {**(ctx.default_map or {}), **values}
    return path
