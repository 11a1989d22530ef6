"""The SDK's risk-exception calls, sync and async, against a real server: request, approve by
another person, scan with the acceptance, change, revoke; the errors each refusal raises."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import httpx
import pytest

from tests.sdk.conftest import LiveServer, Tenant
from tests.server.exceptions.helpers import REGISTRY
from tests.server.scans.estates import DEV, sample_records
from tutela import AsyncSession
from tutela.sdk import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RiskException,
    ValidationError,
)

FRAMEWORKS = ["iso42001", "sr11_7", "eu_ai_act"]


def admin_key(server: LiveServer, tenant: Tenant) -> str:
    """A key of a new admin of the tenant, added through the admin API."""
    response = httpx.post(
        f"{server.url}/admin/tenants/{tenant.id}/users",
        json={"email": f"admin-{tenant.id[:8]}@example.com", "role": "admin"},
        headers={"X-API-Key": server.operator_key},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]["key"]
    return key


def in_days(days: int) -> dt.date:
    return dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)


def anonymous_pull(report: object) -> list[str]:
    findings = getattr(report, "findings", [])
    return sorted({f.resource for f in findings if f.check_id == "ACR-ANON-PULL"})


def test_request_approve_scan_change_and_revoke(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as owner, server.session(admin_key(server, tenant)) as admin:
        owner.tenant.set_subscriptions([DEV])
        owner.snapshots.put(DEV, sample_records(DEV))
        assert anonymous_pull(owner.scans.dry_run(FRAMEWORKS)) == [REGISTRY]

        exception = owner.exceptions.request(
            "ACR-ANON-PULL",
            "/subscriptions/*/resourceGroups/rg-ml-dev-weu/*",
            reason="Build cache of public images",
            expires=in_days(30),
            ticket="CHG-7",
        )
        assert isinstance(exception, RiskException)
        assert (exception.status, exception.active, exception.ticket) == ("pending", False, "CHG-7")
        with pytest.raises(PermissionDeniedError, match="Four-eyes rule"):
            owner.exceptions.approve(exception.id)

        approved = admin.exceptions.approve(exception.id)
        assert (approved.status, approved.active) == ("approved", True)
        report = owner.scans.dry_run(FRAMEWORKS)
        assert anonymous_pull(report) == []
        [entry] = report.raw["accepted"]
        assert entry["acceptance"]["id"] == exception.id
        assert entry["acceptance"]["approver"] == approved.approved_by
        [typed] = report.accepted  # the same entry, typed
        assert (typed.check_id, typed.resource_id) == ("ACR-ANON-PULL", REGISTRY)
        assert (typed.acceptance.id, typed.acceptance.expires) == (exception.id, in_days(30))
        assert report.checks_accepted == 1
        with pytest.raises(ConflictError):
            admin.exceptions.approve(exception.id)

        changed = admin.exceptions.update(exception.id, expires=in_days(10), clear_ticket=True)
        assert (changed.status, changed.ticket, changed.expires) == ("pending", None, in_days(10))
        assert anonymous_pull(owner.scans.dry_run(FRAMEWORKS)) == [REGISTRY]
        assert [e.id for e in owner.exceptions.list(status="pending")] == [exception.id]
        assert list(owner.exceptions.list(status="approved")) == []
        assert [e.id for e in owner.exceptions.list(expiring_before=in_days(11))] == [exception.id]
        # The low-level verbs: update is a PATCH here too, and the changer becomes the requester.
        status, data = owner.connection.update(
            "exceptions", f"/{exception.id}", {"ticket": "RAW-1"}
        )
        assert (status, data["ticket"], data["status"]) == (200, "RAW-1", "pending")
        status, data = owner.connection.create("exceptions", f"/{exception.id}/approve", None)
        assert status == 403
        status, data = admin.connection.create("exceptions", f"/{exception.id}/approve", None)
        assert (status, data["status"]) == (200, "approved")
        assert owner.exceptions.get(exception.id).approved_by == data["approved_by"]

        revoked = admin.exceptions.revoke(exception.id)
        assert (revoked.status, revoked.active) == ("revoked", False)
        with pytest.raises(ConflictError):
            owner.exceptions.update(exception.id, reason="again")
        with pytest.raises(ValidationError) as unknown:
            owner.exceptions.request("NO-SUCH", REGISTRY, reason="r", expires=in_days(3))
        assert unknown.value.errors[0]["loc"] == ["body", "check_id"]
        with pytest.raises(ValidationError):
            owner.exceptions.request("ACR-ANON-PULL", REGISTRY, reason="r", expires=in_days(0))

    other = new_tenant("enterprise")
    with server.session(other.key) as stranger, pytest.raises(NotFoundError):
        stranger.exceptions.get(exception.id)


def test_the_async_session_has_the_same_calls(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    approver = admin_key(server, tenant)

    async def scenario() -> None:
        async with (
            AsyncSession(server.url, tenant.key) as owner,
            AsyncSession(server.url, approver) as admin,
        ):
            exception = await owner.exceptions.request(
                "ACR-ANON-PULL", REGISTRY, reason="async", expires=in_days(5)
            )
            assert (await admin.exceptions.approve(exception.id)).active is True
            assert (await owner.exceptions.get(exception.id)).status == "approved"
            listed = [e.id async for e in owner.exceptions.list(check_id="ACR-ANON-PULL")]
            assert listed == [exception.id]
            changed = await owner.exceptions.update(exception.id, reason="async, changed")
            assert changed.status == "pending"
            assert (await admin.exceptions.revoke(exception.id)).status == "revoked"

    asyncio.run(scenario())
