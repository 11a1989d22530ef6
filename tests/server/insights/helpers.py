"""Saved reports for the insights' tests: stored as a scan stores them, made at a chosen time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.platform import Platform, TenantCtx
from tests.server.reports.test_reports import store
from tests.server.scans.estates import DEV, offline_report, sample_records
from tutela.server.db import utcnow
from tutela.server.reports.service import MANUAL

FRAMEWORKS = ["iso42001", "sr11_7", "dora"]


def sample_document(
    scan_ts: dt.datetime | None = None, frameworks: list[str] | None = None
) -> dict[str, Any]:
    """The report a scan of the sample's dev subscription makes (no id yet)."""
    return offline_report(sample_records(DEV), frameworks or FRAMEWORKS, scan_ts or utcnow())


def stored(
    platform: Platform,
    tenant: TenantCtx,
    *,
    scan_ts: dt.datetime | None = None,
    document: dict[str, Any] | None = None,
    report_type: str = MANUAL,
) -> str:
    """A report stored for the tenant as a scan stores it; its id."""
    moment = scan_ts or utcnow()
    return store(
        platform,
        tenant,
        moment,
        report_type=report_type,
        document=document if document is not None else sample_document(moment),
    )
