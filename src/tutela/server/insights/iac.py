"""Infrastructure-as-code remediation of a saved report (Enterprise), rendered from the
catalogue's fixes. ``azcli`` is served; the seed's ``arm``, ``bicep`` and ``terraform`` are real
formats not built yet (404 saying so); any other format is a 422.

The findings are read in batches and grouped per (check, resource): the script has one entry per
failing resource of a check, naming the controls its fix remediates.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.responses import PlainTextResponse
from pydantic import Field

from tutela.scanner.catalog import Catalog
from tutela.scanner.outputs.iac import (
    FORMATS,
    FORMATS_NOT_BUILT,
    RemediationItem,
    configuration_fix,
    remediation_items,
    render_azcli,
)
from tutela.server.db import utcnow
from tutela.server.errors import NotFound
from tutela.server.insights.access import InsightReader, SavedReport, saved_report
from tutela.server.reports.router import ReportIdPath
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.schemas import OutputModel

router = APIRouter()  # tagged by the insights router that includes it

IacFormat = Annotated[
    Literal["azcli", "arm", "bicep", "terraform"],
    Path(description="azcli is served; arm, bicep and terraform are not built yet (404)."),
]


class IacAvailability(OutputModel):
    """``GET /report/{id}/iac``: the seed's body."""

    report_id: str
    iac_available: bool = Field(description="Whether any finding has a configuration fix.")
    finding_count: int = Field(
        description="Failing findings (check x resource x control) whose check has a "
        "configuration fix, so a script changes something for them."
    )
    formats: list[str] = Field(
        description="Formats that can be downloaded now (empty when nothing is fixable).",
        examples=[["azcli"]],
    )


class NothingToFix(NotFound):
    def __init__(self, report_id: str) -> None:
        super().__init__(
            f"Report {report_id} has no finding that a configuration change fixes: "
            "there is no remediation script to download."
        )


class FormatNotBuilt(NotFound):
    def __init__(self, fmt: str) -> None:
        super().__init__(
            f"The {fmt} remediation format is not built yet; download format azcli instead."
        )


def _items(catalog: Catalog, report: SavedReport) -> tuple[list[RemediationItem], int]:
    """The report's remediation items, and how many of its findings a configuration fixes."""
    items = remediation_items(itertools.chain.from_iterable(report.findings()))
    fixable = sum(
        item.findings for item in items if configuration_fix(catalog, item.check_id) is not None
    )
    return items, fixable


@router.get(
    "/report/{report_id}/iac",
    summary="Whether remediation scripts exist for a report, for how many findings, which formats",
)
def get_iac(
    report_id: ReportIdPath, session: SessionDep, runtime: RuntimeDep, caller: InsightReader
) -> IacAvailability:
    report = saved_report(
        session, caller, runtime.catalog, runtime.document_keys, report_id, utcnow()
    )
    _, fixable = _items(runtime.catalog, report)
    return IacAvailability(
        report_id=report.report_id,
        iac_available=fixable > 0,
        finding_count=fixable,
        formats=list(FORMATS) if fixable else [],
    )


@router.get(
    "/report/{report_id}/iac/{fmt}",
    summary="The remediation script of a report in one format (azcli: a bash script)",
    response_model=None,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Script"}
    },
)
def get_iac_script(
    report_id: ReportIdPath,
    fmt: IacFormat,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: InsightReader,
) -> PlainTextResponse:
    if fmt in FORMATS_NOT_BUILT:
        raise FormatNotBuilt(fmt)
    report = saved_report(
        session, caller, runtime.catalog, runtime.document_keys, report_id, utcnow()
    )
    items, fixable = _items(runtime.catalog, report)
    if not fixable:
        raise NothingToFix(report.report_id)
    script = render_azcli(items, runtime.catalog, report_id=report.report_id)
    return PlainTextResponse(
        script,
        headers={
            "Content-Disposition": f'attachment; filename="{report.report_id}-remediation.sh"'
        },
    )
