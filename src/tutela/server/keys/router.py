"""HTTP for API keys: /api-keys and /scopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope, sort_scopes
from tutela.server.db import utcnow
from tutela.server.keys import service
from tutela.server.keys.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeyRevoked,
    ApiKeyUpdate,
    ScopeInfo,
    WhoAmI,
)
from tutela.server.pagination import CursorParam, LimitParam, Page
from tutela.server.runtime import RuntimeDep, SessionDep

router = APIRouter(tags=["api-keys"])

AnyKey = Annotated[Caller, Depends(Authorize())]
KeysReader = Annotated[Caller, Depends(Authorize(Scope.KEYS_READ))]
KeysWriter = Annotated[Caller, Depends(Authorize(Scope.KEYS_WRITE))]


@router.get("/api-keys", summary="List your API keys (never the secrets)")
def list_api_keys(
    session: SessionDep, caller: KeysReader, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[ApiKeyPublic]:
    keys, next_cursor = service.list_keys(session, caller, cursor=cursor, limit=limit)
    now = utcnow()
    return Page(items=[ApiKeyPublic.of(k, now) for k in keys], next_cursor=next_cursor)


@router.post("/api-keys", status_code=201, summary="Create an API key (the secret is shown once)")
def create_api_key(
    body: ApiKeyCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: KeysWriter,
    response: Response,
) -> ApiKeyCreated:
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


@router.get("/api-keys/{key_id}", summary="Show one of your API keys")
def get_api_key(key_id: str, session: SessionDep, caller: KeysReader) -> ApiKeyPublic:
    return ApiKeyPublic.of(service.get_key(session, caller, key_id), utcnow())


@router.patch("/api-keys/{key_id}", summary="Rename one of your API keys")
def rename_api_key(
    key_id: str, body: ApiKeyUpdate, session: SessionDep, caller: KeysWriter
) -> ApiKeyPublic:
    return ApiKeyPublic.of(service.rename_key(session, caller, key_id, body.name), utcnow())


@router.delete("/api-keys/{key_id}", summary="Revoke one of your API keys, effective at once")
def revoke_api_key(
    key_id: str, session: SessionDep, runtime: RuntimeDep, caller: KeysWriter
) -> ApiKeyRevoked:
    key = service.revoke_key(session, runtime.auth_cache, caller, key_id)
    return ApiKeyRevoked(revoked=key.id)


@router.get("/scopes", summary="The scopes you may grant to a new key")
def list_scopes(caller: AnyKey) -> list[ScopeInfo]:
    return [
        ScopeInfo(scope=s.value, description=s.description) for s in Scope if s in caller.scopes
    ]
