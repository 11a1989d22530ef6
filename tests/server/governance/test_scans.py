"""Governance scans in process: due tenants scanned once, the schedule, drift alerts, failures.

These run the job functions the in-process scheduler and `tutela jobs run-due` run, at chosen
times, against SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

import httpx
import pytest

from tests.platform import Platform, TenantCtx
from tests.scanner.sources.replay import ReplayTransport
from tests.server.governance.helpers import governance, governance_reports, iso, outbox, state
from tests.server.scans.estates import (
    ANONYMOUS_REGISTRY,
    DEV,
    RECORDED_SECRET,
    link_sample_snapshot,
    live_tenant,
    sample_records,
    scan_count,
    upload_snapshot,
)
from tutela.server.governance.repository import GovernanceRepository
from tutela.server.governance.scans import Outcome, run_due, scan_tenant
from tutela.server.jobs.models import JobRun
from tutela.server.tenants.models import Tenant

# In the future, so that "now" of the requests reading the state is before every scan.
NOW = dt.datetime(2027, 11, 1, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def due(platform: Platform, moment: dt.datetime, *tenants: TenantCtx) -> list[Outcome]:
    """run_due's outcomes for these tenants (PostgreSQL holds other tests' tenants too)."""
    ids = {t.id for t in tenants}
    return [o for o in run_due(platform.runtime, moment) if o.tenant_id in ids]


def test_a_due_tenant_is_scanned_once_and_its_schedule_moves_on(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant)

    [outcome] = due(platform, NOW, tenant)

    assert (outcome.tenant_id, outcome.status, outcome.drift) == (tenant.id, "scanned", False)
    [report] = governance_reports(platform, tenant.id)
    assert report.report_id == outcome.report_id == "COMP-20271101-060000"
    assert report.label == "governance"
    assert report.frameworks == ["iso42001", "sr11_7", "eu_ai_act", "nist_ai_rmf", "mas_trm",
                                 "dora", "sox"]  # fmt: skip
    assert scan_count(platform, tenant) == 0  # governance scans are not counted in the quota
    listed = platform.client.get("/reports?type=governance", headers=tenant.headers).json()
    assert [item["report_id"] for item in listed["items"]] == [report.report_id]
    body = governance(platform, tenant)
    assert body["governance_enabled"] is True
    assert body["cadence"] == "biweekly"
    assert body["last_scan_ts"] == "2027-11-01T06:00:00Z"
    assert body["governance_score"] == report.aggregate_score is not None
    assert body["drift_detected"] is False
    assert body["history"] == [
        {"report_id": report.report_id, "score": report.aggregate_score, "ts": iso(NOW)}
    ]
    assert state(platform, tenant.id).next_scan_at == NOW + 14 * DAY

    assert due(platform, NOW + dt.timedelta(minutes=1), tenant) == []  # done for now
    assert due(platform, NOW + 14 * DAY - dt.timedelta(seconds=1), tenant) == []
    [second] = due(platform, NOW + 14 * DAY + dt.timedelta(minutes=2), tenant)
    assert second.status == "scanned"
    assert state(platform, tenant.id).next_scan_at == NOW + 28 * DAY  # the slot, not the finish
    assert len(governance_reports(platform, tenant.id)) == 2


def test_plans_with_manual_governance_are_never_scanned(platform: Platform) -> None:
    starter = platform.tenant("starter")
    link_sample_snapshot(platform, starter)
    enterprise = platform.tenant("enterprise")
    link_sample_snapshot(platform, enterprise)

    outcomes = due(platform, NOW, starter, enterprise)

    assert [o.tenant_id for o in outcomes] == [enterprise.id]
    assert governance_reports(platform, starter.id) == []
    response = platform.client.get("/governance", headers=starter.headers)
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "This feature requires the 'professional' plan or higher (current plan: 'starter')"
    )
    # Enterprise is daily.
    assert state(platform, enterprise.id).next_scan_at == NOW + DAY


def test_drift_is_detected_and_mailed_to_the_owner(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant, clean=True)
    [baseline] = due(platform, NOW, tenant)
    assert baseline.status == "scanned"
    assert outbox(platform) == []  # the first scan has nothing to drift from

    upload_snapshot(platform, tenant, DEV, sample_records(DEV))  # the critical gaps return
    [drifted] = due(platform, NOW + 14 * DAY, tenant)

    assert (drifted.status, drifted.drift) == ("scanned", True)
    body = governance(platform, tenant)
    assert body["drift_detected"] is True
    drift = body["drift"]
    assert (drift["previous_report_id"], drift["report_id"]) == (
        baseline.report_id,
        drifted.report_id,
    )
    assert drift["new_critical_or_high"] >= 2
    assert drift["score_delta"] == drift["score_after"] - drift["score_before"] < 0
    assert {f["check_id"] for f in drift["examples"]} >= {"ACR-ANON-PULL", "AKS-RBAC"}

    [mail] = outbox(platform)
    owner = platform.client.get("/tenant/me", headers=tenant.headers).json()["purchaser_email"]
    assert mail["To"] == owner
    assert mail["Subject"].startswith("Tutela: compliance drift in ")
    text = mail.get_content()
    assert f"{drift['score_before']} → {drift['score_after']}" in text
    assert ANONYMOUS_REGISTRY in text
    link_line = next(line for line in text.splitlines() if line.startswith("What changed: "))
    url = httpx.URL(link_line.removeprefix("What changed: "))
    assert url.path == "/reports/diff"
    # The link works: the diff it names, with the owner's key.
    diff = platform.client.get(f"{url.path}?{url.query.decode()}", headers=tenant.headers)
    assert diff.status_code == 200, diff.text
    assert diff.json()["report_b"] == drifted.report_id
    assert any(f["check_id"] == "ACR-ANON-PULL" for f in diff.json()["new_findings"])

    [steady] = due(platform, NOW + 28 * DAY, tenant)  # nothing changed since
    assert (steady.status, steady.drift) == ("scanned", False)
    assert governance(platform, tenant)["drift_detected"] is False
    assert len(outbox(platform)) == 1


def test_a_plan_change_changes_the_cadence_in_effect(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant, clean=True)
    due(platform, NOW, tenant)
    with platform.db() as session:  # the tenant moves up to enterprise: daily scans
        row = session.get(Tenant, tenant.id)
        assert row is not None
        row.plan = "enterprise"
    upload_snapshot(platform, tenant, DEV, sample_records(DEV))
    assert governance(platform, tenant)["cadence"] == "daily"
    [outcome] = due(platform, NOW + 14 * DAY, tenant)
    assert outcome.drift is True
    assert len(outbox(platform)) == 1  # enterprise has drift alerts too: mailed
    assert state(platform, tenant.id).next_scan_at == NOW + 15 * DAY
    with platform.db() as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        row.plan = "starter"  # manual only: no more automatic scans at all
    assert due(platform, NOW + 60 * DAY, tenant) == []


def test_an_ordinary_failure_is_logged_as_one_line_without_a_traceback(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = platform.tenant("enterprise")  # governance on, nothing linked yet
    with caplog.at_level(logging.WARNING, logger="tutela"):
        [outcome] = due(platform, NOW, tenant)
    assert outcome.status == "failed"
    [record] = [r for r in caplog.records if "governance_scan_failed" in r.getMessage()]
    assert "No Azure subscription is linked" in record.getMessage()
    assert not record.exc_info


def test_a_failing_source_is_retried_with_backoff_and_blocks_no_one(
    platform: Platform, azure_unreachable: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = RECORDED_SECRET  # the one the recorded sign-in accepts
    failing = live_tenant(platform)
    healthy = platform.tenant("enterprise")
    link_sample_snapshot(platform, healthy)

    outcomes = {o.tenant_id: o for o in due(platform, NOW, failing, healthy)}

    assert outcomes[healthy.id].status == "scanned"
    assert outcomes[failing.id].status == "failed"
    body = governance(platform, failing)
    error = body["last_error"]
    assert error["detail"].startswith("Azure could not be scanned: ")
    assert secret not in str(body)
    assert (error["failures"], error["ts"]) == (1, iso(NOW))
    assert body["next_scan_ts"] == iso(NOW + dt.timedelta(minutes=5))  # the first retry
    assert governance_reports(platform, failing.id) == []

    assert due(platform, NOW + dt.timedelta(minutes=4), failing) == []
    [again] = due(platform, NOW + dt.timedelta(minutes=5), failing)
    assert again.status == "failed"
    assert governance(platform, failing)["last_error"]["failures"] == 2
    assert state(platform, failing.id).retry_at == NOW + dt.timedelta(minutes=15)  # 5 + 10

    # Azure is back.
    monkeypatch.delenv("HTTPS_PROXY")
    platform.runtime.azure_transport = ReplayTransport.of("sign_in.json", "estate.json")
    [recovered] = due(platform, NOW + dt.timedelta(minutes=15), failing)
    assert recovered.status == "scanned", recovered.detail
    body = governance(platform, failing)
    assert body["last_error"] is None
    assert body["next_scan_ts"] == iso(NOW + DAY)  # back on the daily grid of its first slot
    [report] = platform.client.get("/reports?type=governance", headers=failing.headers).json()[
        "items"
    ]
    assert report["report_id"] == recovered.report_id


def test_racing_workers_scan_a_tenant_exactly_once(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant)
    due(platform, NOW, tenant)  # the first scan
    start = threading.Barrier(4)
    outcomes = []

    def worker() -> None:
        start.wait()
        outcomes.append(scan_tenant(platform.runtime, tenant.id, NOW + 14 * DAY))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(o.status for o in outcomes) == ["scanned", "skipped", "skipped", "skipped"]
    assert len(governance_reports(platform, tenant.id)) == 2


def test_a_held_lease_is_respected_until_it_expires(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant)
    due(platform, NOW, tenant)  # the state exists and the first scan is done
    later = NOW + 14 * DAY
    lease = dt.timedelta(seconds=platform.settings.governance_lease_seconds)
    with platform.db() as session:  # another worker took the tenant and died
        assert GovernanceRepository(session, tenant.id).claim("dead-worker", later, later + lease)

    assert scan_tenant(platform.runtime, tenant.id, later).status == "skipped"
    assert due(platform, later + lease - dt.timedelta(seconds=1), tenant) == []
    [retried] = due(platform, later + lease, tenant)
    assert retried.status == "scanned"
    assert state(platform, tenant.id).lease_owner is None
    assert len(governance_reports(platform, tenant.id)) == 2


def test_the_api_process_runs_due_scans_at_start(settings_factory) -> None:  # type: ignore[no-untyped-def]
    import time

    from tests.platform import Platform as RunningPlatform

    settings = settings_factory(scheduler_interval_seconds=3600)
    with RunningPlatform(settings) as platform:
        tenant: TenantCtx = platform.tenant("enterprise")
        link_sample_snapshot(platform, tenant)
        with platform.client:  # entering the client runs the app's lifespan: the scheduler
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with platform.db() as session:
                    run = session.get(JobRun, "governance.run_due")
                    if run is not None and run.last_status is not None:
                        break
                time.sleep(0.05)
        assert run is not None
        assert (run.runs, run.last_status) == (1, "ok")
        assert run.last_detail == "1 due: 1 scanned (0 with drift), 0 failed, 0 skipped"
        assert len(governance_reports(platform, tenant.id)) == 1
        assert governance(platform, tenant)["governance_score"] is not None


def test_governance_reports_are_kept_for_the_plans_history_window(platform: Platform) -> None:
    from tutela.server.jobs.registry import reports_purge

    tenant = platform.tenant("professional")  # 90 days of history
    link_sample_snapshot(platform, tenant)
    [old] = due(platform, NOW, tenant)
    [recent] = due(platform, NOW + 84 * DAY, tenant)

    result = reports_purge(platform.runtime, NOW + 91 * DAY)

    assert result.detail == "Deleted 1 expired report(s) in 1 tenant(s)."
    assert [r.report_id for r in governance_reports(platform, tenant.id)] == [recent.report_id]
    assert old.report_id != recent.report_id
