"""Saved reports for the insights' tests: stored as a scan stores them, made at a chosen time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.platform import Platform, TenantCtx
from tests.server.exceptions.helpers import CHECK, REGISTRY
from tests.server.reports.test_reports import store
from tests.server.scans.estates import DEV, export, offline_report, sample_records
from tutela.scanner.acceptance import Acceptance
from tutela.scanner.estate import Estate
from tutela.scanner.scan import run_scan
from tutela.scanner.sources.arg import resources_from_arg
from tutela.server.db import utcnow
from tutela.server.reports.service import MANUAL

FRAMEWORKS = ["iso42001", "sr11_7", "dora"]
# The sample's anonymous-pull registry, accepted: a reason with a line break and markup, as a
# person may type it.
ACCEPTANCE = Acceptance(
    check_id=CHECK,
    resource=REGISTRY,
    reason="Public base images only <b>for now</b>.\nA pull-through cache replaces it in Q1.",
    approver="ciso@contoso.example",
    expires=dt.date(2099, 3, 31),
    ticket="RISK-1042",
    id="exc_0123456789abcdef0123456789abcdef",
)


def sample_document(
    scan_ts: dt.datetime | None = None, frameworks: list[str] | None = None
) -> dict[str, Any]:
    """The report a scan of the sample's dev subscription makes (no id yet)."""
    return offline_report(sample_records(DEV), frameworks or FRAMEWORKS, scan_ts or utcnow())


def accepted_document(
    scan_ts: dt.datetime | None = None, frameworks: list[str] | None = None
) -> dict[str, Any]:
    """``sample_document`` with the anonymous-pull registry's failure accepted (``ACCEPTANCE``)."""
    estate = Estate(resources_from_arg(export(sample_records(DEV)), "test"))
    _, document = run_scan(
        estate, frameworks or FRAMEWORKS, scan_ts=scan_ts or utcnow(), acceptances=[ACCEPTANCE]
    )
    report: dict[str, Any] = document.to_dict()
    assert report["accepted"], "the sample's registry no longer fails its check"
    return report


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
