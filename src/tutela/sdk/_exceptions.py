"""``session.exceptions``: risk exceptions (accepted findings), sync and async, on /exceptions.

Requesting, changing and revoking need ``exceptions:write``; approving needs
``exceptions:approve`` and someone other than the requester (four eyes); reading needs
``exceptions:read``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from tutela.sdk._flow import Call, Pages, parse_as
from tutela.sdk.models import APIModel, Page

if TYPE_CHECKING:
    from tutela.sdk._session import AsyncSession, Session

ExceptionStatus = Literal["pending", "approved", "revoked"]


class RiskException(APIModel):
    """A finding accepted as a risk: one check on a resource (ARM id or glob) until ``expires``.

    ``active`` while approved and today is before ``expires``; scans then list the pair under
    ``accepted`` and leave it out of the counts, scores and gate.
    """

    id: str
    check_id: str
    resource: str
    reason: str
    ticket: str | None = None
    expires: dt.date
    status: ExceptionStatus
    active: bool
    requested_by: str
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    revoked_by: str | None = None
    revoked_at: dt.datetime | None = None
    expiry_notice_sent_at: dt.datetime | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


def _path(exception_id: str, action: str = "") -> str:
    return f"/exceptions/{quote(str(exception_id), safe='')}{action}"


def list_exceptions(
    page_size: int,
    status: ExceptionStatus | None,
    check_id: str | None,
    expiring_before: dt.date | None,
) -> Pages[RiskException]:
    def page(cursor: str | None) -> Call[Page[RiskException]]:
        params = {
            "limit": page_size,
            "cursor": cursor,
            "status": status,
            "check_id": check_id,
            "expiring_before": expiring_before.isoformat() if expiring_before else None,
        }
        return Call("GET", "/exceptions", parse_as(Page[RiskException]), params=params)

    return Pages(page)


def get_exception(exception_id: str) -> Call[RiskException]:
    return Call("GET", _path(exception_id), parse_as(RiskException))


def request_exception(
    check_id: str, resource: str, reason: str, expires: dt.date, ticket: str | None
) -> Call[RiskException]:
    body: dict[str, Any] = {
        "check_id": check_id,
        "resource": resource,
        "reason": reason,
        "expires": expires.isoformat(),
    }
    if ticket is not None:
        body["ticket"] = ticket
    return Call("POST", "/exceptions", parse_as(RiskException), json=body)


def update_exception(
    exception_id: str,
    reason: str | None,
    ticket: str | None,
    expires: dt.date | None,
    clear_ticket: bool,
) -> Call[RiskException]:
    body: dict[str, Any] = {}
    if reason is not None:
        body["reason"] = reason
    if clear_ticket:
        body["ticket"] = None
    elif ticket is not None:
        body["ticket"] = ticket
    if expires is not None:
        body["expires"] = expires.isoformat()
    return Call("PATCH", _path(exception_id), parse_as(RiskException), json=body)


def approve_exception(exception_id: str) -> Call[RiskException]:
    return Call("POST", _path(exception_id, "/approve"), parse_as(RiskException))


def revoke_exception(exception_id: str) -> Call[RiskException]:
    return Call("DELETE", _path(exception_id), parse_as(RiskException))


class Exceptions:
    """Your tenant's risk exceptions: findings accepted until a date, approved by a second
    person. Scans list the pairs they accept in the report's ``accepted`` (``report.raw``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def list(
        self,
        *,
        status: ExceptionStatus | None = None,
        check_id: str | None = None,
        expiring_before: dt.date | None = None,
        page_size: int = 50,
    ) -> Iterator[RiskException]:
        """Every exception (or those filtered), newest first, page by page."""
        pages = list_exceptions(page_size, status, check_id, expiring_before)
        return self._session._iterate(pages)

    def get(self, exception_id: str) -> RiskException:
        return self._session._run(get_exception(exception_id))

    def request(
        self,
        check_id: str,
        resource: str,
        *,
        reason: str,
        expires: dt.date,
        ticket: str | None = None,
    ) -> RiskException:
        """Ask to accept a check's failures on a resource (ARM id or glob); pending until
        someone else approves it."""
        return self._session._run(request_exception(check_id, resource, reason, expires, ticket))

    def update(
        self,
        exception_id: str,
        *,
        reason: str | None = None,
        ticket: str | None = None,
        expires: dt.date | None = None,
        clear_ticket: bool = False,
    ) -> RiskException:
        """Change what is given; the exception goes back to pending, to be approved again."""
        call = update_exception(exception_id, reason, ticket, expires, clear_ticket)
        return self._session._run(call)

    def approve(self, exception_id: str) -> RiskException:
        """Approve a pending exception that someone else requested (exceptions:approve)."""
        return self._session._run(approve_exception(exception_id))

    def revoke(self, exception_id: str) -> RiskException:
        """Revoke it: its failures count again from the next scan (kept, for the audit trail)."""
        return self._session._run(revoke_exception(exception_id))


class AsyncExceptions:
    """``Exceptions`` for ``AsyncSession``: the same calls, awaited."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def list(
        self,
        *,
        status: ExceptionStatus | None = None,
        check_id: str | None = None,
        expiring_before: dt.date | None = None,
        page_size: int = 50,
    ) -> AsyncIterator[RiskException]:
        """Every exception (or those filtered), newest first, page by page."""
        pages = list_exceptions(page_size, status, check_id, expiring_before)
        return self._session._iterate(pages)

    async def get(self, exception_id: str) -> RiskException:
        return await self._session._run(get_exception(exception_id))

    async def request(
        self,
        check_id: str,
        resource: str,
        *,
        reason: str,
        expires: dt.date,
        ticket: str | None = None,
    ) -> RiskException:
        """Ask to accept a check's failures on a resource (ARM id or glob); pending until
        someone else approves it."""
        call = request_exception(check_id, resource, reason, expires, ticket)
        return await self._session._run(call)

    async def update(
        self,
        exception_id: str,
        *,
        reason: str | None = None,
        ticket: str | None = None,
        expires: dt.date | None = None,
        clear_ticket: bool = False,
    ) -> RiskException:
        """Change what is given; the exception goes back to pending, to be approved again."""
        call = update_exception(exception_id, reason, ticket, expires, clear_ticket)
        return await self._session._run(call)

    async def approve(self, exception_id: str) -> RiskException:
        """Approve a pending exception that someone else requested (exceptions:approve)."""
        return await self._session._run(approve_exception(exception_id))

    async def revoke(self, exception_id: str) -> RiskException:
        """Revoke it: its failures count again from the next scan (kept, for the audit trail)."""
        return await self._session._run(revoke_exception(exception_id))
