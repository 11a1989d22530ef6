"""A saved report's passing evidence through the SDK, sync and async, on the real server."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tutela import AsyncSession, Session
from tutela.sdk import Evidence, PassedCheck, PassedResource, Report

# The conftest's account with its network closed and local auth off: those checks now pass.
HARDENED = copy.deepcopy(ARM_TEMPLATE)
HARDENED["resources"][0]["properties"] = {
    "publicNetworkAccess": "Disabled",
    "disableLocalAuth": True,
}


def test_get_with_passes_lists_every_passing_pair(session: Session) -> None:
    report = session.scans.run(["iso42001", "dora"], generate_narrative=False)
    assert report.report_id
    assert report.passed is None
    assert report.passed_recorded is None

    full = session.reports.get(report.report_id, include_passed=True)
    assert isinstance(full, Report)
    assert full.passed_recorded is True
    assert full.passed is not None
    assert all(isinstance(check, PassedCheck) for check in full.passed)
    pairs = [(check.check_id, r.resource) for check in full.passed for r in check.resources]
    assert len(pairs) == len(set(pairs)) == full.checks_passed > 0
    resource = full.passed[0].resources[0]
    assert isinstance(resource, PassedResource)
    assert isinstance(resource.evidence[0], Evidence)
    # The rest is the report as GET answers it by default.
    plain = session.reports.get(report.report_id)
    assert {k: v for k, v in full.raw.items() if not k.startswith("passed")} == plain.raw
    assert "passed" not in plain.raw


def test_async_get_with_passes_shows_the_settings_that_passed(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")

    async def scenario() -> Report:
        async with AsyncSession(server.url, tenant.key) as session:
            report = await session.scans.iac(HARDENED, ["dora"])
            assert report.report_id
            return await session.reports.get(report.report_id, include_passed=True)

    full = asyncio.run(scenario())
    assert full.passed_recorded is True
    assert full.passed is not None
    by_check = {check.check_id: check.resources for check in full.passed}
    (account,) = by_check["AOAI-PUBLIC-NETWORK"]
    assert account.resource.endswith("/accounts/aoai-sdk-test")
    assert [(e.path, e.value) for e in account.evidence] == [
        ("properties.publicNetworkAccess", "Disabled")
    ]
    (local_auth,) = by_check["AOAI-LOCAL-AUTH"]
    assert [(e.path, e.value) for e in local_auth.evidence] == [
        ("properties.disableLocalAuth", True)
    ]
