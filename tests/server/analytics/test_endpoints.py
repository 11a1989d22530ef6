"""The analytics endpoints: exact counts, range edges, the lists, and what they refuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.platform import Platform, TenantCtx, auth
from tests.server.analytics.helpers import ask
from tests.server.reports.test_reports import store
from tests.server.scans.estates import link_sample_snapshot, scan
from tutela.server.governance.models import GovernanceState
from tutela.server.governance.scans import run_due
from tutela.server.keys.models import ApiKey
from tutela.server.reports.service import GOVERNANCE
from tutela.server.tenants.models import ScanUsage

ENDPOINTS = ("scans", "findings", "checks", "tenants", "quota", "governance", "keys")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_scans_count_whole_days_both_ends_included(
    alone: Platform, operator: dict[str, str]
) -> None:
    tenant = alone.tenant("starter")
    for moment in (
        "2026-02-28T23:59:59",  # the day before: out
        "2026-03-01T00:00:00",
        "2026-03-15T12:00:00",
        "2026-03-31T23:59:59",
        "2026-04-01T00:00:00",  # the day after: out
    ):
        store(alone, tenant, at(moment))
    store(alone, tenant, at("2026-03-15T12:00:00"), report_type=GOVERNANCE)

    body = ask(alone, operator, "scans", since="2026-03-01", until="2026-03-31")
    assert body["range"] == {"since": "2026-03-01", "until": "2026-03-31"}
    assert body["total"] == 4
    assert body["by_type"] == {"manual": 3, "governance": 1}
    assert body["by_plan"] == [{"plan": "starter", "scans": 4}]
    assert body["per_day"] == [
        {"day": "2026-03-01", "type": "manual", "plan": "starter", "scans": 1},
        {"day": "2026-03-15", "type": "governance", "plan": "starter", "scans": 1},
        {"day": "2026-03-15", "type": "manual", "plan": "starter", "scans": 1},
        {"day": "2026-03-31", "type": "manual", "plan": "starter", "scans": 1},
    ]
    one_day = ask(alone, operator, "scans", since="2026-03-15", until="2026-03-15")
    assert one_day["total"] == 2
    assert ask(alone, operator, "findings", since="2026-02-01", until="2026-02-28")["reports"] == 1


def test_tenants_in_their_deletion_grace_period_are_counted_apart(
    alone: Platform, operator: dict[str, str]
) -> None:
    alone.tenant("starter")
    leaving = alone.tenant("starter")
    assert alone.client.delete(f"/admin/tenants/{leaving.id}", headers=operator).status_code == 202
    body = ask(alone, operator, "tenants")
    assert body["by_status"] == {"active": 1, "suspended": 0, "deleting": 1}
    assert body["total"] == 2


def test_the_default_range_is_the_last_30_days(alone: Platform, operator: dict[str, str]) -> None:
    today = dt.datetime.now(dt.UTC).date()
    tenant = alone.tenant()
    store(alone, tenant, dt.datetime.combine(today - dt.timedelta(days=29), dt.time(), dt.UTC))
    store(alone, tenant, dt.datetime.combine(today - dt.timedelta(days=30), dt.time(), dt.UTC))
    body = ask(alone, operator, "scans")
    assert body["range"] == {
        "since": (today - dt.timedelta(days=29)).isoformat(),
        "until": today.isoformat(),
    }
    assert body["total"] == 1


def test_active_tenants_stored_a_report_or_used_a_key_in_the_range(
    alone: Platform, operator: dict[str, str]
) -> None:
    reporting = alone.tenant("professional")
    store(alone, reporting, dt.datetime.now(dt.UTC))
    calling = alone.tenant("starter")
    assert alone.client.get("/tenant/me", headers=calling.headers).status_code == 200
    long_ago = alone.tenant("starter")
    with alone.db() as session:
        key = session.query(ApiKey).filter(ApiKey.tenant_id == long_ago.id).one()
        key.last_used_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    suspended = alone.tenant("free_trial")
    assert (
        alone.client.post(f"/admin/tenants/{suspended.id}/suspend", headers=operator).status_code
        == 200
    )

    body = ask(alone, operator, "tenants")
    assert (body["total"], body["active"]) == (4, 2)
    assert body["by_status"] == {"active": 3, "suspended": 1, "deleting": 0}
    assert body["by_plan"] == [
        {"plan": "free_trial", "tenants": 1, "active": 0},
        {"plan": "professional", "tenants": 1, "active": 1},
        {"plan": "starter", "tenants": 2, "active": 1},
    ]
    earlier = dt.date.today() - dt.timedelta(days=45)
    past = ask(alone, operator, "tenants", since=earlier.isoformat(), until=earlier.isoformat())
    assert past["active"] == 0


def test_quota_lists_tenants_near_their_plans_limit_fullest_first(
    alone: Platform, operator: dict[str, str]
) -> None:
    usage = {
        ("starter", "2026-11"): 20,  # 80 % of 25: in
        ("starter", "2026-11", 2): 19,  # 76 %: out
        ("free_trial", "2026-11"): 3,  # 100 %: in, first
        ("enterprise", "2026-11"): 500,  # no quota: never listed
        ("professional", "2026-10"): 95,  # another month
    }
    tenants: dict[tuple[object, ...], TenantCtx] = {}
    with_usage = []
    for key, count in usage.items():
        tenant = alone.tenant(str(key[0]))
        tenants[key] = tenant
        with_usage.append(ScanUsage(tenant_id=tenant.id, period=str(key[1]), count=count))
    with alone.db() as session:
        session.add_all(with_usage)

    body = ask(alone, operator, "quota", month="2026-11")
    assert body["range"] == {"since": "2026-11-01", "until": "2026-11-30"}
    assert (body["threshold_percent"], body["total"]) == (80, 2)
    assert body["items"] == [
        {
            "tenant_id": tenants["free_trial", "2026-11"].id,
            "plan": "free_trial",
            "used": 3,
            "quota": 3,
            "percent": 100,
        },
        {
            "tenant_id": tenants["starter", "2026-11"].id,
            "plan": "starter",
            "used": 20,
            "quota": 25,
            "percent": 80,
        },
    ]
    lower = ask(alone, operator, "quota", month="2026-11", threshold=75, limit=1)
    assert (lower["total"], len(lower["items"])) == (3, 1)
    assert ask(alone, operator, "quota", month="2026-10", threshold=95)["total"] == 1
    assert ask(alone, operator, "quota")["month"] == dt.datetime.now(dt.UTC).strftime("%Y-%m")


def test_governance_lists_failing_tenants_without_their_error_text(
    alone: Platform, operator: dict[str, str]
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    states = {
        "internal": (3, "Internal error (RuntimeError); see the server log", now),
        "scan": (1, "Azure refused the credentials of secret-tenant-name", now),
        "healthy": (0, None, None),
        "long ago": (5, "Internal error (OSError); see the server log", now - dt.timedelta(60)),
    }
    ids = {}
    with alone.db() as session:
        for name, (failures, error, when) in states.items():
            ids[name] = alone.tenant().id
            session.add(
                GovernanceState(
                    tenant_id=ids[name], failures=failures, last_error=error, last_error_at=when
                )
            )

    response = alone.client.get("/admin/analytics/governance", headers=operator)
    assert "secret-tenant-name" not in response.text
    assert "RuntimeError" not in response.text
    body = response.json()
    assert body["total"] == 2
    assert [(i["tenant_id"], i["failures"], i["error_class"]) for i in body["items"]] == [
        (ids["internal"], 3, "internal"),
        (ids["scan"], 1, "scan"),
    ]
    assert body["items"][0]["last_error_at"] == now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ask(alone, operator, "governance", min_failures=2)["total"] == 1
    wide = ask(alone, operator, "governance", since=(now - dt.timedelta(90)).date().isoformat())
    assert wide["total"] == 3


def test_keys_lists_unrevoked_keys_expiring_soon_without_secrets(
    alone: Platform, operator: dict[str, str]
) -> None:
    tenant = alone.tenant()
    soon = alone.key(tenant, ["tenant:read"], expires_in_days=5)
    later = alone.key(tenant, ["tenant:read"], expires_in_days=20)
    revoked = alone.key(tenant, ["tenant:read"], expires_in_days=5)
    expired = alone.key(tenant, ["tenant:read"], expires_in_days=5)
    alone.expire(expired)
    with alone.db() as session:
        row = session.get(ApiKey, alone.key_id(revoked))
        assert row is not None
        row.revoked_at = dt.datetime.now(dt.UTC)

    response = alone.client.get("/admin/analytics/keys", headers=operator)
    assert response.status_code == 200
    assert not any(secret in response.text for secret in (soon, later, revoked, tenant.owner_key))
    body = response.json()
    assert body["within_days"] == 14
    assert [(k["key_id"], k["tenant_id"]) for k in body["items"]] == [
        (alone.key_id(soon), tenant.id)
    ]
    assert body["items"][0]["prefix"] == soon[: len(body["items"][0]["prefix"])]
    wider = ask(alone, operator, "keys", within_days=30)
    assert alone.key_id(later) in {k["key_id"] for k in wider["items"]}


def test_answers_hold_no_names_emails_or_resources(
    alone: Platform, operator: dict[str, str]
) -> None:
    tenant = alone.tenant("professional")
    link_sample_snapshot(alone, tenant)
    scan(alone, tenant, ["iso42001"])
    for path in ENDPOINTS:
        text = alone.client.get(f"/admin/analytics/{path}", headers=operator).text
        assert "@" not in text, path
        assert "/subscriptions/" not in text, path
        assert "rg-" not in text, path


# Each refused query: the endpoint, its parameters and the field its 422 names.
BAD_QUERIES: list[tuple[str, dict[str, Any], str]] = [
    ("scans", {"since": "2026-03-02", "until": "2026-03-01"}, "until"),
    ("findings", {"since": "2025-01-01", "until": "2026-01-02"}, "since"),  # 367 days
    ("checks", {"since": "2026-02-30"}, "since"),
    ("scans", {"since": "9999-12-31"}, "until"),
    ("checks", {"limit": 0}, "limit"),
    ("tenants", {"until": "yesterday"}, "until"),
    ("findings", {"until": "0"}, "until"),  # not seconds since 1970
    ("findings", {"since": "2026-03-01T00:00:00"}, "since"),
    ("quota", {"month": "2026-13"}, "month"),
    ("quota", {"month": "0000-01"}, "month"),
    ("quota", {"threshold": 0}, "threshold"),
    ("governance", {"min_failures": 0}, "min_failures"),
    ("keys", {"within_days": 400}, "within_days"),
]


def test_bad_ranges_and_limits_are_422(platform: Platform) -> None:
    operator = auth(platform.operator_key())
    for path, params, field in BAD_QUERIES:  # one platform for all (each costs a second)
        response = platform.client.get(f"/admin/analytics/{path}", headers=operator, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert field in str(response.json()["detail"]), (path, params)


def test_a_leap_year_is_not_too_long(platform: Platform) -> None:
    operator = auth(platform.operator_key())
    response = platform.client.get(
        "/admin/analytics/scans",
        headers=operator,
        params={"since": "2024-01-01", "until": "2024-12-31"},
    )
    assert response.status_code == 200, response.text


def test_only_operators_may_read_analytics(platform: Platform) -> None:
    owner = platform.tenant().headers
    writer = auth(platform.key(None, ["admin:write"]))
    for path in ENDPOINTS:
        url = f"/admin/analytics/{path}"
        assert platform.client.get(url, headers=owner).status_code == 403, path
        assert platform.client.get(url).status_code == 401, path
        assert platform.client.get(url, headers=writer).status_code == 403, path


def test_real_governance_scans_count_and_their_failures_are_listed(
    alone: Platform, operator: dict[str, str]
) -> None:
    scanned = alone.tenant("professional")
    link_sample_snapshot(alone, scanned)
    unlinked = alone.tenant("enterprise")  # governance on, nothing linked: the scan fails
    now = dt.datetime.now(dt.UTC)
    outcomes = {o.tenant_id: o.status for o in run_due(alone.runtime, now)}
    assert outcomes == {scanned.id: "scanned", unlinked.id: "failed"}

    scans = ask(alone, operator, "scans")
    assert scans["by_type"] == {"manual": 0, "governance": 1}
    assert scans["by_plan"] == [{"plan": "professional", "scans": 1}]
    findings = ask(alone, operator, "findings")
    assert findings["reports_counted"] == 1
    assert sum(f["total"] for f in findings["by_framework"]) == sum(
        findings["by_severity"].values()
    )
    failing = ask(alone, operator, "governance")
    assert [(i["tenant_id"], i["failures"], i["error_class"]) for i in failing["items"]] == [
        (unlinked.id, 1, "scan")
    ]
