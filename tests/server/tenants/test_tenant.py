"""The caller's tenant: profile, linked subscriptions, Azure credentials."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import select

from tests.platform import Platform, TenantCtx, auth
from tutela.server.audit.models import AuditEvent
from tutela.server.crypto import DecryptionError
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.service import open_credentials

SECRET = "Sp-s3cret~VALUE_that-must.never_leak"
CREDENTIALS = {
    "tenant_id": "8d2bf1a4-4c1e-4f0e-9d6c-1f2e3a4b5c6d",
    "client_id": "0b6c2f4e-7a1d-4e8b-9c3f-5d6e7f8a9b0c",
    "client_secret": SECRET,
}


def subs(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_tenant_me_has_the_seeds_fields(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    body = platform.client.get("/tenant/me", headers=tenant.headers).json()
    assert body["tenant_id"] == tenant.id
    assert body["plan_id"] == "professional"
    assert body["status"] == "active"
    assert body["purchaser_email"].startswith("owner")
    assert (body["scan_count"], body["scan_limit"]) == (0, 100)
    assert body["azure_subscription_ids"] == []
    assert body["governance_enabled"] is True
    assert body["governance_cadence"] == "biweekly"
    assert body["report_history_days"] == 90
    assert body["azure_credentials_set"] is False


def test_each_tenant_sees_only_itself(platform: Platform) -> None:
    a, b = platform.tenant(), platform.tenant()
    platform.client.put(
        "/tenant/subscriptions", headers=a.headers, json={"subscription_ids": subs(2)}
    )
    seen_by_b = platform.client.get("/tenant/me", headers=b.headers).json()
    assert seen_by_b["tenant_id"] == b.id
    assert seen_by_b["azure_subscription_ids"] == []


def test_subscriptions_are_uuids_deduplicated_in_order(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    first, second = subs(2)
    response = platform.client.put(
        "/tenant/subscriptions",
        headers=tenant.headers,
        json={"subscription_ids": [first, second.upper(), first]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["azure_subscription_ids"] == [first, second]
    me = platform.client.get("/tenant/me", headers=tenant.headers).json()
    assert me["azure_subscription_ids"] == [first, second]


@pytest.mark.parametrize("bad", ["sub-id-1", "", 42, None])
def test_subscriptions_must_be_uuids(platform: Platform, bad: object) -> None:
    tenant = platform.tenant()
    response = platform.client.put(
        "/tenant/subscriptions", headers=tenant.headers, json={"subscription_ids": [bad]}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "subscription_ids"]


@pytest.mark.parametrize(
    ("plan", "limit"), [("free_trial", 1), ("starter", 3), ("professional", 15)]
)
def test_plan_limits_linked_subscriptions(platform: Platform, plan: str, limit: int) -> None:
    tenant = platform.tenant(plan)
    ok = platform.client.put(
        "/tenant/subscriptions", headers=tenant.headers, json={"subscription_ids": subs(limit)}
    )
    assert ok.status_code == 200
    over = platform.client.put(
        "/tenant/subscriptions", headers=tenant.headers, json={"subscription_ids": subs(limit + 1)}
    )
    assert over.status_code == 403
    assert f"at most {limit}" in over.json()["detail"]
    assert plan in over.json()["detail"]
    kept = platform.client.get("/tenant/me", headers=tenant.headers).json()
    assert len(kept["azure_subscription_ids"]) == limit  # the refused change wrote nothing


def test_enterprise_is_unlimited(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    response = platform.client.put(
        "/tenant/subscriptions", headers=tenant.headers, json={"subscription_ids": subs(40)}
    )
    assert response.status_code == 200
    assert len(response.json()["azure_subscription_ids"]) == 40


def test_subscription_change_is_audited(platform: Platform) -> None:
    tenant = platform.tenant()
    new = subs(1)
    platform.client.put(
        "/tenant/subscriptions", headers=tenant.headers, json={"subscription_ids": new}
    )
    with platform.db() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.tenant_id == tenant.id, AuditEvent.action == "subscriptions.changed"
            )
        ).one()
    assert event.details == {"before": [], "after": new}
    assert "owner" in event.actor
    assert "tut_" in event.actor
    assert tenant.owner_key not in event.actor


def store_credentials(platform: Platform, tenant: TenantCtx) -> None:
    response = platform.client.put("/tenant/credentials", headers=tenant.headers, json=CREDENTIALS)
    assert response.status_code == 200, response.text
    assert response.json()["azure_credentials_set"] is True
    assert SECRET not in response.text


def test_credentials_are_encrypted_and_never_returned(platform: Platform) -> None:
    tenant = platform.tenant()
    store_credentials(platform, tenant)
    me = platform.client.get("/tenant/me", headers=tenant.headers)
    assert me.json()["azure_credentials_set"] is True
    assert SECRET not in me.text
    with platform.db() as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        assert row.azure_credentials is not None
        assert SECRET.encode() not in row.azure_credentials
        opened = open_credentials(row, platform.runtime.keys.credentials_key)
    assert opened is not None
    assert opened.client_secret == SECRET
    assert opened.client_id == CREDENTIALS["client_id"]
    assert SECRET not in repr(opened)


def test_credentials_moved_to_another_tenant_do_not_open(platform: Platform) -> None:
    a, b = platform.tenant(), platform.tenant()
    store_credentials(platform, a)
    with platform.db() as session:
        row_a, row_b = session.get(Tenant, a.id), session.get(Tenant, b.id)
        assert row_a is not None
        assert row_b is not None
        row_b.azure_credentials = row_a.azure_credentials
        with pytest.raises(DecryptionError):
            open_credentials(row_b, platform.runtime.keys.credentials_key)


def test_credentials_never_reach_any_log_or_the_audit(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = platform.tenant()
    with caplog.at_level(logging.DEBUG):
        store_credentials(platform, tenant)
        bad = {**CREDENTIALS, "tenant_id": "not-a-uuid"}
        rejected = platform.client.put("/tenant/credentials", headers=tenant.headers, json=bad)
        wrong_type = {**CREDENTIALS, "client_secret": [SECRET]}
        rejected_too = platform.client.put(
            "/tenant/credentials", headers=tenant.headers, json=wrong_type
        )
        extra = {**CREDENTIALS, "note": SECRET}
        rejected_extra = platform.client.put(
            "/tenant/credentials", headers=tenant.headers, json=extra
        )
    assert caplog.records, "expected DEBUG logs to be captured"
    assert SECRET not in caplog.text
    for response in (rejected, rejected_too, rejected_extra):
        assert response.status_code == 422
        assert SECRET not in response.text
    with platform.db() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.tenant_id == tenant.id)).all()
    assert "credentials.set" in {e.action for e in events}
    assert all(SECRET not in str(e.details) + e.actor for e in events)


def test_credentials_body_is_validated(platform: Platform) -> None:
    tenant = platform.tenant()
    missing = {k: v for k, v in CREDENTIALS.items() if k != "client_secret"}
    assert (
        platform.client.put("/tenant/credentials", headers=tenant.headers, json=missing).status_code
        == 422
    )
    empty = {**CREDENTIALS, "client_secret": ""}
    assert (
        platform.client.put("/tenant/credentials", headers=tenant.headers, json=empty).status_code
        == 422
    )


@pytest.mark.parametrize("secret", ["x", "s3cret", "a" * 31])
def test_a_client_secret_too_short_to_be_azures_is_refused(platform: Platform, secret: str) -> None:
    """Azure's secrets are 40 characters; a short one is guessable and cannot be redacted."""
    tenant = platform.tenant()
    response = platform.client.put(
        "/tenant/credentials", headers=tenant.headers, json={**CREDENTIALS, "client_secret": secret}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "client_secret"]
    assert "must be at least 32 characters" in error["msg"]
    assert secret not in response.text
    assert (
        platform.client.get("/tenant/me", headers=tenant.headers).json()["azure_credentials_set"]
        is False
    )
    at_the_minimum = {**CREDENTIALS, "client_secret": "b" * 32}
    stored = platform.client.put("/tenant/credentials", headers=tenant.headers, json=at_the_minimum)
    assert stored.status_code == 200


def test_member_cannot_change_the_tenant(platform: Platform) -> None:
    tenant = platform.tenant()
    _, member = platform.user(tenant, role="member")
    response = platform.client.put("/tenant/credentials", headers=auth(member), json=CREDENTIALS)
    assert response.status_code == 403
    assert "tenant:write" in response.json()["detail"]
