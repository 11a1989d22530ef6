"""``reports.scorecard`` (sync and async) against a real ``tutela serve --demo``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tests.sdk.test_resources import raw_get
from tutela import AsyncSession
from tutela.sdk import NotFoundError, PermissionDeniedError
from tutela.sdk.models import ScorecardGap, ScorecardReport


def test_scorecard_sync_and_async(server: LiveServer, new_tenant: Callable[[str], Tenant]) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        first = session.scans.iac(ARM_TEMPLATE, ["iso42001", "dora"]).report_id
        second = session.scans.iac(ARM_TEMPLATE, ["iso42001", "dora"]).report_id
        assert first
        assert second
        card = session.reports.scorecard(second)
        assert isinstance(card, ScorecardReport)
        assert (card.report_id, card.plan, card.generated_by) == (
            second,
            "enterprise",
            "deterministic",
        )
        assert set(card.scorecard.framework_rag) == {"iso42001", "dora"}
        assert card.scorecard.top_gaps
        assert all(isinstance(gap, ScorecardGap) for gap in card.scorecard.top_gaps)
        # Same template, same score: the second report compares with the first, no trend.
        assert card.scorecard.trajectory == "STABLE"
        assert "moved +0 points across the last 2 reports" in card.scorecard.trajectory_note
        served = raw_get(server, f"/report/{second}/scorecard", tenant.key).json()
        served.pop("generated_at")
        mine = card.raw
        mine.pop("generated_at")
        assert mine == served
        with pytest.raises(NotFoundError):
            session.reports.scorecard("COMP-20000101-000000")

    async def scenario() -> ScorecardReport:
        async with AsyncSession(server.url, tenant.key) as session:
            return await session.reports.scorecard(first)

    earliest = asyncio.run(scenario())
    assert earliest.report_id == first
    assert earliest.scorecard.trajectory_note.startswith("No earlier report to compare")


def test_scorecard_below_enterprise_names_the_plan(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("professional")
    with server.session(tenant.key) as session:
        report_id = session.scans.iac(ARM_TEMPLATE, ["iso42001"]).report_id
        assert report_id
        with pytest.raises(PermissionDeniedError, match="'enterprise' plan"):
            session.reports.scorecard(report_id)
