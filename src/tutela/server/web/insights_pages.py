"""The portal's Enterprise pages of a report: the board scorecard and the remediation roadmap.

Each reads through its API route's own code (``get_scorecard``, ``get_roadmap``, ``get_iac``)
and refuses as the API does: without ``report:read``, then below Enterprise, a 403 page saying
so; a report that is absent, another tenant's or past the plan's history window, the 404 page.
The report's downloads (auditor package, IaC fixes) are plain links to the API, from the
``_report_downloads.html`` partial that the report page includes too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tutela.scanner.catalog import Catalog
from tutela.scanner.outputs import charts
from tutela.server.auth.scopes import Scope
from tutela.server.db import transaction, utcnow
from tutela.server.insights.access import ENTERPRISE, saved_report
from tutela.server.insights.iac import get_iac
from tutela.server.insights.roadmap import get_roadmap
from tutela.server.insights.router import upgrade_message
from tutela.server.insights.scorecard import get_scorecard
from tutela.server.reports.ids import REPORT_ID_PATTERN
from tutela.server.reports.service import ReportNotFound
from tutela.server.runtime import RuntimeDep
from tutela.server.web.rendering import Page, open_page

router = APIRouter(include_in_schema=False)

SEVERITIES = ("critical", "high", "medium", "low")
# The roadmap's horizons as the API names them, with what a reader is told of each.
HORIZONS = (
    ("immediate", "Immediate: within 30 days", "critical"),
    ("short_term", "Short term: within 60 days", "high"),
    ("strategic", "Strategic: within 90 days", "medium or low"),
)


@dataclass(frozen=True)
class FrameworkLine:
    """One framework of the report as the scorecard shows it: score, rating, controls."""

    name: str
    score: int | None
    rag: str | None
    controls_assessed: int | None
    controls_with_gaps: int | None


@router.get("/portal/reports/{report_id}/scorecard", response_model=None)
def scorecard(report_id: str, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page = open_page(request, runtime)
    refused = _refusal(page, report_id)
    if refused is not None:
        return refused
    caller = page.person
    try:
        with transaction(runtime.sessions, readonly=True) as session:
            # The scorecard has the frameworks' ratings; their scores are in the report's header.
            report = saved_report(
                session, caller, runtime.catalog, runtime.keyring, report_id, utcnow()
            )
            header, row = report.header(), report.row
            iac = get_iac(report_id, session, runtime, caller)  # as GET /report/{id}/iac
        answer = get_scorecard(report_id, runtime, caller)  # as GET /report/{id}/scorecard
    except ReportNotFound:
        return page.not_found("The report")
    frameworks = framework_lines(runtime.catalog, header, answer.scorecard.framework_rag)
    return page.render(
        "scorecard.html",
        title=f"Board scorecard of {row.report_id}",
        report=row,
        answer=answer,
        card=answer.scorecard,
        frameworks=frameworks,
        chart=charts.framework_scores({line.name: line.score for line in frameworks}),
        findings={s: getattr(row, f"{s}_count") for s in SEVERITIES},
        iac=iac,
    )


@router.get("/portal/reports/{report_id}/roadmap", response_model=None)
def roadmap(report_id: str, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page = open_page(request, runtime)
    refused = _refusal(page, report_id)
    if refused is not None:
        return refused
    caller = page.person
    try:
        with transaction(runtime.sessions, readonly=True) as session:
            answer = get_roadmap(report_id, session, runtime, caller)  # as GET …/roadmap
            iac = get_iac(report_id, session, runtime, caller)
    except ReportNotFound:
        return page.not_found("The report")
    plan = answer.roadmap
    return page.render(
        "roadmap.html",
        title=f"Remediation roadmap of {answer.report_id}",
        answer=answer,
        plan=plan,
        horizons=[(name, heading, of, getattr(plan, name)) for name, heading, of in HORIZONS],
        names={fw: runtime.catalog.framework(fw).name for fw in runtime.catalog.framework_ids},
        iac=iac,
    )


def framework_lines(
    catalog: Catalog, header: Mapping[str, Any], rag: Mapping[str, str]
) -> list[FrameworkLine]:
    """The report's frameworks in scan order, by display name, with the scorecard's rating."""
    scores = header.get("framework_scores") or {}
    lines = []
    for framework in (str(fw) for fw in header.get("frameworks", [])):
        known = framework in catalog.framework_ids
        scored = scores.get(framework) or {}
        lines.append(
            FrameworkLine(
                name=catalog.framework(framework).name if known else framework,
                score=scored.get("score"),
                rag=rag.get(framework),
                controls_assessed=scored.get("controls_assessed"),
                controls_with_gaps=scored.get("controls_with_gaps"),
            )
        )
    return lines


def _refusal(page: Page, report_id: str) -> HTMLResponse | None:
    """The API's refusals in its order (scope, then plan), and the 404 of a malformed id."""
    caller = page.person
    well_formed = re.fullmatch(REPORT_ID_PATTERN, report_id) is not None
    if not page.may(Scope.REPORT_READ):
        reason = "Your role does not include reading reports, so it has no scorecard or roadmap."
    elif not page.plan_at_least(ENTERPRISE):
        reason = upgrade_message(str(caller.plan)) or ""
    elif not well_formed:
        return page.not_found("The report")
    else:
        return None
    return page.render(
        "enterprise_required.html",
        status_code=403,
        title="Not included in your plan or role",
        reason=reason,
        report_id=report_id if well_formed else None,
    )
