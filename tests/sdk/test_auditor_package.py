"""``reports.auditor_package`` (sync and async, JSON and PDF) against a real ``tutela serve``."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import pytest

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tests.sdk.test_resources import raw_get
from tutela import AsyncSession
from tutela.sdk import NotFoundError, PermissionDeniedError
from tutela.sdk.models import AuditorPackageReport


def test_auditor_package_sync_and_async(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        report_id = session.scans.iac(ARM_TEMPLATE, ["iso42001", "dora"]).report_id
        assert report_id
        body = session.reports.auditor_package(report_id)
        assert isinstance(body, AuditorPackageReport)
        pack = body.auditor_package
        assert [c.framework_id for c in pack.frameworks_coverage] == ["iso42001", "dora"]
        assert pack.source == "arm"
        assert "ARM template" in pack.methodology
        stored = raw_get(server, f"/report/{report_id}", tenant.key).content
        assert pack.report_sha256 == hashlib.sha256(stored).hexdigest()
        served = raw_get(server, f"/report/{report_id}/auditor-package", tenant.key).json()
        served.pop("generated_at")
        mine = body.raw
        mine.pop("generated_at")
        assert mine == served
        pdf = session.reports.auditor_package(report_id, pdf=True)
        assert isinstance(pdf, bytes)
        assert pdf.startswith(b"%PDF-")
        with pytest.raises(NotFoundError):
            session.reports.auditor_package("COMP-20000101-000000")

    async def scenario() -> tuple[AuditorPackageReport, bytes]:
        async with AsyncSession(server.url, tenant.key) as session:
            return (
                await session.reports.auditor_package(report_id),
                await session.reports.auditor_package(report_id, pdf=True),
            )

    body_async, pdf_async = asyncio.run(scenario())
    assert body_async.auditor_package.report_sha256 == pack.report_sha256
    assert pdf_async.startswith(b"%PDF-")


def test_auditor_package_below_enterprise_names_the_plan(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("professional")
    with server.session(tenant.key) as session:
        report_id = session.scans.iac(ARM_TEMPLATE, ["iso42001"]).report_id
        assert report_id
        with pytest.raises(PermissionDeniedError, match="'enterprise' plan"):
            session.reports.auditor_package(report_id, pdf=True)
