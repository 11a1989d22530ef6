"""/exceptions bodies: a request to accept a check's failure, its changes, and the exception."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from tutela.server.exceptions.models import (
    MAX_REASON_CHARS,
    MAX_RESOURCE_CHARS,
    MAX_TICKET_CHARS,
    RiskException,
)
from tutela.server.schemas import InputModel, OutputModel, Timestamp

Status = Literal["pending", "approved", "revoked"]
CheckId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON_CHARS)]
Ticket = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TICKET_CHARS)]
Resource = Annotated[str, StringConstraints(min_length=1, max_length=MAX_RESOURCE_CHARS)]
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """A day as the schema says, ``YYYY-MM-DD``: Pydantic alone reads 0 or 1.8e9 as Unix times."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        return value.strip()
    raise PydanticCustomError("date_type", "Input should be a date, YYYY-MM-DD")


Day = Annotated[dt.date, BeforeValidator(_iso_day)]

_EXPIRES = (
    "The first day the failures count again (YYYY-MM-DD, UTC): scans dated before it accept "
    "them. After today."
)
_RESOURCE = (
    "The resource's ARM id, or a glob over ARM ids (`*` any characters, `/` included; `?` one; "
    "`[...]` one of a set), compared without case, e.g. "
    "`/subscriptions/*/resourceGroups/rg-sandbox/*`."
)


class ExceptionCreate(InputModel):
    """A request to accept a check's failures on a resource; pending until approved."""

    check_id: CheckId = Field(description="A check of the catalogue, e.g. `ACR-ANON-PULL`.")
    resource: Resource = Field(description=_RESOURCE)
    reason: Reason = Field(description="Why the risk is accepted.")
    ticket: Ticket | None = Field(default=None, description="A change or risk ticket reference.")
    expires: Day = Field(description=_EXPIRES)


class ExceptionUpdate(InputModel):
    """What to change; an approved exception goes back to pending, to be approved again."""

    reason: Reason | None = None
    ticket: Ticket | None = Field(default=None, description="null removes the reference.")
    expires: Day | None = Field(default=None, description=_EXPIRES)


class ExceptionOut(OutputModel):
    id: str = Field(examples=["exc_3f2b8c1e5d4a4b7e9c6f2a1d0e8b7c54"])
    check_id: str
    resource: str = Field(description=_RESOURCE)
    reason: str
    ticket: str | None
    expires: dt.date = Field(description=_EXPIRES)
    status: Status = Field(
        description="pending (requested or changed: not applied), approved, or revoked (kept "
        "for the audit trail)."
    )
    active: bool = Field(
        description="Whether scans today accept the failures: approved and not yet expired."
    )
    requested_by: str = Field(
        description="Who requested it, or last changed it: they may not approve it."
    )
    approved_by: str | None
    approved_at: Timestamp | None
    revoked_by: str | None
    revoked_at: Timestamp | None
    expiry_notice_sent_at: Timestamp | None = Field(
        description="When the owners and admins were mailed that it expires within 7 days."
    )
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, row: RiskException, today: dt.date) -> Self:
        return cls.model_validate(
            {
                **{name: getattr(row, name) for name in cls.model_fields if name != "active"},
                "active": row.active_on(today),
            }
        )
