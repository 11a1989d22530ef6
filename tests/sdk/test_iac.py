"""``reports.iac`` and ``reports.iac_script`` (sync and async) against a real ``tutela serve``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tests.sdk.test_resources import raw_get
from tutela import AsyncSession
from tutela.sdk import NotFoundError, PermissionDeniedError
from tutela.sdk.models import IacAvailability


def test_iac_sync_and_async(server: LiveServer, new_tenant: Callable[[str], Tenant]) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        report = session.scans.iac(ARM_TEMPLATE, ["iso42001", "dora"])
        assert report.report_id
        available = session.reports.iac(report.report_id)
        assert isinstance(available, IacAvailability)
        assert available.iac_available is True
        assert available.formats == ["azcli"]
        assert available.finding_count > 0
        script = session.reports.iac_script(report.report_id)
        assert script.startswith("#!/usr/bin/env bash")
        assert "set -euo pipefail" in script
        served = raw_get(server, f"/report/{report.report_id}/iac/azcli", tenant.key)
        assert served.text == script
        with pytest.raises(NotFoundError, match="not built yet"):
            session.reports.iac_script(report.report_id, "terraform")

    async def scenario() -> str:
        async with AsyncSession(server.url, tenant.key) as session:
            return await session.reports.iac_script(report.report_id)

    assert asyncio.run(scenario()) == script


def test_iac_below_enterprise_names_the_plan(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("professional")
    with server.session(tenant.key) as session:
        report_id = session.scans.iac(ARM_TEMPLATE, ["iso42001"]).report_id
        assert report_id
        with pytest.raises(PermissionDeniedError, match="'enterprise' plan"):
            session.reports.iac(report_id)
