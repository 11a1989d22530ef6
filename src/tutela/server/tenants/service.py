"""Tenant use cases: the caller's profile, linked subscriptions and Azure credentials."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog, Plan
from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.crypto import seal, unseal
from tutela.server.db import utcnow
from tutela.server.errors import NotFound, PlanRestriction
from tutela.server.tenants.models import Tenant, User
from tutela.server.tenants.repository import TenantRepository, UserRepository


class TenantNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Tenant not found")


@dataclass(frozen=True)
class TenantProfile:
    tenant: Tenant
    plan: Plan
    scan_count: int


@dataclass(frozen=True)
class AzureCredentials:
    tenant_id: str
    client_id: str
    client_secret: str

    def __repr__(self) -> str:  # never print the secret, even by accident
        return f"AzureCredentials(tenant_id={self.tenant_id!r}, client_id={self.client_id!r})"


def usage_period(now: dt.datetime) -> str:
    """The quota period a moment falls in: its calendar month in UTC."""
    return now.astimezone(dt.UTC).strftime("%Y-%m")


def caller_tenant(session: Session, caller: Caller) -> Tenant:
    tenant = TenantRepository(session).get(caller.tenant_id) if caller.tenant_id else None
    if tenant is None:
        raise TenantNotFound()
    return tenant


def caller_user(session: Session, caller: Caller) -> User:
    users = UserRepository(session)
    if caller.tenant_id is None:
        user = users.get_operator(caller.user_id)
    else:
        user = users.get(caller.tenant_id, caller.user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def profile(session: Session, caller: Caller, catalog: Catalog) -> TenantProfile:
    tenant = caller_tenant(session, caller)
    return profile_of(session, tenant, catalog)


def profile_of(session: Session, tenant: Tenant, catalog: Catalog) -> TenantProfile:
    count = TenantRepository(session).scan_count(tenant.id, usage_period(utcnow()))
    return TenantProfile(tenant, catalog.plan(tenant.plan), count)


def replace_subscriptions(
    session: Session, caller: Caller, catalog: Catalog, subscription_ids: list[uuid.UUID]
) -> TenantProfile:
    tenant = caller_tenant(session, caller)
    plan = catalog.plan(tenant.plan)
    wanted = list(dict.fromkeys(str(s).lower() for s in subscription_ids))
    if plan.max_subscriptions is not None and len(wanted) > plan.max_subscriptions:
        raise PlanRestriction(
            f"Subscription limit exceeded for plan '{plan.id}': {len(wanted)} given, "
            f"at most {plan.max_subscriptions} allowed"
        )
    before = [s.subscription_id for s in tenant.subscriptions]
    TenantRepository(session).replace_subscriptions(tenant, wanted)
    audit.record(
        session,
        actor=caller.actor,
        action="subscriptions.changed",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={"before": before, "after": wanted},
    )
    return profile_of(session, tenant, catalog)


def _credentials_context(tenant_id: str) -> bytes:
    # Binds the ciphertext to its tenant: copied onto another tenant's row it will not open.
    return f"tutela/azure-credentials/{tenant_id}".encode()


def set_credentials(
    session: Session, caller: Caller, key: bytes, credentials: AzureCredentials
) -> Tenant:
    tenant = caller_tenant(session, caller)
    plaintext = json.dumps(
        {
            "tenant_id": credentials.tenant_id,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
    ).encode()
    tenant.azure_credentials = seal(key, plaintext, _credentials_context(tenant.id))
    tenant.azure_credentials_set_at = utcnow()
    audit.record(
        session,
        actor=caller.actor,
        action="credentials.set",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={"azure_tenant_id": credentials.tenant_id, "client_id": credentials.client_id},
    )
    return tenant


def open_credentials(tenant: Tenant, key: bytes) -> AzureCredentials | None:
    """The tenant's service principal, decrypted for a scan; None when none is stored."""
    if tenant.azure_credentials is None:
        return None
    data = json.loads(unseal(key, tenant.azure_credentials, _credentials_context(tenant.id)))
    return AzureCredentials(data["tenant_id"], data["client_id"], data["client_secret"])
