"""Shared steps of the CMK API tests: tenants with a service principal, CMK on, the outbox."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.platform import Platform, TenantCtx
from tests.server.encryption.fake_vault import CLIENT_ID, CLIENT_SECRET, TENANT_ID, VAULT_URL
from tests.server.notify.mail import body, parse
from tutela.server.encryption.router import router
from tutela.server.idempotency.openapi import document_idempotency
from tutela.server.openapi import api_routes, document_routes


def with_encryption_routes(platform: Platform) -> Platform:
    """The platform's app with /tenant/encryption*: a no-op once app.py includes the router."""
    if not any(path.startswith("/tenant/encryption") for path, _ in api_routes(platform.app)):
        document_routes(router.routes)
        document_idempotency(router.routes)
        platform.app.include_router(router)
    return platform


def with_principal(platform: Platform, plan: str = "professional") -> TenantCtx:
    """A tenant of ``plan`` whose stored service principal is the fake vault's."""
    tenant = platform.tenant(plan)
    stored = platform.client.put(
        "/tenant/credentials",
        headers=tenant.headers,
        json={"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert stored.status_code == 200, stored.text
    return tenant


def enable(
    platform: Platform, tenant: TenantCtx, *, secret: str | None = None, key: str | None = None
) -> Any:
    payload: dict[str, str] = {"key_vault_url": VAULT_URL}
    if key is not None:
        payload["key_vault_key_name"] = key
    else:
        payload["key_vault_secret_name"] = secret or "tutela-key"
    return platform.client.post("/tenant/encryption/cmk", headers=tenant.headers, json=payload)


def cmk_tenant(platform: Platform, **material: str) -> TenantCtx:
    """A Professional tenant on CMK with the fake vault's secret (or ``key=``)."""
    tenant = with_principal(platform)
    response = enable(platform, tenant, **material)
    assert response.status_code == 200, response.text
    return tenant


def status(platform: Platform, tenant: TenantCtx, extended: bool = False) -> dict[str, Any]:
    path = "/tenant/encryption/status" if extended else "/tenant/encryption"
    response = platform.client.get(path, headers=tenant.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def outbox(platform: Platform) -> list[EmailMessage]:
    folder = Path(platform.settings.resolved_outbox_dir)
    if not folder.exists():
        return []
    return [parse(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]


def mails_to(platform: Platform, address: str) -> list[tuple[str, str]]:
    """(subject, text) of every email sent to ``address``, oldest first."""
    return [(str(m["Subject"]), body(m, "plain")) for m in outbox(platform) if m["To"] == address]


def owner_email(platform: Platform, tenant: TenantCtx) -> str:
    from tutela.server.tenants.models import Tenant

    with platform.db() as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        return row.owner_email
