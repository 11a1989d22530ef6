"""HTTP for API keys: /api-keys, /scopes, and the tenant's keys at /tenant/api-keys."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope, sort_scopes
from tutela.server.db import transaction, utcnow
from tutela.server.keys import service
from tutela.server.keys.models import ApiKey
from tutela.server.keys.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeyRevoked,
    ApiKeyUpdate,
    ScopeInfo,
    TenantApiKey,
    WhoAmI,
)
from tutela.server.pagination import CursorParam, LimitParam, Page
from tutela.server.runtime import Runtime, RuntimeDep, SessionDep
from tutela.server.schemas import ErrorOut

router = APIRouter(tags=["api-keys"])

AnyKey = Annotated[Caller, Depends(Authorize())]
KeysReader = Annotated[Caller, Depends(Authorize(Scope.KEYS_READ))]
KeysWriter = Annotated[Caller, Depends(Authorize(Scope.KEYS_WRITE))]
# tenant:write is held by owners and admins only: it makes the members' keys theirs to manage.
TenantKeysReader = Annotated[Caller, Depends(Authorize(Scope.TENANT_WRITE, Scope.KEYS_READ))]
TenantKeysWriter = Annotated[Caller, Depends(Authorize(Scope.TENANT_WRITE, Scope.KEYS_WRITE))]


def _locking_unit_of_work(runtime: Runtime) -> AbstractContextManager[Session]:
    """A transaction committed in the route's own thread, for writes that take a lock.

    Creating a key locks its owner's row and revoking one the auth epoch's row. Committed by
    the request's session, the lock would be held until the session's teardown gets a worker
    thread, while the threads it would get are the ones queued behind the lock: a burst of
    such requests (50 at once) stalled until the database gave up.
    """
    return transaction(runtime.sessions)


_TOO_MANY: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorOut,
        "description": "The user already holds TUTELA_MAX_KEYS_PER_USER live keys",
    }
}


@router.get("/api-keys", summary="List your API keys (never the secrets)")
def list_api_keys(
    session: SessionDep, caller: KeysReader, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[ApiKeyPublic]:
    keys, next_cursor = service.list_keys(session, caller, cursor=cursor, limit=limit)
    return Page(items=[_public(k, caller) for k in keys], next_cursor=next_cursor)


def _public(key: ApiKey, caller: Caller) -> ApiKeyPublic:
    return ApiKeyPublic.of(
        key, utcnow(), show_scopes=not service.outranks(key, caller.role, caller)
    )


@router.post(
    "/api-keys",
    status_code=201,
    summary="Create an API key (the secret is shown once)",
    description="At most `TUTELA_MAX_KEYS_PER_USER` live (unrevoked, unexpired) keys per user; "
    "one more is a 409.",
    responses=_TOO_MANY,
)
def create_api_key(
    body: ApiKeyCreate, runtime: RuntimeDep, caller: KeysWriter, response: Response
) -> ApiKeyCreated:
    with _locking_unit_of_work(runtime) as session:
        issued = service.create_key(
            session,
            runtime.key_policy(),
            caller,
            name=body.name,
            scopes=body.scopes,
            expires_in_days=body.expires_in_days,
        )
    response.headers["Location"] = f"/api-keys/{issued.key.id}"
    return ApiKeyCreated.issued(issued.key, issued.secret, utcnow())


@router.get("/api-keys/current", summary="Who am I: the calling key, its scopes, tenant and plan")
def current_api_key(caller: AnyKey) -> WhoAmI:
    return WhoAmI(
        key_id=caller.key_id,
        prefix=caller.key_prefix,
        scopes=sort_scopes(caller.scopes),
        expires_at=caller.key_expires_at,
        user_email=caller.user_email,
        role=caller.role,
        tenant_id=caller.tenant_id,
        plan=caller.plan,
    )


_OUTRANKED = (
    "A key that holds a scope the calling key lacks is shown without its scopes, and renaming "
    "or revoking it is a 403."
)


@router.get("/api-keys/{key_id}", summary="Show one of your API keys", description=_OUTRANKED)
def get_api_key(key_id: str, session: SessionDep, caller: KeysReader) -> ApiKeyPublic:
    return _public(service.get_key(session, caller, key_id), caller)


@router.patch(
    "/api-keys/{key_id}",
    summary="Rename one of your API keys",
    description=_OUTRANKED + " A revoked key keeps its name: renaming it is a 409.",
    responses={409: {"model": ErrorOut, "description": "The key is revoked"}},
)
def rename_api_key(
    key_id: str, body: ApiKeyUpdate, session: SessionDep, caller: KeysWriter
) -> ApiKeyPublic:
    return _public(service.rename_key(session, caller, key_id, body.name), caller)


@router.delete(
    "/api-keys/{key_id}",
    summary="Revoke one of your API keys, effective at once in every API process",
    description=_OUTRANKED,
)
def revoke_api_key(key_id: str, runtime: RuntimeDep, caller: KeysWriter) -> ApiKeyRevoked:
    with _locking_unit_of_work(runtime) as session:
        key = service.revoke_key(session, runtime.auth_cache, caller, key_id)
    return ApiKeyRevoked(revoked=key.id)


@router.get(
    "/tenant/api-keys",
    summary="Every API key of your tenant's users (owners and admins), newest first",
    description="Keys of other tenants never appear. " + _OUTRANKED.replace("renaming or ", ""),
)
def list_tenant_api_keys(
    session: SessionDep,
    caller: TenantKeysReader,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[TenantApiKey]:
    members, next_cursor = service.list_tenant_keys(session, caller, cursor=cursor, limit=limit)
    now = utcnow()
    items = [
        TenantApiKey.of_member(
            m.key, m.owner_email, m.owner_role, now, show_scopes=not m.outranks_caller
        )
        for m in members
    ]
    return Page(items=items, next_cursor=next_cursor)


@router.delete(
    "/tenant/api-keys/{key_id}",
    summary="Revoke any API key of your tenant's users (audit-logged), effective at once",
    description="Another tenant's key is a 404. A key that holds a scope the calling key lacks "
    "(an owner's key, for an admin) is a 403.",
)
def revoke_tenant_api_key(
    key_id: str, runtime: RuntimeDep, caller: TenantKeysWriter
) -> ApiKeyRevoked:
    with _locking_unit_of_work(runtime) as session:
        key = service.revoke_tenant_key(session, runtime.auth_cache, caller, key_id)
    return ApiKeyRevoked(revoked=key.id)


@router.get("/scopes", summary="The scopes you may grant to a new key")
def list_scopes(caller: AnyKey) -> list[ScopeInfo]:
    return [
        ScopeInfo(scope=s.value, description=s.description) for s in Scope if s in caller.scopes
    ]
