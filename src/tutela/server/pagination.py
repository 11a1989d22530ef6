"""Keyset pagination over (created_at, id), newest first, with opaque cursors."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from tutela.server.errors import InvalidInput
from tutela.server.text import is_storable

T = TypeVar("T")
Row = TypeVar("Row")

LimitParam = Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")]
# The cursors this server writes are under 120 characters; a longer one was not written here.
MAX_CURSOR_LENGTH = 200
MAX_ROW_ID_LENGTH = 64
CursorParam = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; omit for the first page.",
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(created_at: dt.datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """The (created_at, id) a cursor of ours holds; anything else is a 422, never a 500.

    The instant is made UTC here, so an offset that moves it past year 1 or 9999 fails now and
    not when a backend binds it, and a naive one (no cursor of ours) is refused alike on SQLite
    and PostgreSQL.
    """
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("cursor too long")
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        created, row_id = json.loads(raw)
        if not isinstance(created, str) or not isinstance(row_id, str):
            raise TypeError("cursor fields are not strings")
        after = dt.datetime.fromisoformat(created)
        if after.tzinfo is None:
            raise ValueError("naive cursor instant")
        if len(row_id) > MAX_ROW_ID_LENGTH or not is_storable(row_id):
            raise ValueError("cursor id is not one of ours")
        return after.astimezone(dt.UTC), row_id
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error):
        # UnicodeDecodeError and json.JSONDecodeError are ValueErrors.
        raise InvalidInput(("query", "cursor"), "Invalid pagination cursor") from None


def paginate(
    session: Session,
    statement: Select[Row],
    *,
    created_at: InstrumentedAttribute[Any],
    row_id: InstrumentedAttribute[Any],
    cursor: str | None,
    limit: int,
) -> tuple[list[Row], str | None]:
    """Rows of one page, newest first, and the cursor of the next page (None at the end)."""
    if cursor:
        after_created, after_id = decode_cursor(cursor)
        statement = statement.where(
            or_(created_at < after_created, and_(created_at == after_created, row_id < after_id))
        )
    rows = list(
        session.scalars(statement.order_by(created_at.desc(), row_id.desc()).limit(limit + 1))
    )
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, created_at.key), getattr(last, row_id.key))
