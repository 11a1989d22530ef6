"""HTTP for the caller's tenant: /tenant/me, /tenant/subscriptions, /tenant/credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import utcnow
from tutela.server.governance.service import view_of as governance_view
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.tenants import service
from tutela.server.tenants.schemas import (
    CredentialsStored,
    CredentialsUpdate,
    SubscriptionsUpdate,
    TenantMe,
)

router = APIRouter(prefix="/tenant", tags=["tenant"])

TenantReader = Annotated[Caller, Depends(Authorize(Scope.TENANT_READ))]
TenantWriter = Annotated[Caller, Depends(Authorize(Scope.TENANT_WRITE))]


def tenant_me(session: Session, profile: service.TenantProfile, catalog: Catalog) -> TenantMe:
    tenant, plan = profile.tenant, profile.plan
    governance = governance_view(session, tenant, catalog, utcnow(), with_history=False)
    return TenantMe(
        tenant_id=tenant.id,
        name=tenant.name,
        purchaser_email=tenant.owner_email,
        plan_id=plan.id,
        status=tenant.status,
        scan_count=profile.scan_count,
        scan_limit=plan.scan_quota,
        subscription_limit=plan.max_subscriptions,
        azure_subscription_ids=[s.subscription_id for s in tenant.subscriptions],
        azure_credentials_set=tenant.azure_credentials is not None,
        governance_enabled=governance.automatic,
        governance_cadence=governance.cadence,
        report_history_days=plan.history_days,
    )


@router.get("/me", summary="Your tenant: plan, quota use, linked subscriptions, governance")
def get_tenant_me(session: SessionDep, runtime: RuntimeDep, caller: TenantReader) -> TenantMe:
    return tenant_me(session, service.profile(session, caller, runtime.catalog), runtime.catalog)


@router.put("/subscriptions", summary="Replace the linked Azure subscription ids")
def put_subscriptions(
    body: SubscriptionsUpdate, session: SessionDep, runtime: RuntimeDep, caller: TenantWriter
) -> TenantMe:
    profile = service.replace_subscriptions(session, caller, runtime.catalog, body.subscription_ids)
    return tenant_me(session, profile, runtime.catalog)


@router.put(
    "/credentials",
    summary="Store the Azure service principal (encrypted; never returned or logged)",
)
def put_credentials(
    body: CredentialsUpdate, session: SessionDep, runtime: RuntimeDep, caller: TenantWriter
) -> CredentialsStored:
    credentials = service.AzureCredentials(
        tenant_id=str(body.tenant_id),
        client_id=str(body.client_id),
        client_secret=body.client_secret.get_secret_value(),
    )
    tenant = service.set_credentials(session, caller, runtime.keys.credentials_key, credentials)
    assert tenant.azure_credentials_set_at is not None
    return CredentialsStored(set_at=tenant.azure_credentials_set_at)
