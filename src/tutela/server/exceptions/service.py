"""Risk-exception use cases: request, change, approve (four eyes), revoke, and what scans apply.

An exception accepts one check's failures on a resource (an ARM id or a glob) until its expiry
date. Anyone with ``exceptions:write`` requests one; it is applied only once a person holding
``exceptions:approve`` who did not request it (nor last change it) approves it. Changing an
approved exception sends it back to pending. Every change is audit-logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from tutela.scanner.acceptance import Acceptance, AcceptanceError, check_acceptance
from tutela.scanner.catalog import Catalog
from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.db import utcnow
from tutela.server.errors import Conflict, Forbidden, InvalidInput, NotFound
from tutela.server.exceptions.models import APPROVED, PENDING, REVOKED, RiskException
from tutela.server.exceptions.repository import ExceptionRepository

log = logging.getLogger("tutela.exceptions")


class ExceptionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Exception not found")


class OwnRequest(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "Four-eyes rule: you requested this exception or last changed it, so you may not "
            "approve it; another person holding exceptions:approve must"
        )


class NotPending(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(f"This exception is {status}: only a pending exception can be approved")


# Open (pending or approved, not expired) exceptions per tenant. Each scan tries a failing
# pair against its check's globs one by one: the cap bounds that work, and the table's growth.
MAX_OPEN_EXCEPTIONS = 1000


class TooManyExceptions(Conflict):
    def __init__(self) -> None:
        super().__init__(
            f"Your tenant already holds {MAX_OPEN_EXCEPTIONS} open exceptions (pending or "
            "approved, not expired), the most allowed: revoke some, or cover several resources "
            "with one glob"
        )


class ExceptionRevoked(Conflict):
    def __init__(self) -> None:
        super().__init__("This exception is revoked: it is kept unchanged for the audit trail")


def _tenant_id(caller: Caller) -> str:
    if caller.tenant_id is None:
        raise NotFound("Tenant not found")
    return caller.tenant_id


def _check_known(catalog: Catalog, check_id: str) -> None:
    # The id sent is not echoed: it is the caller's text.
    if check_id not in {check.id for check in catalog.checks}:
        raise InvalidInput(
            ("body", "check_id"),
            "Not a check id of the catalogue (`tutela checks list` lists them; a report's "
            "findings name theirs, e.g. ACR-ANON-PULL)",
        )


def _check_rules(row: RiskException, catalog: Catalog, approver: str, today: dt.date) -> None:
    """What the scanner will require of the exception once approved (one line, 422)."""
    try:
        check_acceptance(_acceptance(row, approver), catalog, today)
    except AcceptanceError as exc:
        raise InvalidInput(("body",), str(exc)) from None


def _check_expiry(expires: dt.date, today: dt.date) -> None:
    if expires <= today:
        raise InvalidInput(
            ("body", "expires"),
            f"The expiry date must be after today ({today.isoformat()}, UTC): an exception "
            "accepts failures only in scans dated before it",
        )


def _get(
    session: Session, caller: Caller, exception_id: str, *, lock: bool = False
) -> RiskException:
    row = ExceptionRepository(session, _tenant_id(caller)).get(exception_id, for_update=lock)
    if row is None:
        raise ExceptionNotFound()
    return row


def _record(
    session: Session, caller: Caller, action: str, row: RiskException, **details: Any
) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        tenant_id=row.tenant_id,
        target=f"exception:{row.id}",
        details={"check_id": row.check_id, "resource": row.resource, **details},
    )


def request(
    session: Session,
    caller: Caller,
    catalog: Catalog,
    *,
    check_id: str,
    resource: str,
    reason: str,
    ticket: str | None,
    expires: dt.date,
) -> RiskException:
    """POST /exceptions: a pending request; 422 for an unknown check or an expiry not ahead."""
    now = utcnow()
    _check_known(catalog, check_id)
    _check_expiry(expires, now.date())
    row = RiskException(
        check_id=check_id,
        resource=resource,
        reason=reason,
        ticket=ticket,
        expires=expires,
        status=PENDING,
        requested_by=caller.user_email,
        requested_by_user_id=caller.user_id,
        created_at=now,
        updated_at=now,
    )
    _check_rules(row, catalog, caller.user_email, now.date())
    repository = ExceptionRepository(session, _tenant_id(caller))
    if repository.count_open(now.date()) >= MAX_OPEN_EXCEPTIONS:
        raise TooManyExceptions()
    repository.add(row)
    _record(
        session,
        caller,
        "exception.requested",
        row,
        reason=reason,
        ticket=ticket,
        expires=expires.isoformat(),
    )
    return row


def list_exceptions(
    session: Session,
    caller: Caller,
    *,
    status: str | None,
    check_id: str | None,
    expiring_before: dt.date | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[RiskException], str | None]:
    return ExceptionRepository(session, _tenant_id(caller)).page(
        status=status,
        check_id=check_id,
        expiring_before=expiring_before,
        cursor=cursor,
        limit=limit,
    )


def get(session: Session, caller: Caller, exception_id: str) -> RiskException:
    return _get(session, caller, exception_id)


def change(
    session: Session, caller: Caller, catalog: Catalog, exception_id: str, changes: dict[str, Any]
) -> RiskException:
    """PATCH: reason, ticket or expiry; the changer becomes the requester (four eyes), and an
    approved exception goes back to pending. A change to nothing changes nothing."""
    row = _get(session, caller, exception_id, lock=True)
    if row.status == REVOKED:
        raise ExceptionRevoked()
    now = utcnow()
    for name in ("reason", "expires"):
        if name in changes and changes[name] is None:
            raise InvalidInput(("body", name), f"{name} cannot be removed, only changed")
    if "expires" in changes:
        _check_expiry(changes["expires"], now.date())
    before = {name: _plain(getattr(row, name)) for name in changes}
    after = {name: _plain(value) for name, value in changes.items()}
    if before == after:
        return row
    for name, value in changes.items():
        setattr(row, name, value)
    _check_rules(row, catalog, caller.user_email, now.date())
    if "expires" in changes:
        row.expiry_notice_sent_at = None  # a new date gets its own notice
    was = row.status
    row.status, row.approved_by, row.approved_at = PENDING, None, None
    row.requested_by, row.requested_by_user_id = caller.user_email, caller.user_id
    row.updated_at = now
    _record(session, caller, "exception.changed", row, before=before, after=after, was=was)
    return row


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def approve(session: Session, caller: Caller, exception_id: str) -> RiskException:
    """POST /exceptions/{id}/approve: by someone other than its requester (403), while pending
    (409) and before its expiry date (422)."""
    row = _get(session, caller, exception_id, lock=True)
    if row.status != PENDING:
        raise NotPending(row.status)
    if row.requested_by_user_id == caller.user_id:
        raise OwnRequest()
    now = utcnow()
    if row.expires <= now.date():
        raise InvalidInput(
            ("path", "exception_id"),
            "This exception's expiry date has passed: change `expires` (PATCH) before it can "
            "be approved",
        )
    row.status, row.approved_by, row.approved_at = APPROVED, caller.user_email, now
    row.updated_at = now
    _record(
        session,
        caller,
        "exception.approved",
        row,
        requested_by=row.requested_by,
        expires=row.expires.isoformat(),
    )
    return row


def revoke(session: Session, caller: Caller, exception_id: str) -> RiskException:
    """DELETE: the failures count again from the next scan; the row stays, revoked."""
    row = _get(session, caller, exception_id, lock=True)
    if row.status == REVOKED:
        return row
    now = utcnow()
    was = row.status
    row.status, row.revoked_by, row.revoked_at, row.updated_at = (
        REVOKED,
        caller.user_email,
        now,
        now,
    )
    _record(session, caller, "exception.revoked", row, was=was)
    return row


def scan_acceptances(
    session: Session, tenant_id: str, catalog: Catalog, scan_date: dt.date
) -> tuple[Acceptance, ...]:
    """The acceptances a scan of the tenant dated ``scan_date`` applies: its approved
    exceptions not yet expired, whose check the catalogue still holds."""
    known = {check.id for check in catalog.checks}
    rows = ExceptionRepository(session, tenant_id).active_on(scan_date)
    for row in rows:
        if row.check_id not in known:  # a check a later catalogue dropped: nothing to accept
            log.warning("exception_check_unknown tenant=%s exception=%s", tenant_id, row.id)
    # Approved rows always name their approver.
    return tuple(_acceptance(row, row.approved_by or "") for row in rows if row.check_id in known)


def _acceptance(row: RiskException, approver: str) -> Acceptance:
    return Acceptance(
        check_id=row.check_id,
        resource=row.resource,
        reason=row.reason,
        approver=approver,
        expires=row.expires,
        ticket=row.ticket,
        id=row.id,
    )
