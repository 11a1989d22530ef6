"""Structured logging (one event name, key=value fields) and the request correlation id."""

from __future__ import annotations

import contextvars
import logging
import sys
import uuid

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


def configure_logging(level: str) -> None:
    """Send tutela's logs to stderr as key=value lines; idempotent."""
    root = logging.getLogger("tutela")
    root.setLevel(level)
    if not any(getattr(h, "_tutela", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(_CorrelationFilter())
        handler._tutela = True  # type: ignore[attr-defined]
        root.addHandler(handler)
