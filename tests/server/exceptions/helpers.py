"""What the risk-exception tests share: a request body, the calls, the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from tests.platform import Platform, TenantCtx, auth
from tests.server.scans.estates import ANONYMOUS_REGISTRY, DEV
from tutela.server.audit.models import AuditEvent
from tutela.server.exceptions.models import RiskException

CHECK = "ACR-ANON-PULL"  # the sample's anonymous-pull registry fails it (critical)
REGISTRY = (
    f"/subscriptions/{DEV}/resourceGroups/rg-ml-dev-weu/providers"
    f"/Microsoft.ContainerRegistry/registries/{ANONYMOUS_REGISTRY}"
)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def in_days(days: int) -> str:
    return (today() + dt.timedelta(days=days)).isoformat()


def body(**changes: Any) -> dict[str, Any]:
    """A valid request: the sample's anonymous-pull registry, for 30 days."""
    return {
        "check_id": CHECK,
        "resource": REGISTRY,
        "reason": "Public base images only; pull-through cache replaces it in Q1",
        "ticket": "CHG-1042",
        "expires": in_days(30),
        **changes,
    }


def request(platform: Platform, key: str, **changes: Any) -> dict[str, Any]:
    """POST /exceptions that must succeed: the pending exception."""
    response = platform.client.post("/exceptions", headers=auth(key), json=body(**changes))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def approve(platform: Platform, key: str, exception_id: str) -> dict[str, Any]:
    response = platform.client.post(f"/exceptions/{exception_id}/approve", headers=auth(key))
    assert response.status_code == 200, response.text
    approved: dict[str, Any] = response.json()
    return approved


def accepted_by(platform: Platform, tenant: TenantCtx, approver_role: str = "admin") -> str:
    """An exception of the tenant's registry requested by a member, approved by another
    person of ``approver_role``; its id."""
    _, member = platform.user(tenant, "member")
    _, approver = platform.user(tenant, approver_role)
    exception_id: str = request(platform, member)["id"]
    approve(platform, approver, exception_id)
    return exception_id


def audit_trail(platform: Platform, exception_id: str) -> list[AuditEvent]:
    with platform.db() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target == f"exception:{exception_id}")
            .order_by(AuditEvent.created_at)
        )
        return list(events)


def set_expiry(platform: Platform, exception_id: str, expires: dt.date) -> None:
    """Move an exception's expiry date, as if the days had passed."""
    with platform.db() as session:
        row = session.get(RiskException, exception_id)
        assert row is not None
        row.expires = expires
