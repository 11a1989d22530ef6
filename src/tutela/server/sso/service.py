"""Single-sign-on settings: a tenant's OpenID provider, checked against its discovery document
before it is stored, its client secret sealed; and whether the tenant's people must use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.config import Settings
from tutela.server.crypto import seal, unseal
from tutela.server.db import utcnow
from tutela.server.errors import InvalidInput
from tutela.server.sso import oidc
from tutela.server.sso.models import TenantSso
from tutela.server.tenants.service import caller_tenant

CALLBACK_PATH = "/auth/sso/callback"


@dataclass(frozen=True)
class ProviderSettings:
    issuer: str
    client_id: str
    client_secret: str
    required: bool
    email_claim: str

    def __repr__(self) -> str:  # never print the secret, even by accident
        return f"ProviderSettings(issuer={self.issuer!r}, client_id={self.client_id!r})"


def redirect_uri(settings: Settings) -> str:
    """Where the provider sends people back: to be registered with it as is."""
    return settings.resolved_public_url + CALLBACK_PATH


def _secret_context(tenant_id: str) -> bytes:
    # Binds the ciphertext to its tenant: copied onto another tenant's row it will not open.
    return f"tutela/sso-client-secret/{tenant_id}".encode()


def provider_of(session: Session, tenant_id: str) -> TenantSso | None:
    return session.get(TenantSso, tenant_id)


def client_of(row: TenantSso, key: bytes, settings: Settings) -> oidc.Client:
    """This platform as the tenant's provider knows it, with the secret unsealed for one call."""
    secret = unseal(key, row.client_secret, _secret_context(row.tenant_id)).decode()
    return oidc.Client(row.client_id, secret, redirect_uri(settings))


def required_for(session: Session, tenant_id: str | None) -> bool:
    """Whether the tenant refuses password sign-in (and password resets) for its people."""
    if tenant_id is None:  # operators have no tenant, and no provider
        return False
    required = session.scalar(select(TenantSso.required).where(TenantSso.tenant_id == tenant_id))
    return bool(required)


def view(session: Session, caller: Caller, settings: Settings) -> dict[str, Any]:
    tenant = caller_tenant(session, caller)
    row = provider_of(session, tenant.id)
    return {
        "configured": row is not None,
        "issuer": row.issuer if row else None,
        "client_id": row.client_id if row else None,
        "required": row.required if row else False,
        "email_claim": row.email_claim if row else None,
        "updated_at": row.updated_at if row else None,
        "redirect_uri": redirect_uri(settings),
    }


def configure(
    session: Session, caller: Caller, settings: Settings, key: bytes, wanted: ProviderSettings
) -> dict[str, Any]:
    """PUT /tenant/sso: 422 unless the issuer's discovery document can be read and names it.

    The provider is asked before the database is touched: no row is locked while it answers.
    """
    try:
        oidc.discover(wanted.issuer, internal=settings.sso_allow_internal_providers)
    except oidc.ProviderError as exc:
        raise InvalidInput(("body", "issuer"), f"The issuer {exc}") from None
    tenant = caller_tenant(session, caller)
    row = provider_of(session, tenant.id)
    if row is None:
        row = TenantSso(tenant_id=tenant.id)
        session.add(row)
    row.issuer, row.client_id = wanted.issuer, wanted.client_id
    row.client_secret = seal(key, wanted.client_secret.encode(), _secret_context(tenant.id))
    row.required, row.email_claim = wanted.required, wanted.email_claim
    row.updated_at, row.updated_by = utcnow(), caller.actor
    audit.record(
        session,
        actor=caller.actor,
        action="sso.configured",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={
            "issuer": wanted.issuer,
            "client_id": wanted.client_id,
            "required": wanted.required,
            "email_claim": wanted.email_claim,
        },
    )
    session.flush()
    return view(session, caller, settings)


def remove(session: Session, caller: Caller) -> None:
    """DELETE /tenant/sso: people sign in with their passwords again (reset when they have none)."""
    tenant = caller_tenant(session, caller)
    row = provider_of(session, tenant.id)
    if row is None:
        return
    session.delete(row)
    audit.record(
        session,
        actor=caller.actor,
        action="sso.removed",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={"issuer": row.issuer, "client_id": row.client_id},
    )
