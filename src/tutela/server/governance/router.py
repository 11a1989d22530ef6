"""HTTP for continuous governance: GET/PUT /governance, DELETE /governance/history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import utcnow
from tutela.server.governance import service
from tutela.server.governance.schemas import (
    GovernanceOut,
    GovernanceUpdate,
    HistoryDelete,
    HistoryDeleted,
)
from tutela.server.reports.deletion import DeletionRequest
from tutela.server.runtime import RuntimeDep, SessionDep

router = APIRouter(prefix="/governance", tags=["governance"])

MIN_PLAN = "professional"
GovernanceReader = Annotated[Caller, Depends(Authorize(Scope.GOVERNANCE_READ, min_plan=MIN_PLAN))]
GovernanceWriter = Annotated[Caller, Depends(Authorize(Scope.GOVERNANCE_WRITE, min_plan=MIN_PLAN))]


@router.get("", summary="Continuous governance: cadence, last and next scan, drift, history")
def get_governance(
    session: SessionDep, runtime: RuntimeDep, caller: GovernanceReader
) -> GovernanceOut:
    view = service.view(session, caller, runtime.catalog, utcnow())
    return GovernanceOut.model_validate(view.as_dict())


@router.put("", summary="Pause or resume automatic scans, or choose a slower cadence")
def put_governance(
    body: GovernanceUpdate, session: SessionDep, runtime: RuntimeDep, caller: GovernanceWriter
) -> GovernanceOut:
    view = service.update(
        session,
        caller,
        runtime.catalog,
        utcnow(),
        enabled=body.governance_enabled,
        cadence=body.cadence,
    )
    return GovernanceOut.model_validate(view.as_dict())


@router.delete(
    "/history",
    summary="Delete one governance report, or explicitly all of them (audit-logged)",
    description='`{"report_id": "COMP-…"}` deletes that governance report or nothing (404); '
    '`{"selective": false}` deletes the whole governance history. No body, `{}`, or a body '
    "that asks for both is a 422 that says how to ask; `selective` is a JSON boolean.",
)
def delete_history(
    session: SessionDep,
    caller: GovernanceWriter,
    body: Annotated[HistoryDelete | None, Body()] = None,
) -> HistoryDeleted:
    request = None if body is None else DeletionRequest(body.selective, body.report_id)
    deleted, report_id = service.delete_history(session, caller, utcnow(), request)
    return HistoryDeleted(deleted=deleted, report_id=report_id)
