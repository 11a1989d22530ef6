"""HTTP for risk exceptions: /exceptions (request, list, read, change, approve, revoke)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import transaction, utcnow
from tutela.server.exceptions import service
from tutela.server.exceptions.models import RiskException
from tutela.server.exceptions.schemas import (
    CheckId,
    Day,
    ExceptionCreate,
    ExceptionOut,
    ExceptionUpdate,
    Status,
)
from tutela.server.pagination import CursorParam, LimitParam, Page
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.schemas import ErrorOut

router = APIRouter(prefix="/exceptions", tags=["exceptions"])

Reader = Annotated[Caller, Depends(Authorize(Scope.EXCEPTIONS_READ))]
Writer = Annotated[Caller, Depends(Authorize(Scope.EXCEPTIONS_WRITE))]
Approver = Annotated[Caller, Depends(Authorize(Scope.EXCEPTIONS_APPROVE))]

_APPLIES = (
    "An approved exception accepts the check's failures on the resource in every scan of your "
    "tenant (POST /scan, /scan/dry-run, /scan/iac and governance scans) dated before "
    "`expires`: the report lists them under `accepted` with the exception, out of the "
    "counts, scores and gate (`checks_accepted` counts them). On the expiry date they fail "
    "again. Owners and admins are mailed 7 days before."
)
_REVOKED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The exception is revoked: it stays as it was"}
}


# Changing, approving and revoking lock the exception's row until commit (a change and an
# approval never cross): each commits in the route's own thread, as key writes do
# (keys.router._locking_unit_of_work), not at the request session's teardown.


def _out(row: RiskException) -> ExceptionOut:
    return ExceptionOut.of(row, utcnow().date())


@router.post(
    "",
    status_code=201,
    summary="Request an exception: accept a check's failures on a resource until a date",
    description="The request is pending, and applies to no scan, until another person "
    "approves it (POST /exceptions/{exception_id}/approve). An unknown `check_id`, or an "
    "`expires` not after today (UTC), is a 422. A tenant holds at most "
    f"{service.MAX_OPEN_EXCEPTIONS} open (pending or approved, not expired) exceptions: one "
    "more is a 409. Audit-logged. " + _APPLIES,
    responses={
        409: {"model": ErrorOut, "description": "The tenant's open exceptions are at the cap"}
    },
)
def create_exception(
    body: ExceptionCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Writer,
    response: Response,
) -> ExceptionOut:
    row = service.request(
        session,
        caller,
        runtime.catalog,
        check_id=body.check_id,
        resource=body.resource,
        reason=body.reason,
        ticket=body.ticket,
        expires=body.expires,
    )
    response.headers["Location"] = f"/exceptions/{row.id}"
    return _out(row)


@router.get("", summary="Your tenant's exceptions, newest first", description=_APPLIES)
def list_exceptions(
    session: SessionDep,
    caller: Reader,
    status: Annotated[Status | None, Query(description="Only those of this status.")] = None,
    check_id: Annotated[CheckId | None, Query(description="Only those of this check.")] = None,
    expiring_before: Annotated[
        Day | None,
        Query(description="Only those whose `expires` is before this date (YYYY-MM-DD)."),
    ] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ExceptionOut]:
    rows, next_cursor = service.list_exceptions(
        session,
        caller,
        status=status,
        check_id=check_id,
        expiring_before=expiring_before,
        cursor=cursor,
        limit=limit,
    )
    today = utcnow().date()
    return Page(items=[ExceptionOut.of(row, today) for row in rows], next_cursor=next_cursor)


@router.get(
    "/{exception_id}",
    summary="One exception; another tenant's is a 404",
    description=_APPLIES,
)
def get_exception(exception_id: str, session: SessionDep, caller: Reader) -> ExceptionOut:
    return _out(service.get(session, caller, exception_id))


@router.patch(
    "/{exception_id}",
    summary="Change an exception's reason, ticket or expiry (back to pending; audit-logged)",
    description="Fields left out keep their value. A change makes the exception pending "
    "again, to be approved anew, and makes the caller its requester, who may not approve it. "
    "A change to nothing changes nothing.",
    responses=_REVOKED,
)
def change_exception(
    exception_id: str, body: ExceptionUpdate, runtime: RuntimeDep, caller: Writer
) -> ExceptionOut:
    changes = body.model_dump(exclude_unset=True)
    with transaction(runtime.sessions) as session:
        row = service.change(session, caller, runtime.catalog, exception_id, changes)
    return _out(row)


@router.post(
    "/{exception_id}/approve",
    summary="Approve a pending exception someone else requested (four eyes; audit-logged)",
    description="Nobody approves an exception they requested or last changed, whatever their "
    "role: that is a 403. An exception that is not pending is a 409; one whose expiry date "
    "has passed is a 422 (change `expires` first). " + _APPLIES,
    responses={
        409: {"model": ErrorOut, "description": "The exception is already approved, or revoked"}
    },
)
def approve_exception(exception_id: str, runtime: RuntimeDep, caller: Approver) -> ExceptionOut:
    with transaction(runtime.sessions) as session:
        row = service.approve(session, caller, exception_id)
    return _out(row)


@router.delete(
    "/{exception_id}",
    summary="Revoke an exception: its failures count again from the next scan",
    description="The exception is kept, `revoked`, for the audit trail; revoking it again "
    "changes nothing. Audit-logged.",
)
def revoke_exception(exception_id: str, runtime: RuntimeDep, caller: Writer) -> ExceptionOut:
    with transaction(runtime.sessions) as session:
        row = service.revoke(session, caller, exception_id)
    return _out(row)
