"""Counts kept per stored report: they agree with the report's findings, go with the report,
and reports stored before them still count by severity."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update

from tests.platform import Platform
from tests.server.analytics.helpers import (
    ask,
    failed_by_check,
    failed_by_framework,
    frameworks_answered,
)
from tests.server.reports.test_reports import a_document, store
from tests.server.scans.estates import link_sample_snapshot, scan
from tutela.server.analytics.models import ReportCheckCount, ReportFrameworkCount
from tutela.server.reports.models import Report

SEVERITIES = ("critical", "high", "medium", "low")


def test_a_scan_stores_counts_that_match_its_findings(
    alone: Platform, operator: dict[str, str]
) -> None:
    tenant = alone.tenant("professional")
    link_sample_snapshot(alone, tenant)
    first = scan(alone, tenant, ["iso42001", "eu_ai_act", "dora"])
    second = scan(alone, tenant, ["sox"])
    assert failed_by_framework(first), "the sample estate must fail some checks"

    findings = ask(alone, operator, "findings")
    assert frameworks_answered(findings) == failed_by_framework(first, second)
    assert findings["reports"] == findings["reports_counted"] == 2
    assert findings["by_severity"] == {
        s: first[f"{s}_count"] + second[f"{s}_count"] for s in SEVERITIES
    }
    for entry in findings["by_framework"]:
        assert entry["total"] == sum(entry[s] for s in SEVERITIES)

    checks = ask(alone, operator, "checks", limit=100)
    expected = failed_by_check(first, second)
    most_failed = sorted(expected.items(), key=lambda item: (-item[1][0], item[0]))[:100]
    assert [(c["check_id"], (c["findings"], c["resources"])) for c in checks["items"]] == (
        most_failed
    )
    assert checks["failing_checks"] == len(expected)
    assert all(1 <= c["reports"] <= 2 for c in checks["items"])

    scans = ask(alone, operator, "scans")
    assert scans["by_plan"] == [{"plan": "professional", "scans": 2}]
    assert scans["by_type"] == {"manual": 2, "governance": 0}


def test_a_report_made_elsewhere_is_counted_from_its_findings(
    alone: Platform, operator: dict[str, str]
) -> None:
    tenant = alone.tenant("starter")
    now = dt.datetime.now(dt.UTC)
    document = a_document(now)
    store(alone, tenant, now, document=document)

    findings = ask(alone, operator, "findings")
    assert frameworks_answered(findings) == failed_by_framework(document)
    checks = ask(alone, operator, "checks", limit=100)
    assert {
        c["check_id"]: (c["findings"], c["resources"]) for c in checks["items"]
    } == failed_by_check(document)


def test_counts_go_with_their_report_and_tenant(alone: Platform, operator: dict[str, str]) -> None:
    tenant = alone.tenant()
    now = dt.datetime.now(dt.UTC)
    report_id = store(alone, tenant, now)
    kept = store(alone, alone.tenant(), now)
    assert _count_rows(alone) == (2, 2)

    deleted = alone.client.delete(f"/report/{report_id}", headers=tenant.headers)
    assert deleted.status_code in (200, 204), deleted.text
    assert _count_rows(alone) == (1, 1)
    assert kept  # the other tenant's report keeps its counts

    with alone.db() as session:
        session.execute(delete(Report))
    assert _count_rows(alone) == (0, 0)
    assert ask(alone, operator, "findings")["by_framework"] == []


def test_reports_stored_before_the_counts_count_by_severity_only(
    alone: Platform, operator: dict[str, str]
) -> None:
    tenant = alone.tenant()
    now = dt.datetime.now(dt.UTC)
    old = a_document(now)
    store(alone, tenant, now, document=old)
    with alone.db() as session:  # as a report stored before revision 0013 is
        session.execute(delete(ReportFrameworkCount))
        session.execute(delete(ReportCheckCount))
        session.execute(update(Report).values(plan=None))
    new = a_document(now)
    store(alone, tenant, now + dt.timedelta(seconds=1), document=new)

    findings = ask(alone, operator, "findings")
    assert (findings["reports"], findings["reports_counted"]) == (2, 1)
    assert findings["by_severity"] == {s: old[f"{s}_count"] + new[f"{s}_count"] for s in SEVERITIES}
    assert frameworks_answered(findings) == failed_by_framework(new)
    scans = ask(alone, operator, "scans")
    assert scans["by_plan"] == [{"plan": "enterprise", "scans": 1}, {"plan": None, "scans": 1}]


def _count_rows(platform: Platform) -> tuple[int, int]:
    with platform.db() as session:
        frameworks = session.scalar(
            select(func.count(func.distinct(ReportFrameworkCount.report_row_id)))
        )
        checks = session.scalar(select(func.count(func.distinct(ReportCheckCount.report_row_id))))
        return int(frameworks or 0), int(checks or 0)
