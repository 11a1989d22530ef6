"""Scans through the API apply the tenant's approved, unexpired exceptions: the issue's life
cycle (request, approve, scan, expire, scan again), revocation, globs, IaC and governance."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tests.platform import Platform, TenantCtx, auth
from tests.server.exceptions.helpers import (
    CHECK,
    REGISTRY,
    accepted_by,
    approve,
    in_days,
    request,
    set_expiry,
    today,
)
from tests.server.scans.estates import DEV, link_sample_snapshot
from tutela.server.governance.scans import run_due

FRAMEWORKS = ["iso42001", "sr11_7", "eu_ai_act"]


def dry_run(platform: Platform, tenant: TenantCtx) -> dict[str, Any]:
    response = platform.client.post(
        "/scan/dry-run", headers=tenant.headers, json={"frameworks": FRAMEWORKS}
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def failing(report: dict[str, Any]) -> set[str]:
    """The resources failing CHECK in a report."""
    return {f["resource"] for f in report["findings"] if f["check_id"] == CHECK}


def accepted(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in report.get("accepted", []) if a["check_id"] == CHECK]


def test_accept_scan_expire_scan_again(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant, DEV)
    before = dry_run(platform, tenant)
    assert failing(before) == {REGISTRY}
    assert "accepted" not in before
    assert "checks_accepted" not in before

    _, member = platform.user(tenant, "member")
    _, admin = platform.user(tenant, "admin")
    exception = request(platform, member, expires=in_days(1))
    assert failing(dry_run(platform, tenant)) == {REGISTRY}  # pending: no approver, not applied

    approved = approve(platform, admin, exception["id"])
    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": FRAMEWORKS}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert failing(report) == set()
    [entry] = accepted(report)
    assert entry["resource_id"] == REGISTRY
    assert entry["severity"] == "critical"
    assert entry["acceptance"] == {
        "id": exception["id"],
        "resource": REGISTRY,
        "reason": exception["reason"],
        "approver": approved["approved_by"],
        "ticket": "CHG-1042",
        "expires": in_days(1),
    }
    assert report["checks_accepted"] == len(report["accepted"]) >= 1
    # Out of the counts: the pair's critical findings (one per control it evidences) go.
    removed = sum(f["check_id"] == CHECK for f in before["findings"])
    assert report["critical_count"] == before["critical_count"] - removed
    assert report["checks_failed"] < before["checks_failed"]
    stored = platform.client.get(f"/report/{report['report_id']}", headers=tenant.headers)
    assert stored.status_code == 200
    assert stored.json()["accepted"] == report["accepted"]
    assert stored.json()["checks_accepted"] == report["checks_accepted"]

    # The day it expires, the pair fails again.
    set_expiry(platform, exception["id"], today())
    expired = dry_run(platform, tenant)
    assert failing(expired) == {REGISTRY}
    assert accepted(expired) == []
    assert expired["critical_count"] == before["critical_count"]
    listed = platform.client.get(f"/exceptions/{exception['id']}", headers=tenant.headers).json()
    assert (listed["status"], listed["active"]) == ("approved", False)


def test_a_revoked_exception_stops_at_the_next_scan_and_a_glob_accepts_without_case(
    platform: Platform,
) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant, DEV)
    exception_id = accepted_by(platform, tenant)
    assert failing(dry_run(platform, tenant)) == set()
    assert platform.client.delete(f"/exceptions/{exception_id}", headers=tenant.headers)
    assert failing(dry_run(platform, tenant)) == {REGISTRY}

    _, member = platform.user(tenant, "member")
    glob = request(platform, member, resource=f"/SUBSCRIPTIONS/{DEV}/resourceGroups/*")["id"]
    approve(platform, tenant.owner_key, glob)
    [entry] = accepted(dry_run(platform, tenant))
    assert entry["acceptance"]["id"] == glob
    # Another tenant with the same estate and no exception: still failing.
    other = platform.tenant("enterprise")
    link_sample_snapshot(platform, other, DEV)
    assert failing(dry_run(platform, other)) == {REGISTRY}


def test_iac_scans_apply_the_tenant_s_exceptions(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.ContainerRegistry/registries",
                "apiVersion": "2023-07-01",
                "name": "crpipeline",
                "location": "westeurope",
                "sku": {"name": "Standard"},
                "properties": {"anonymousPullEnabled": True},
            }
        ],
    }

    def iac() -> dict[str, Any]:
        response = platform.client.post(
            "/scan/iac",
            headers={**tenant.headers, "content-type": "application/json"},
            content=json.dumps(template).encode(),
            params={"dry_run": "true"},
        )
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    [resource] = failing(iac())
    _, member = platform.user(tenant, "member")
    exception_id = request(platform, member, resource="*/registries/crpipeline")["id"]
    approve(platform, tenant.owner_key, exception_id)
    report = iac()
    assert failing(report) == set()
    assert [a["resource_id"] for a in accepted(report)] == [resource]


def test_governance_scans_accept_until_the_expiry_date(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant, DEV)
    exception_id = accepted_by(platform, tenant)
    set_expiry(platform, exception_id, today() + dt.timedelta(days=1))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def governance_report(at: dt.datetime) -> dict[str, Any]:
        [outcome] = [o for o in run_due(platform.runtime, at) if o.tenant_id == tenant.id]
        assert outcome.status == "scanned", outcome
        response = platform.client.get(f"/report/{outcome.report_id}", headers=tenant.headers)
        assert response.status_code == 200
        report: dict[str, Any] = response.json()
        return report

    today_s = governance_report(now)
    assert failing(today_s) == set()
    assert {a["acceptance"]["id"] for a in accepted(today_s)} == {exception_id}
    tomorrow_s = governance_report(now + dt.timedelta(days=1, hours=1))
    assert failing(tomorrow_s) == {REGISTRY}
    assert accepted(tomorrow_s) == []


def test_an_auditor_sees_the_acceptance_in_the_report(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant, DEV)
    exception_id = accepted_by(platform, tenant, approver_role="owner")
    report = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": FRAMEWORKS}
    ).json()
    _, auditor = platform.user(tenant, "auditor")
    seen = platform.client.get(f"/report/{report['report_id']}", headers=auth(auditor)).json()
    [entry] = accepted(seen)
    assert entry["acceptance"]["id"] == exception_id
    assert platform.client.get(f"/exceptions/{exception_id}", headers=auth(auditor)).json()[
        "active"
    ]


def test_every_reading_of_a_report_with_accepted_pairs_answers(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant, DEV)
    first = platform.client.post("/scan", headers=tenant.headers, json={"frameworks": FRAMEWORKS})
    accepted_by(platform, tenant)
    second = platform.client.post("/scan", headers=tenant.headers, json={"frameworks": FRAMEWORKS})
    report_id = second.json()["report_id"]
    assert accepted(second.json())

    for path in (
        f"/report/{report_id}?include=passed",
        f"/report/{report_id}/scorecard",
        f"/report/{report_id}/roadmap",
        f"/report/{report_id}/auditor-package",
        f"/report/{report_id}/auditor-package?format=pdf",
        f"/report/{report_id}/iac",
        "/reports",
    ):
        response = platform.client.get(path, headers=tenant.headers)
        assert response.status_code == 200, (path, response.text[:300])
    with_passed = platform.client.get(
        f"/report/{report_id}", headers=tenant.headers, params={"include": "passed"}
    ).json()
    assert with_passed["accepted"] == second.json()["accepted"]
    diff = platform.client.post(
        "/reports/diff",
        headers=tenant.headers,
        json={"report_a": first.json()["report_id"], "report_b": report_id},
    )
    assert diff.status_code == 200, diff.text
    still_failing = {
        (f["check_id"], f["resource"])
        for f in diff.json()["unchanged"] + diff.json()["new_findings"]
    }
    assert (CHECK, REGISTRY) not in still_failing  # accepted: no longer among the failures
