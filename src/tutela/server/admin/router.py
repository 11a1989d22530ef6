"""HTTP for platform operators, mounted at /admin with its own OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from tutela.server.admin import service
from tutela.server.admin.schemas import (
    AuditEventOut,
    PlanChange,
    RoleChange,
    TenantAdminOut,
    TenantCreate,
    TenantCreated,
    UserCreate,
    UserCreated,
    UserOut,
)
from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import utcnow
from tutela.server.keys.schemas import ApiKeyCreated
from tutela.server.keys.service import IssuedKey
from tutela.server.openapi import error_responses
from tutela.server.pagination import CursorParam, LimitParam, Page
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.tenants.models import Tenant

router = APIRouter(tags=["admin"])

AdminReader = Annotated[Caller, Depends(Authorize(Scope.ADMIN_READ))]
AdminWriter = Annotated[Caller, Depends(Authorize(Scope.ADMIN_WRITE))]


def _tenant_out(tenant: Tenant) -> TenantAdminOut:
    return TenantAdminOut(
        id=tenant.id,
        name=tenant.name,
        plan=tenant.plan,
        status=tenant.status,
        owner_email=tenant.owner_email,
        is_demo=tenant.is_demo,
        azure_subscription_ids=[s.subscription_id for s in tenant.subscriptions],
        azure_credentials_set=tenant.azure_credentials is not None,
        created_at=tenant.created_at,
    )


def _created(issued: IssuedKey) -> ApiKeyCreated:
    return ApiKeyCreated.issued(issued.key, issued.secret, utcnow())


@router.post("/tenants", status_code=201, summary="Create a tenant and its owner (key shown once)")
def create_tenant(
    body: TenantCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: AdminWriter,
    response: Response,
) -> TenantCreated:
    created = service.create_tenant(
        session,
        runtime.key_policy(),
        runtime.catalog,
        actor=caller.actor,
        owner_email=str(body.owner_email),
        plan=runtime.live.current().values.default_plan if body.plan is None else body.plan,
        name=body.name,
    )
    response.headers["Location"] = f"/admin/tenants/{created.tenant.id}"
    return TenantCreated(
        tenant=_tenant_out(created.tenant),
        owner=UserOut.model_validate(created.owner),
        owner_key=_created(created.owner_key),
    )


@router.get("/tenants", summary="List tenants, newest first")
def list_tenants(
    session: SessionDep,
    caller: AdminReader,
    status: Annotated[Literal["active", "suspended", "deleting"] | None, Query()] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[TenantAdminOut]:
    tenants, next_cursor = service.list_tenants(session, status=status, cursor=cursor, limit=limit)
    return Page(items=[_tenant_out(t) for t in tenants], next_cursor=next_cursor)


@router.get("/tenants/{tenant_id}", summary="Show a tenant")
def get_tenant(tenant_id: str, session: SessionDep, caller: AdminReader) -> TenantAdminOut:
    return _tenant_out(service.get_tenant(session, tenant_id))


@router.put("/tenants/{tenant_id}/plan", summary="Change a tenant's plan")
def change_plan(
    tenant_id: str, body: PlanChange, session: SessionDep, runtime: RuntimeDep, caller: AdminWriter
) -> TenantAdminOut:
    tenant = service.change_plan(
        session,
        runtime.auth_cache,
        runtime.catalog,
        actor=caller.actor,
        tenant_id=tenant_id,
        plan=body.plan,
    )
    return _tenant_out(tenant)


@router.post(
    "/tenants/{tenant_id}/suspend",
    summary="Suspend a tenant: its keys get 403",
    responses=error_responses(409),
)
def suspend_tenant(
    tenant_id: str, session: SessionDep, runtime: RuntimeDep, caller: AdminWriter
) -> TenantAdminOut:
    tenant = service.set_status(
        session, runtime.auth_cache, actor=caller.actor, tenant_id=tenant_id, status="suspended"
    )
    return _tenant_out(tenant)


@router.post(
    "/tenants/{tenant_id}/reactivate",
    summary="Reactivate a suspended tenant",
    responses=error_responses(409),
)
def reactivate_tenant(
    tenant_id: str, session: SessionDep, runtime: RuntimeDep, caller: AdminWriter
) -> TenantAdminOut:
    tenant = service.set_status(
        session, runtime.auth_cache, actor=caller.actor, tenant_id=tenant_id, status="active"
    )
    return _tenant_out(tenant)


@router.get("/tenants/{tenant_id}/users", summary="List a tenant's users")
def list_users(tenant_id: str, session: SessionDep, caller: AdminReader) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in service.list_users(session, tenant_id)]


@router.post(
    "/tenants/{tenant_id}/users",
    status_code=201,
    summary="Add a user (first key shown once)",
    responses=error_responses(409),
)
def add_user(
    tenant_id: str, body: UserCreate, session: SessionDep, runtime: RuntimeDep, caller: AdminWriter
) -> UserCreated:
    created = service.add_user(
        session,
        runtime.key_policy(),
        actor=caller.actor,
        tenant_id=tenant_id,
        email=str(body.email),
        role=body.role,
    )
    return UserCreated(user=UserOut.model_validate(created.user), key=_created(created.key))


@router.put("/tenants/{tenant_id}/users/{user_id}/role", summary="Change a user's role")
def change_role(
    tenant_id: str,
    user_id: str,
    body: RoleChange,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: AdminWriter,
) -> UserOut:
    user = service.change_role(
        session,
        runtime.auth_cache,
        actor=caller.actor,
        tenant_id=tenant_id,
        user_id=user_id,
        role=body.role,
    )
    return UserOut.model_validate(user)


@router.get("/audit-events", summary="Query the audit log, newest first")
def list_audit_events(
    session: SessionDep,
    caller: AdminReader,
    tenant_id: str | None = None,
    action: str | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[AuditEventOut]:
    events, next_cursor = service.list_audit_events(
        session, tenant_id=tenant_id, action=action, cursor=cursor, limit=limit
    )
    return Page(items=[AuditEventOut.model_validate(e) for e in events], next_cursor=next_cursor)
