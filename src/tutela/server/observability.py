"""Structured logging (one event name, key=value fields) and the request correlation id.

Every value a log call passes as an argument is escaped when the line is rendered, by the
formatter: control characters (CR, LF, ESC, …) become visible escapes and a value holding
spaces, quotes or ``=`` is quoted, so a request path or a name cannot start a line or forge a
field of its own. Doing it here, not at call sites, means no call site can forget.

With ``TUTELA_LOG_FORMAT=json`` each event is one JSON object instead (python-json-logger): the
time, level, logger, event name, message, correlation id and the call's ``key=%s`` fields by
name. JSON encoding escapes every control character, so the one-line guarantee holds there too.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

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


_FIELD = re.compile(r"(\w+)=(?:\"?)%[-#0 +]*\d*(?:\.\d+)?[sdifr]")
# Loggers of the libraries a process runs, routed through our handler with JSON lines so that
# every line of the process is JSON and carries a correlation id.
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "celery")


class JsonLineFormatter(JsonFormatter):
    """One JSON object per event: ``event`` (the message's first word) and each ``key=%s``
    placeholder of the call as a field of its own, beside the rendered ``message``."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_default=str,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.pop("color_message", None)  # uvicorn's copy of the message for terminals
        template = record.msg if isinstance(record.msg, str) else ""
        if record.name.startswith("tutela"):  # our calls start with their event's name
            log_data["event"] = template.split(" ", 1)[0]
        args = record.args if isinstance(record.args, tuple) else ()
        names = _FIELD.findall(template)
        if args and len(names) == len(args):
            for name, value in zip(names, args, strict=True):
                log_data.setdefault(name, value)


def _formatter(log_format: str) -> logging.Formatter:
    return JsonLineFormatter() if log_format == "json" else EscapingFormatter(_FORMAT)


def configure_logging(level: str, log_format: Literal["text", "json"] = "text") -> None:
    """Send tutela's logs to stderr, as key=value lines or JSON objects; idempotent.

    With JSON, every line of the process is JSON: uvicorn's and Celery's own loggers go
    through the same handler, and so does whatever reaches the root logger."""
    ours = logging.getLogger("tutela")
    ours.setLevel(level)
    handler = next((h for h in ours.handlers if getattr(h, "_tutela", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(_CorrelationFilter())
        handler._tutela = True  # type: ignore[attr-defined]
        ours.addHandler(handler)
    handler.setFormatter(_formatter(log_format))
    if log_format == "json":
        ours.propagate = False  # the root logger's handler is this one too
        logging.getLogger().handlers = [handler]
        logging.captureWarnings(True)  # a library's warnings too, as WARNING lines
        for name in _LIBRARY_LOGGERS:
            library = logging.getLogger(name)
            library.handlers = [handler]
            library.setLevel(level)
            library.propagate = False
