"""HTTP for saved reports: /reports, /report/{report_id}, /reports/diff (paths of the seed)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from starlette.responses import StreamingResponse

from tutela.scanner.outputs.report_json import inflate
from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import utcnow
from tutela.server.pagination import CursorParam
from tutela.server.reports import service
from tutela.server.reports.deletion import DeletionRequest
from tutela.server.reports.ids import REPORT_ID_DESCRIPTION, REPORT_ID_EXAMPLE, REPORT_ID_PATTERN
from tutela.server.reports.passed import with_passed
from tutela.server.reports.schemas import (
    DiffRequest,
    ManualReportsDelete,
    ReportDeleted,
    ReportDiff,
    ReportOut,
    ReportPage,
    ReportSummary,
)
from tutela.server.responses import DiffResponse, EncodedReport, report_coding
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.schemas import ErrorOut

router = APIRouter(tags=["reports"])

ReportReader = Annotated[Caller, Depends(Authorize(Scope.REPORT_READ))]
ReportDeleter = Annotated[Caller, Depends(Authorize(Scope.REPORT_DELETE))]
ReportIdPath = Annotated[
    str,
    Path(
        pattern=REPORT_ID_PATTERN,
        examples=[REPORT_ID_EXAMPLE],
        description=REPORT_ID_DESCRIPTION + ".",
    ),
]


@router.get(
    "/reports",
    summary="Saved reports, newest first, within your plan's history window",
    description="`type` keeps manual or governance reports only; `label` keeps the reports whose "
    "label contains the text given, ignoring case (`prod` finds `Nightly PROD scan`; `%` and `_` "
    "are plain characters; a report without a label never matches). Both filters combine, and "
    "`next_cursor` pages through the filtered list: pass the same filters with it.",
)
def list_reports(
    session: SessionDep,
    runtime: RuntimeDep,
    caller: ReportReader,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (default 50).")] = 50,
    report_type: Annotated[
        Literal["manual", "governance"] | None,
        Query(alias="type", description="Only manual or only governance reports."),
    ] = None,
    label: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only reports whose label contains this text (case-insensitive).",
        ),
    ] = None,
    cursor: CursorParam = None,
) -> ReportPage:
    rows, next_cursor = service.list_reports(
        session,
        caller,
        runtime.catalog,
        utcnow(),
        report_type=report_type,
        cursor=cursor,
        limit=limit,
        label=label,
    )
    items = [
        ReportSummary(
            **row.listing(),
            resources_scanned=row.resources_scanned,
            checks_unknown=row.checks_unknown,
            scan_ts=row.created_at,
        )
        for row in rows
    ]
    return ReportPage(items=items, next_cursor=next_cursor)


_INCLUDE = (
    "`passed`: add `passed_recorded` and `passed` (every passing check and resource with its "
    "evidence) after the report's other members. Without it the body is the report as stored, "
    "failures only. Any other value is a 422."
)


@router.get(
    "/report/{report_id}",
    summary="One saved report, in full; with ?include=passed, its passing evidence too",
    description="The report as it was stored: `findings` lists failures only. "
    "`?include=passed` adds, as the last members, `passed_recorded` and `passed`: each check "
    "that passed on some resource, each such resource with the evidence (path and value seen) "
    "it passed on, so an auditor can see why a control is met. A report stored before passes "
    "were recorded answers `passed_recorded: false` and `passed: null`. The body is sent as it "
    "is inflated, never whole in memory (docs/reports.md).",
    response_model=ReportOut,
    responses={
        422: {
            "model": ErrorOut,
            "description": "Invalid request, such as an `include` other than `passed`: the "
            'detail lists each field error (`loc` `["query", "include"]`).',
        }
    },
)
def get_report(
    report_id: ReportIdPath,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: ReportReader,
    include: Annotated[Literal["passed"] | None, Query(description=_INCLUDE)] = None,
) -> Response:
    coding = report_coding(request) if include is None else None
    if coding is not None:  # the stored stream as it is: neither inflated nor compressed again
        report = service.read_report_deflated(
            session, caller, runtime.catalog, runtime.keyring, report_id, utcnow()
        )
        return EncodedReport(report, coding)
    stored = service.read_report_compressed(
        session, caller, runtime.catalog, runtime.keyring, report_id, utcnow()
    )
    # Inflated a slice at a time as it is sent: a large report is never whole in memory.
    chunks = with_passed(stored) if include == "passed" else inflate(stored)
    return StreamingResponse(chunks, media_type="application/json")


@router.delete("/report/{report_id}", summary="Delete one report")
def delete_report(
    report_id: ReportIdPath, session: SessionDep, caller: ReportDeleter
) -> ReportDeleted:
    service.delete_report(session, caller, report_id)
    return ReportDeleted(deleted=1, report_id=report_id)


@router.delete(
    "/reports",
    summary="Delete every manual report, or one (governance reports stay)",
    description='No body (the seed\'s call) or `{"selective": false}` deletes every manual '
    'report. `{"report_id": "COMP-…"}` deletes that manual report or nothing (404). `{}`, or '
    "a body that asks for both, is a 422 that says how to ask; `selective` is a JSON boolean.",
)
def delete_manual_reports(
    session: SessionDep,
    caller: ReportDeleter,
    body: Annotated[ManualReportsDelete | None, Body()] = None,
) -> ReportDeleted:
    request = None if body is None else DeletionRequest(body.selective, body.report_id)
    deleted, report_id = service.delete_manual_reports(session, caller, request)
    return ReportDeleted(deleted=deleted, report_id=report_id)


_DIFF = (
    "A finding is identified by its `control_id`, `check_id` and `resource` (compared "
    "lower-cased). `new_findings` are the failing findings of `report_b` not in `report_a`, "
    "`resolved` those of `report_a` not in `report_b`, `unchanged` those of `report_b` also in "
    "`report_a`: each list sorted by `control_id`, then `check_id`, then the lower-cased "
    "`resource`, each finding as stored. `severity_changes` lists the findings of both whose "
    "severity changed, sorted by `control_id`, `check_id`, `resource`. `accepted` lists the "
    "failing findings of `report_a` whose check and resource `report_b` accepted as a risk "
    "(its `accepted`): they still fail, so they are not in `resolved`; a pair accepted in "
    "`report_a` that fails in `report_b` is among `new_findings`. Both reports are read "
    "before the answer starts (404, or 500 for a stored body that fails its integrity check); "
    "the answer is then written as it is sent, without a `Content-Length`: two reports at the "
    "enterprise limit answer about a GB of JSON (gzip-compressed about 100 times)."
)


@router.post(
    "/reports/diff",
    summary="What changed between two saved reports",
    description=_DIFF,
    response_model=ReportDiff,
)
def diff_reports(
    body: DiffRequest, session: SessionDep, runtime: RuntimeDep, caller: ReportReader
) -> Response:
    changes = service.diff(
        session,
        caller,
        runtime.catalog,
        runtime.keyring,
        body.report_a,
        body.report_b,
        utcnow(),
    )
    # Written as it is sent: neither report, nor the answer, is ever whole in memory.
    return DiffResponse(changes)


@router.get(
    "/reports/diff",
    summary="The same diff, for a link (drift alerts link here)",
    description=_DIFF,
    response_model=ReportDiff,
)
def diff_reports_link(
    report_a: Annotated[str, Query(pattern=REPORT_ID_PATTERN, description="The earlier report.")],
    report_b: Annotated[str, Query(pattern=REPORT_ID_PATTERN, description="The later report.")],
    session: SessionDep,
    runtime: RuntimeDep,
    caller: ReportReader,
) -> Response:
    return diff_reports(DiffRequest(report_a=report_a, report_b=report_b), session, runtime, caller)
