"""The retention job: `tutela reports purge` and the API process's timer delete expired reports."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.platform import Platform
from tutela.cli.main import app
from tutela.server.config import Settings
from tutela.server.db import utcnow
from tutela.server.reports.models import Report
from tutela.server.reports.service import MANUAL, store_report
from tutela.server.tenants.models import Tenant

DOCUMENT = {
    "frameworks": ["iso42001"],
    "critical_count": 0,
    "high_count": 1,
    "medium_count": 0,
    "low_count": 0,
    "findings": [],
}


def store(platform: Platform, tenant_id: str, age_days: int) -> tuple[str, str]:
    with platform.db() as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        row = store_report(
            session,
            platform.document_key(),
            tenant,
            dict(DOCUMENT),
            report_type=MANUAL,
            label=None,
            scan_ts=utcnow() - dt.timedelta(days=age_days),
        )
        return tenant_id, row.report_id


def report_ids(platform: Platform) -> set[tuple[str, str]]:
    """(tenant id, report id) of every stored report: report ids are unique per tenant only."""
    with platform.db() as session:
        return {
            (row[0], row[1]) for row in session.execute(select(Report.tenant_id, Report.report_id))
        }


def test_purge_deletes_what_is_past_each_plans_window(
    settings_factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = settings_factory()
    with Platform(settings) as platform:
        starter, enterprise = platform.tenant("starter"), platform.tenant("enterprise")
        old_starter = store(platform, starter.id, 40)  # starter keeps 30 days
        kept_starter = store(platform, starter.id, 10)
        kept_enterprise = store(platform, enterprise.id, 40)  # enterprise keeps 365 days
    monkeypatch.setenv("TUTELA_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(app, ["reports", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 expired report(s) in 1 tenant(s)." in result.output
    with Platform(settings) as platform:
        assert report_ids(platform) == {kept_starter, kept_enterprise}
        assert old_starter not in report_ids(platform)


def test_the_api_process_runs_retention_at_start(settings_factory) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = settings_factory(retention_interval_hours=24)
    with Platform(settings) as platform:
        tenant = platform.tenant("starter")
        expired = store(platform, tenant.id, 31)
        assert expired in report_ids(platform)
        with platform.client:  # entering the client runs the app's lifespan: the scheduler
            deadline = time.monotonic() + 30
            while expired in report_ids(platform) and time.monotonic() < deadline:
                time.sleep(0.05)
        assert expired not in report_ids(platform)
    assert Path(settings.data_dir).exists()
