"""Infrastructure-as-code remediation of a saved report (Enterprise), rendered from the
catalogue's fixes: the seed's ``arm``, ``bicep`` and ``terraform``, and our ``azcli``; any other
format is a 422.

The findings are read in batches and grouped per (check, resource): each output has one entry per
failing resource of a check, naming the controls its fix remediates. What a report was read from
(its ``source``: a Terraform plan, an ARM template, or a live estate when absent) decides what an
output can do: a plan's Terraform names the plan's addresses; nothing is ever deployed against the
placeholder subscription of a template or a plan.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import PlainTextResponse
from pydantic import Field

from tutela.scanner.catalog import Catalog
from tutela.scanner.outputs.iac import (
    RemediationItem,
    configuration_fix,
    remediation_items,
    render_arm,
    render_azcli,
    render_bicep,
    render_terraform,
)
from tutela.server.db import utcnow
from tutela.server.errors import NotFound
from tutela.server.insights.access import InsightReader, SavedReport, saved_report
from tutela.server.reports.router import ReportIdPath
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.schemas import OutputModel

router = APIRouter()  # tagged by the insights router that includes it

Renderer = Callable[..., str]


@dataclass(frozen=True)
class Rendering:
    render: Renderer
    media_type: str
    suffix: str  # of the downloaded file's name


RENDERINGS: dict[str, Rendering] = {
    "arm": Rendering(render_arm, "application/json", "json"),
    "bicep": Rendering(render_bicep, "text/plain", "bicep"),
    "terraform": Rendering(render_terraform, "text/plain", "tf"),
    "azcli": Rendering(render_azcli, "text/plain", "sh"),
}
FORMATS = tuple(RENDERINGS)

IacFormat = Annotated[
    Literal["arm", "bicep", "terraform", "azcli"],
    Path(
        description="arm: a subscription deployment template (JSON); bicep: the same in Bicep; "
        "terraform: override and new-resource files for a plan's report, an azapi root module "
        "for a live estate's; azcli: a bash script of az commands."
    ),
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
        examples=[list(RENDERINGS)],
    )


class NothingToFix(NotFound):
    def __init__(self, report_id: str) -> None:
        super().__init__(
            f"Report {report_id} has no finding that a configuration change fixes: "
            "there is no remediation script to download."
        )


@dataclass(frozen=True)
class Remediation:
    items: list[RemediationItem]
    fixable: int  # findings whose check a configuration change fixes
    source: str | None  # "terraform" or "arm" for an IaC report; None for a live estate's


def _remediation(catalog: Catalog, report: SavedReport) -> Remediation:
    """The report's remediation items, how many findings a configuration fixes, its source."""
    after: dict[str, Any] = {}
    items = remediation_items(itertools.chain.from_iterable(report.findings(after)))
    fixable = sum(
        item.findings for item in items if configuration_fix(catalog, item.check_id) is not None
    )
    source = after.get("source")
    return Remediation(items, fixable, source if source in ("terraform", "arm") else None)


@router.get(
    "/report/{report_id}/iac",
    summary="Whether remediation scripts exist for a report, for how many findings, which formats",
)
def get_iac(
    report_id: ReportIdPath, session: SessionDep, runtime: RuntimeDep, caller: InsightReader
) -> IacAvailability:
    report = saved_report(session, caller, runtime.catalog, runtime.keyring, report_id, utcnow())
    fixable = _remediation(runtime.catalog, report).fixable
    return IacAvailability(
        report_id=report.report_id,
        iac_available=fixable > 0,
        finding_count=fixable,
        formats=list(FORMATS) if fixable else [],
    )


@router.get(
    "/report/{report_id}/iac/{fmt}",
    summary="The remediation of a report in one format: ARM, Bicep, Terraform or Azure CLI",
    response_model=None,
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
            },
            "description": "The remediation: JSON for arm, text for the other formats.",
        }
    },
)
def get_iac_script(
    report_id: ReportIdPath,
    fmt: IacFormat,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: InsightReader,
) -> PlainTextResponse:
    report = saved_report(session, caller, runtime.catalog, runtime.keyring, report_id, utcnow())
    remediation = _remediation(runtime.catalog, report)
    if not remediation.fixable:
        raise NothingToFix(report.report_id)
    rendering = RENDERINGS[fmt]
    text = rendering.render(
        remediation.items, runtime.catalog, report_id=report.report_id, source=remediation.source
    )
    name = f"{report.report_id}-remediation.{rendering.suffix}"
    return PlainTextResponse(
        text,
        media_type=rendering.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
