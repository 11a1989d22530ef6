"""Each runtime setting takes effect on the next request: default plan, quotas, rate limits,
narratives and the email sender."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.platform import Platform, auth
from tests.ratelimits import clear_of_a_window_edge
from tests.scanner.narrative.chat_server import chat_server
from tests.server.governance.helpers import outbox
from tests.server.platform_settings.helpers import change, changed, operator_key, shown
from tests.server.scans.estates import link_sample_snapshot, scan
from tests.server.test_narration import iac_scan, narrated_platform, narratives
from tutela.server.auth.scopes import Scope
from tutela.server.config import Settings


def create_tenant(platform: Platform, **body: Any) -> dict[str, Any]:
    response = platform.client.post(
        "/admin/tenants",
        headers=auth(operator_key(platform)),
        json={"owner_email": "owner@bank.example.com", **body},
    )
    assert response.status_code == 201, response.text
    tenant: dict[str, Any] = response.json()["tenant"]
    return tenant


def test_a_tenant_created_without_a_plan_gets_the_default_plan(operated: Platform) -> None:
    assert create_tenant(operated)["plan"] == "free_trial"  # the smallest plan, as shipped
    changed(operated, default_plan="professional")
    assert create_tenant(operated)["plan"] == "professional"
    assert create_tenant(operated, plan="starter")["plan"] == "starter"  # named: as named


def plan_quota(platform: Platform, key: str, plan_id: str) -> int | None:
    response = platform.client.get("/plans", headers=auth(key))
    assert response.status_code == 200, response.text
    [plan] = [p for p in response.json() if p["id"] == plan_id]
    quota: int | None = plan["scan_quota"]
    return quota


def test_a_quota_override_is_enforced_and_shown_everywhere(operated: Platform) -> None:
    tenant = operated.tenant("starter")
    link_sample_snapshot(operated, tenant)
    scan(operated, tenant)
    assert plan_quota(operated, tenant.owner_key, "starter") == 25

    changed(operated, plan_quotas={"starter": 1})
    me = operated.client.get("/tenant/me", headers=tenant.headers).json()
    assert (me["scan_count"], me["scan_limit"]) == (1, 1)
    assert plan_quota(operated, tenant.owner_key, "starter") == 1
    assert plan_quota(operated, tenant.owner_key, "professional") == 100  # not overridden
    refused = operated.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Scan quota exceeded for plan 'starter' (1/1 used this month)"
    )

    changed(operated, plan_quotas={"starter": None})  # unlimited
    assert operated.client.get("/tenant/me", headers=tenant.headers).json()["scan_limit"] is None
    assert plan_quota(operated, tenant.owner_key, "starter") is None
    scan(operated, tenant)


def test_lowered_rate_limits_apply_to_the_next_request(operated: Platform) -> None:
    tenant = operated.tenant()
    key = operated.key(tenant, [Scope.TENANT_READ])
    assert operated.client.get("/tenant/me", headers=auth(key)).headers["X-RateLimit-Limit"] == (
        "100000"
    )
    clear_of_a_window_edge()  # the refusals are counted in one window
    changed(operated, rate_limit="2/minute")
    statuses = [operated.client.get("/tenant/me", headers=auth(key)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]

    changed(operated, rate_limit=None, tenant_rate_limit="3/minute")
    keys = [operated.key(tenant, [Scope.TENANT_READ]) for _ in range(2)]
    responses = [operated.client.get("/tenant/me", headers=auth(keys[i % 2])) for i in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "3"

    changed(operated, tenant_rate_limit=None)
    assert operated.client.get("/tenant/me", headers=auth(keys[0])).status_code == 200


def test_narratives_switched_off_give_the_deterministic_text(
    settings_factory: Callable[..., Settings],
) -> None:
    with chat_server() as server, narrated_platform(settings_factory, server) as platform:
        tenant = platform.tenant("enterprise")
        assert shown(platform)["runtime"]["narratives_enabled"]["value"] is True
        assert all("LLM: " in text for text in narratives(iac_scan(platform, tenant)))

        changed(platform, narratives_enabled=False)
        asked = len(server.requests)
        texts = narratives(iac_scan(platform, tenant))
        assert all("LLM:" not in text for text in texts)
        assert len(server.requests) == asked  # the model is not asked at all

        changed(platform, narratives_enabled=True)
        assert all("LLM: " in text for text in narratives(iac_scan(platform, tenant)))


def test_narratives_cannot_be_switched_on_without_a_model(operated: Platform) -> None:
    refused = change(operated, narratives_enabled=True)
    assert refused.status_code == 422
    assert "TUTELA_LLM_BASE_URL" in refused.json()["detail"][0]["msg"]
    changed(operated, narratives_enabled=False)  # off is always allowed


def test_the_sender_is_the_from_of_the_next_email(operated: Platform) -> None:
    tenant = operated.tenant()
    invite = {"email": "first@bank.example.com", "role": "member"}
    assert operated.client.post("/tenant/users", headers=tenant.headers, json=invite).is_success
    changed(operated, email_from="Compliance Desk <desk@bank.example.com>")
    invite = {"email": "second@bank.example.com", "role": "member"}
    assert operated.client.post("/tenant/users", headers=tenant.headers, json=invite).is_success
    senders = {str(mail["To"]): str(mail["From"]) for mail in outbox(operated)}
    assert senders == {
        "first@bank.example.com": "Tutela <tutela@localhost>",
        "second@bank.example.com": "Compliance Desk <desk@bank.example.com>",
    }
