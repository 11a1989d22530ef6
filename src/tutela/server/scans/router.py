"""HTTP for scans: the seed's /scan and /scan/dry-run, and /scan/iac for pre-deploy gates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.openapi import error_responses
from tutela.server.reports.schemas import ReportOut
from tutela.server.responses import report_response
from tutela.server.runtime import RuntimeDep
from tutela.server.scans import service
from tutela.server.scans.limits import TOO_MANY_RESOURCES
from tutela.server.scans.schemas import ScanRequest
from tutela.server.schemas import ErrorOut

router = APIRouter(tags=["scans"])

Scanner = Annotated[Caller, Depends(Authorize(Scope.SCAN_RUN))]
# /scan and /scan/dry-run: the snapshots (by their stored counts) or the live estate (once read)
# over the plan's resources per scan are refused before anything is assessed.
TOO_MANY: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": TOO_MANY_RESOURCES}
}
# A tenant with Azure credentials is scanned live: Azure unreachable (502) or throttling (503).
AZURE_ERRORS = error_responses(502, 503)


def _options(body: ScanRequest, *, dry_run: bool) -> service.ScanOptions:
    return service.ScanOptions(
        frameworks=body.frameworks,
        subscription_id=str(body.subscription_id) if body.subscription_id else None,
        generate_narrative=body.generate_narrative,
        label=body.scan_label,
        dry_run=dry_run,
    )


@router.post(
    "/scan",
    response_model=ReportOut,
    summary="Scan your linked subscriptions and save the report",
    description="Synchronous; counts against your plan's monthly scan quota. Fail a pipeline "
    "on `critical_count > 0`. The subscriptions scanned may hold at most your plan's "
    "`max_resources_per_scan` resources together.",
    responses={**TOO_MANY, **AZURE_ERRORS},
)
def scan(body: ScanRequest, request: Request, runtime: RuntimeDep, caller: Scanner) -> Response:
    report = service.scan_subscriptions(runtime, caller, _options(body, dry_run=False))
    return report_response(report, request)


@router.post(
    "/scan/dry-run",
    response_model=ReportOut,
    summary="Scan in full without saving or counting the report",
    description="Same body, limits and report as /scan, with `dry_run: true` and no `report_id`.",
    responses={**TOO_MANY, **AZURE_ERRORS},
)
def dry_run(body: ScanRequest, request: Request, runtime: RuntimeDep, caller: Scanner) -> Response:
    report = service.scan_subscriptions(runtime, caller, _options(body, dry_run=True))
    return report_response(report, request)


@router.post(
    "/scan/iac",
    response_model=ReportOut,
    summary="Scan a Terraform plan or an ARM template before it is deployed",
    description="The body is the JSON of `terraform show -json` or an ARM template; the report "
    "is saved and counted like a manual scan unless `dry_run=true`. Limits: "
    "`TUTELA_MAX_UPLOAD_BYTES` on the body, and your plan's `max_resources_per_scan` on the "
    "resources it holds (checked once it is read, before anything is assessed).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
    responses={
        413: {
            "model": ErrorOut,
            "description": "Body over TUTELA_MAX_UPLOAD_BYTES, or more resources than the "
            "plan's `max_resources_per_scan` (see GET /plans)",
        }
    },
)
async def scan_iac(
    request: Request,
    runtime: RuntimeDep,
    caller: Scanner,
    frameworks: Annotated[
        str | None,
        Query(
            description="Comma-separated framework ids; default: every framework of your plan.",
            examples=["iso42001,sox"],
        ),
    ] = None,
    scan_label: Annotated[str | None, Query(max_length=200)] = None,
    dry_run: Annotated[bool, Query(description="Execute fully; do not save or count.")] = False,
    generate_narrative: Annotated[bool | None, Query()] = None,
) -> Response:
    body = await request.body()
    options = service.ScanOptions(
        frameworks=[f.strip() for f in (frameworks or "").split(",") if f.strip()],
        generate_narrative=generate_narrative,
        label=scan_label,
        dry_run=dry_run,
    )
    report = await run_in_threadpool(service.scan_iac, runtime, caller, body, options)
    return await run_in_threadpool(report_response, report, request)
