"""HTTP for enterprise insights on a saved report (paths and bodies of the seed).

``/report/{id}/enterprise`` answers every plan: whether the insights are available and where.
The insights themselves (``/scorecard``, ``/roadmap``, ``/auditor-package``) are Enterprise
only: 403 naming the plan below it, 404 for a report that is absent, another tenant's, or past
the plan's history window. Each insight has a module of its own with its router, included here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import utcnow
from tutela.server.insights import auditor, iac, roadmap, scorecard
from tutela.server.insights.access import ENTERPRISE, saved_report
from tutela.server.insights.schemas import EnterpriseDiscovery
from tutela.server.openapi import document_routes
from tutela.server.reports.router import ReportIdPath
from tutela.server.runtime import RuntimeDep, SessionDep

router = APIRouter(tags=["enterprise insights"])
ReportReader = Annotated[Caller, Depends(Authorize(Scope.REPORT_READ))]

# insight name → its path under /report/{report_id} (registered at the bottom).
INSIGHT_PATHS: dict[str, str] = {}


def upgrade_message(plan: str) -> str | None:
    """The sentence a tenant below Enterprise reads; None on Enterprise."""
    if plan == ENTERPRISE:
        return None
    return (
        f"The executive scorecard, remediation roadmap and auditor evidence package are part of "
        f"the Enterprise plan; your tenant is on the '{plan}' plan. Ask your Tutela operator to "
        f"move the tenant to Enterprise to use them on this and every saved report."
    )


@router.get(
    "/report/{report_id}/enterprise",
    summary="Whether the enterprise insights are available for a report, and their endpoints",
)
def enterprise_discovery(
    report_id: ReportIdPath, session: SessionDep, runtime: RuntimeDep, caller: ReportReader
) -> EnterpriseDiscovery:
    report = saved_report(session, caller, runtime.catalog, runtime.keyring, report_id, utcnow())
    available = report.plan == ENTERPRISE
    return EnterpriseDiscovery(
        report_id=report.report_id,
        scorecard_available=available,
        plan=report.plan,
        upgrade_message=upgrade_message(report.plan),
        endpoints={
            name: f"/report/{report.report_id}/{path}" for name, path in INSIGHT_PATHS.items()
        }
        if available
        else {},
    )


# Each insight's routes are documented (scopes, plan, errors) before they are included: the
# app documents the routers it includes, not the routers included inside them.
for name, path, insight in (
    ("scorecard", "scorecard", scorecard.router),
    ("roadmap", "roadmap", roadmap.router),
    ("auditor_package", "auditor-package", auditor.router),
):
    document_routes(insight.routes)
    router.include_router(insight)
    INSIGHT_PATHS[name] = path

# IaC remediation is Enterprise like the others but not listed by /enterprise (the seed's list):
# ``GET /report/{id}/iac`` is its own discovery.
document_routes(iac.router.routes)
router.include_router(iac.router)
