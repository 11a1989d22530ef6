"""GET /report/{id}/enterprise: every plan learns whether the insights are available, and where."""

from __future__ import annotations

import datetime as dt

from tests.platform import Platform
from tests.server.insights.helpers import stored
from tutela.server.db import utcnow
from tutela.server.insights.router import INSIGHT_PATHS


def test_an_enterprise_tenant_is_given_the_insights_endpoints(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    report_id = stored(platform, tenant)
    response = platform.client.get(f"/report/{report_id}/enterprise", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["report_id"] == report_id
    assert body["scorecard_available"] is True
    assert body["plan"] == "enterprise"
    assert body["upgrade_message"] is None
    assert body["endpoints"] == {
        name: f"/report/{report_id}/{path}" for name, path in INSIGHT_PATHS.items()
    }
    for path in body["endpoints"].values():  # every endpoint it names answers
        assert platform.client.get(path, headers=tenant.headers).status_code == 200, path


def test_below_enterprise_the_answer_says_why_in_a_sentence(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    report_id = stored(platform, tenant)
    response = platform.client.get(f"/report/{report_id}/enterprise", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scorecard_available"] is False
    assert body["plan"] == "professional"
    assert body["endpoints"] == {}
    assert "Enterprise plan" in body["upgrade_message"]
    assert "'professional'" in body["upgrade_message"]


def test_another_tenants_report_and_an_expired_one_are_not_found(platform: Platform) -> None:
    owner, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    report_id = stored(platform, owner)
    answer = platform.client.get(f"/report/{report_id}/enterprise", headers=other.headers)
    assert answer.status_code == 404
    assert "detail" in answer.json()
    old = stored(platform, owner, scan_ts=utcnow() - dt.timedelta(days=400))  # window: 365
    expired = platform.client.get(f"/report/{old}/enterprise", headers=owner.headers)
    assert expired.status_code == 404
    assert platform.client.get(f"/report/{report_id}/enterprise", headers=owner.headers).is_success
