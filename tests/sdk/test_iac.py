"""``reports.iac`` and ``reports.iac_script`` (sync and async) against a real ``tutela serve``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tests.sdk.test_resources import raw_get
from tutela import AsyncSession
from tutela.sdk import PermissionDeniedError, ValidationError
from tutela.sdk.models import IacAvailability


def test_iac_sync_and_async(server: LiveServer, new_tenant: Callable[[str], Tenant]) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        report = session.scans.iac(ARM_TEMPLATE, ["iso42001", "dora"])
        assert report.report_id
        available = session.reports.iac(report.report_id)
        assert isinstance(available, IacAvailability)
        assert available.iac_available is True
        assert available.formats == ["arm", "bicep", "terraform", "azcli"]
        assert available.finding_count > 0
        script = session.reports.iac_script(report.report_id)
        assert script.startswith("#!/usr/bin/env bash")
        assert "set -euo pipefail" in script
        served = raw_get(server, f"/report/{report.report_id}/iac/azcli", tenant.key)
        assert served.text == script
        # a template's resources are fixed in the template: nothing targets its placeholder
        assert "An ARM template's resource" in script
        assert "az resource update --ids" not in script
        template = session.reports.iac_script(report.report_id, "arm")
        assert template == raw_get(server, f"/report/{report.report_id}/iac/arm", tenant.key).text
        assert json.loads(template)["metadata"]["fixInSource"]
        with pytest.raises(ValidationError):
            session.reports.iac_script(report.report_id, "pulumi")

    async def scenario() -> tuple[str, str]:
        async with AsyncSession(server.url, tenant.key) as session:
            return (
                await session.reports.iac_script(report.report_id),
                await session.reports.iac_script(report.report_id, "terraform"),
            )

    async_script, terraform = asyncio.run(scenario())
    assert async_script == script
    assert (
        terraform == raw_get(server, f"/report/{report.report_id}/iac/terraform", tenant.key).text
    )
    assert "resources[" in terraform  # the template paths to fix


def test_iac_below_enterprise_names_the_plan(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("professional")
    with server.session(tenant.key) as session:
        report_id = session.scans.iac(ARM_TEMPLATE, ["iso42001"]).report_id
        assert report_id
        with pytest.raises(PermissionDeniedError, match="'enterprise' plan"):
            session.reports.iac(report_id)
