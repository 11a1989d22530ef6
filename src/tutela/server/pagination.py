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

T = TypeVar("T")
Row = TypeVar("Row")

LimitParam = Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")]
CursorParam = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first page.")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(created_at: dt.datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        return dt.datetime.fromisoformat(created), str(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
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
