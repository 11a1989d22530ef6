"""``reports.roadmap`` (sync and async) against a real ``tutela serve --demo``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tests.sdk.test_resources import raw_get
from tutela import AsyncSession
from tutela.sdk import NotFoundError, PermissionDeniedError
from tutela.sdk.models import RoadmapAction, RoadmapReport


def test_roadmap_sync_and_async(server: LiveServer, new_tenant: Callable[[str], Tenant]) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        report = session.scans.iac(ARM_TEMPLATE, ["iso42001", "dora"])
        assert report.report_id
        plan = session.reports.roadmap(report.report_id)
        assert isinstance(plan, RoadmapReport)
        assert (plan.report_id, plan.plan) == (report.report_id, "enterprise")
        actions = [*plan.roadmap.immediate, *plan.roadmap.short_term, *plan.roadmap.strategic]
        assert actions
        assert all(isinstance(action, RoadmapAction) for action in actions)
        failing = {finding.check_id for finding in session.reports.get(report.report_id).findings}
        assert sorted(a.check_id for a in actions) == sorted(failing)  # one action per check
        assert all(a.score_gain is not None and a.score_gain > 0 for a in actions)
        assert plan.roadmap.aggregate_score == report.aggregate_score
        assert plan.roadmap.summary_note.startswith(f"{len(actions)} action")
        served = raw_get(server, f"/report/{report.report_id}/roadmap", tenant.key).json()
        served.pop("generated_at")
        mine = plan.raw
        mine.pop("generated_at")
        assert mine == served
        with pytest.raises(NotFoundError):
            session.reports.roadmap("COMP-20000101-000000")

    async def scenario() -> RoadmapReport:
        async with AsyncSession(server.url, tenant.key) as session:
            return await session.reports.roadmap(report.report_id)

    again = asyncio.run(scenario())
    assert again.roadmap.model_dump() == plan.roadmap.model_dump()


def test_roadmap_below_enterprise_names_the_plan(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("professional")
    with server.session(tenant.key) as session:
        report_id = session.scans.iac(ARM_TEMPLATE, ["iso42001"]).report_id
        assert report_id
        with pytest.raises(PermissionDeniedError, match="'enterprise' plan"):
            session.reports.roadmap(report_id)
