"""GET/PUT /governance and DELETE /governance/history: shapes, plan gates, audit, tenancy."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select

from tests.platform import Platform, TenantCtx
from tests.server.governance.helpers import governance, governance_reports, state
from tests.server.scans.estates import link_sample_snapshot, scan
from tutela.server.audit.models import AuditEvent
from tutela.server.auth.scopes import Scope
from tutela.server.governance.scans import run_due

LATER = dt.datetime(2027, 11, 1, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def scanned(platform: Platform, tenant: TenantCtx, *moments: dt.datetime) -> list[str]:
    """Governance reports of the tenant made at these times; their ids."""
    ids = []
    for moment in moments:
        outcomes = [o for o in run_due(platform.runtime, moment) if o.tenant_id == tenant.id]
        assert [o.status for o in outcomes] == ["scanned"], outcomes
        assert outcomes[0].report_id is not None
        ids.append(outcomes[0].report_id)
    return ids


def audit(platform: Platform, tenant: TenantCtx, action: str) -> list[AuditEvent]:
    with platform.db() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.tenant_id == tenant.id, AuditEvent.action == action
                )
            )
        )


def test_a_new_tenant_follows_its_plan(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    body = governance(platform, tenant)
    assert body == {
        "governance_enabled": True,
        "cadence": "biweekly",
        "plan_cadence": "biweekly",
        "allowed_cadences": ["manual", "biweekly"],
        "last_scan_ts": None,
        "next_scan_ts": body["next_scan_ts"],  # now: the first scan is due at once
        "governance_score": None,
        "drift_detected": False,
        "drift": None,
        "last_error": None,
        "history": [],
    }
    me = platform.client.get("/tenant/me", headers=tenant.headers).json()
    assert (me["governance_enabled"], me["governance_cadence"]) == (True, "biweekly")


def test_a_tenant_may_choose_a_slower_cadence_never_a_faster_one(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    faster = platform.client.put("/governance", headers=tenant.headers, json={"cadence": "daily"})
    assert faster.status_code == 403
    assert faster.json()["detail"] == (
        "Cadence 'daily' is not available on plan 'professional' (allowed: manual, biweekly)"
    )
    unknown = platform.client.put("/governance", headers=tenant.headers, json={"cadence": "hourly"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "cadence"]
    extra = platform.client.put("/governance", headers=tenant.headers, json={"paused": True})
    assert extra.status_code == 422

    manual = platform.client.put("/governance", headers=tenant.headers, json={"cadence": "manual"})
    assert manual.status_code == 200, manual.text
    assert manual.json()["governance_enabled"] is False
    assert manual.json()["next_scan_ts"] is None
    me = platform.client.get("/tenant/me", headers=tenant.headers).json()
    assert (me["governance_enabled"], me["governance_cadence"]) == (False, "manual")
    link_sample_snapshot(platform, tenant)
    assert [o for o in run_due(platform.runtime, LATER) if o.tenant_id == tenant.id] == []
    [event] = audit(platform, tenant, "governance.settings_changed")
    assert event.details == {
        "before": {"enabled": True, "cadence": None},
        "after": {"enabled": True, "cadence": "manual"},
    }


def test_pausing_and_resuming(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    [first] = scanned(platform, tenant, LATER)
    paused = platform.client.put(
        "/governance", headers=tenant.headers, json={"governance_enabled": False}
    )
    assert paused.json()["governance_enabled"] is False
    assert [o for o in run_due(platform.runtime, LATER + 3 * DAY) if o.tenant_id == tenant.id] == []
    resumed = platform.client.put(
        "/governance",
        headers=tenant.headers,
        json={"governance_enabled": True, "cadence": "biweekly"},
    )
    body = resumed.json()
    assert (body["governance_enabled"], body["cadence"]) == (True, "biweekly")
    # One interval of the new cadence after the last scan.
    assert body["next_scan_ts"] == "2027-11-15T06:00:00Z"
    assert body["history"][0]["report_id"] == first


def test_history_lists_governance_reports_only_newest_first(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    manual = scan(platform, tenant)["report_id"]
    ids = scanned(platform, tenant, LATER, LATER + DAY)
    history = governance(platform, tenant)["history"]
    assert [h["report_id"] for h in history] == ids[::-1]
    assert manual not in {h["report_id"] for h in history}
    assert [h["ts"] for h in history] == ["2027-11-02T06:00:00Z", "2027-11-01T06:00:00Z"]


def test_delete_one_governance_report(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    manual = scan(platform, tenant)["report_id"]
    older, newer = scanned(platform, tenant, LATER, LATER + DAY)

    not_governance = platform.client.request(
        "DELETE",
        "/governance/history",
        headers=tenant.headers,
        json={"selective": True, "report_id": manual},
    )
    assert not_governance.status_code == 404
    missing_id = platform.client.request(
        "DELETE", "/governance/history", headers=tenant.headers, json={"selective": True}
    )
    assert missing_id.status_code == 422
    assert missing_id.json()["detail"][0]["loc"] == ["body", "report_id"]

    response = platform.client.request(
        "DELETE",
        "/governance/history",
        headers=tenant.headers,
        json={"selective": True, "report_id": newer},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "deleted": 1, "report_id": newer}
    assert [r.report_id for r in governance_reports(platform, tenant.id)] == [older]
    body = governance(platform, tenant)
    assert [h["report_id"] for h in body["history"]] == [older]
    assert body["governance_score"] is None  # it was the deleted report's
    assert state(platform, tenant.id).last_report_id is None
    [event] = audit(platform, tenant, "governance.history_deleted")
    assert event.details == {"selective": True, "deleted": 1, "report_ids": [newer]}
    assert platform.client.get(f"/report/{manual}", headers=tenant.headers).status_code == 200


def test_delete_all_governance_history(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    manual = scan(platform, tenant)["report_id"]
    ids = scanned(platform, tenant, LATER, LATER + DAY)

    response = platform.client.request(
        "DELETE", "/governance/history", headers=tenant.headers, json={"selective": False}
    )
    assert response.json() == {"status": "ok", "deleted": 2}
    assert governance_reports(platform, tenant.id) == []
    assert governance(platform, tenant)["history"] == []
    [event] = audit(platform, tenant, "governance.history_deleted")
    assert event.details == {"selective": False, "deleted": 2, "report_ids": sorted(ids)}
    assert platform.client.get(f"/report/{manual}", headers=tenant.headers).status_code == 200
    again = platform.client.request(
        "DELETE", "/governance/history", headers=tenant.headers, json={"selective": False}
    )
    assert again.json() == {"status": "ok", "deleted": 0}


def test_a_named_report_deletes_that_report_or_nothing(platform: Platform) -> None:
    """Observed: {"report_id": …} without "selective" deleted the whole history."""
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    manual = scan(platform, tenant)["report_id"]
    older, newer = scanned(platform, tenant, LATER, LATER + DAY)

    def delete(body: object) -> httpx.Response:
        response: httpx.Response = platform.client.request(
            "DELETE", "/governance/history", headers=tenant.headers, json=body
        )
        return response

    one = delete({"report_id": newer})
    assert (one.status_code, one.json()) == (
        200,
        {"status": "ok", "deleted": 1, "report_id": newer},
    )
    assert [r.report_id for r in governance_reports(platform, tenant.id)] == [older]

    for absent in (newer, manual, "COMP-20000101-000000"):
        assert delete({"report_id": absent}).status_code == 404
    assert [r.report_id for r in governance_reports(platform, tenant.id)] == [older]
    [event] = audit(platform, tenant, "governance.history_deleted")
    assert event.details == {"selective": True, "deleted": 1, "report_ids": [newer]}


def test_wiping_everything_must_be_asked_for(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    [report_id] = scanned(platform, tenant, LATER)

    unclear = {
        "no body": platform.client.delete("/governance/history", headers=tenant.headers),
        "{}": platform.client.request(
            "DELETE", "/governance/history", headers=tenant.headers, json={}
        ),
        "null": platform.client.request(
            "DELETE", "/governance/history", headers=tenant.headers, json=None
        ),
    }
    for case, response in unclear.items():
        assert response.status_code == 422, case
        [error] = response.json()["detail"]
        assert error["loc"] == ["body"], case
        assert '{"selective": false}' in error["msg"], case

    for body, field in (
        ({"selective": "true", "report_id": report_id}, "selective"),
        ({"selective": 1, "report_id": report_id}, "selective"),
        ({"selective": "false"}, "selective"),
        ({"selective": 0}, "selective"),
        ({"selective": False, "report_id": report_id}, "selective"),  # contradictory
        ({"selective": True}, "report_id"),
        ({"report_id": report_id, "all": True}, "all"),
    ):
        response = platform.client.request(
            "DELETE", "/governance/history", headers=tenant.headers, json=body
        )
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"][:2] == ["body", field], body
        assert report_id not in response.text
    assert [r.report_id for r in governance_reports(platform, tenant.id)] == [report_id]
    assert audit(platform, tenant, "governance.history_deleted") == []


def test_another_tenants_governance_report_is_404_and_untouched(platform: Platform) -> None:
    owner, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    link_sample_snapshot(platform, owner)
    [report_id] = scanned(platform, owner, LATER)
    response = platform.client.request(
        "DELETE",
        "/governance/history",
        headers=other.headers,
        json={"selective": True, "report_id": report_id},
    )
    assert response.status_code == 404
    assert response.json()["detail"] == f"Report {report_id} not found"
    wiped = platform.client.request(
        "DELETE", "/governance/history", headers=other.headers, json={"selective": False}
    )
    assert wiped.json()["deleted"] == 0
    assert len(governance_reports(platform, owner.id)) == 1
    assert governance(platform, other)["history"] == []


def test_scopes(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    reader = platform.key(tenant, [Scope.GOVERNANCE_READ])
    assert platform.client.get("/governance", headers={"X-API-Key": reader}).status_code == 200
    for method, path in (("PUT", "/governance"), ("DELETE", "/governance/history")):
        response = platform.client.request(method, path, headers={"X-API-Key": reader}, json={})
        assert response.status_code == 403
        assert "governance:write" in response.json()["detail"]
