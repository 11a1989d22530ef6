"""Structured logging (one event name, key=value fields) and the request correlation id.

Every value a log call passes as an argument is escaped when the line is rendered, by the
formatter: control characters (CR, LF, ESC, …) become visible escapes and a value holding
spaces, quotes or ``=`` is quoted, so a request path or a name cannot start a line or forge a
field of its own. Doing it here, not at call sites, means no call site can forget.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

_correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")


def correlation_id() -> str:
    return _correlation_id.get()


def set_correlation_id(value: str | None = None) -> contextvars.Token[str]:
    return _correlation_id.set(value or uuid.uuid4().hex)


def reset_correlation_id(token: contextvars.Token[str]) -> None:
    _correlation_id.reset(token)


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _correlation_id.get()
        return True


_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s cid=%(correlation_id)s %(message)s"

# C0 and C1 controls, DEL, Unicode line/paragraph separators and bidirectional overrides: what
# could end a line, move the cursor, colour a terminal or reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_QUOTES = re.compile(r'[\s"=]')


class LogFields(str):
    """Already rendered ``key=value`` fields: control characters escaped, but not quoted."""


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def escape_controls(text: str) -> str:
    """``text`` with every control character written as an escape: always one line."""
    return _UNSAFE.sub(_visible, text)


def log_value(value: object) -> object:
    """One argument of a log call as it may appear in a line: numbers as they are, any other
    value as text with backslashes and controls escaped, quoted if it holds a space, a quote
    or ``=`` (or is empty)."""
    if isinstance(value, bool | int | float | Decimal) or value is None:
        return value
    if isinstance(value, LogFields):
        return escape_controls(value)
    text = escape_controls(str(value).replace("\\", "\\\\"))
    if not text or _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '\\"') + '"'
    return text


class EscapingFormatter(logging.Formatter):
    """Renders a record's arguments through ``log_value`` and keeps the whole event on one
    line (a message built without arguments, or a traceback, has its controls escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        # A copy: other handlers (and pytest's caplog) see the record as it was logged.
        safe = logging.makeLogRecord(record.__dict__)
        safe.args = _escaped_args(record.args)
        safe.exc_text = None
        return escape_controls(super().format(safe))


def _escaped_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return {name: log_value(value) for name, value in args.items()}
    if isinstance(args, tuple):
        return tuple(log_value(value) for value in args)
    return args


def configure_logging(level: str) -> None:
    """Send tutela's logs to stderr as key=value lines; idempotent."""
    root = logging.getLogger("tutela")
    root.setLevel(level)
    if not any(getattr(h, "_tutela", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(EscapingFormatter(_FORMAT))
        handler.addFilter(_CorrelationFilter())
        handler._tutela = True  # type: ignore[attr-defined]
        root.addHandler(handler)
