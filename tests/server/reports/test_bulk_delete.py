"""DELETE /reports with a body: a named report deletes that report or nothing, never everything."""

from __future__ import annotations

import httpx

from tests.platform import Platform, TenantCtx
from tests.server.reports.test_reports import audit_events, get, minutes_ago, store
from tests.server.scans.estates import listed
from tutela.server.reports.service import GOVERNANCE


def delete(platform: Platform, tenant: TenantCtx, body: object) -> httpx.Response:
    response: httpx.Response = platform.client.request(
        "DELETE", "/reports", headers=tenant.headers, json=body
    )
    return response


def test_a_named_report_deletes_that_report_or_nothing(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    keep, gone = store(platform, tenant, minutes_ago(2)), store(platform, tenant, minutes_ago(1))
    governance = store(platform, tenant, minutes_ago(30), report_type=GOVERNANCE)

    response = delete(platform, tenant, {"report_id": gone})
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "deleted": 1, "report_id": gone}
    # Gone already: 404, and nothing else is touched (selective true says the same).
    assert delete(platform, tenant, {"selective": True, "report_id": gone}).status_code == 404

    # A governance report is not a manual one: 404, and it stays.
    assert delete(platform, tenant, {"report_id": governance}).status_code == 404
    assert delete(platform, tenant, {"report_id": "COMP-20000101-000000"}).status_code == 404
    assert {item["report_id"] for item in listed(platform, tenant)} == {keep, governance}
    [event] = audit_events(platform, tenant, "reports.manual_deleted")
    assert event.details == {"deleted": 1, "report_ids": [gone]}


def test_unclear_bodies_delete_nothing(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    report_id = store(platform, tenant, minutes_ago(1))
    for body, loc in (
        ({}, ["body"]),
        ({"selective": True}, ["body", "report_id"]),
        ({"selective": False, "report_id": report_id}, ["body", "selective"]),
        ({"selective": "true", "report_id": report_id}, ["body", "selective"]),
        ({"selective": 1, "report_id": report_id}, ["body", "selective"]),
        ({"selective": "false"}, ["body", "selective"]),
        ({"report_ids": [report_id]}, ["body", "report_ids"]),
        ({"report_id": "../../etc"}, ["body", "report_id"]),
    ):
        response = delete(platform, tenant, body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == loc, body
        assert report_id not in response.text
    assert "report_id" in delete(platform, tenant, {}).json()["detail"][0]["msg"]
    assert get(platform, tenant, report_id).status_code == 200


def test_everything_without_a_body_or_with_selective_false(platform: Platform) -> None:
    """The seed's bodiless call keeps its meaning; ``{"selective": false}`` says it explicitly."""
    tenant = platform.tenant("professional")
    store(platform, tenant, minutes_ago(1))
    store(platform, tenant, minutes_ago(2))
    governance = store(platform, tenant, minutes_ago(30), report_type=GOVERNANCE)
    response = platform.client.delete("/reports", headers=tenant.headers)
    assert response.json() == {"status": "ok", "deleted": 2}

    store(platform, tenant, minutes_ago(3))
    explicit = delete(platform, tenant, {"selective": False})
    assert explicit.json() == {"status": "ok", "deleted": 1}
    assert [item["report_id"] for item in listed(platform, tenant)] == [governance]
