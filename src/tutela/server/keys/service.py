"""API key use cases: issue, list, rename, revoke. The secret exists only in issue's result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tutela.server.audit import service as audit
from tutela.server.auth import tokens
from tutela.server.auth.caller import Caller
from tutela.server.auth.scopes import Scope, scopes_for_role, sort_scopes
from tutela.server.auth.service import AuthCache
from tutela.server.db import after_commit, utcnow
from tutela.server.errors import InvalidInput, NotFound
from tutela.server.keys.models import ApiKey
from tutela.server.keys.repository import ApiKeyRepository
from tutela.server.tenants import service as tenants
from tutela.server.tenants.models import User


@dataclass(frozen=True)
class KeyPolicy:
    pepper: bytes
    default_days: int
    max_days: int


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


class KeyNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("API key not found")


def _expiry(policy: KeyPolicy, expires_in_days: int | None, now: dt.datetime) -> dt.datetime:
    days = policy.default_days if expires_in_days is None else expires_in_days
    if not 1 <= days <= policy.max_days:
        raise InvalidInput(
            ("body", "expires_in_days"),
            f"expires_in_days must be between 1 and {policy.max_days}",
        )
    return now + dt.timedelta(days=days)


def issue_key(
    session: Session,
    policy: KeyPolicy,
    *,
    owner: User,
    name: str,
    scopes: Iterable[Scope],
    granter_scopes: frozenset[Scope],
    actor: str,
    expires_in_days: int | None = None,
) -> IssuedKey:
    """Create a key for ``owner``; its scopes must lie within what the granter holds now."""
    requested = frozenset(scopes)
    excess = requested - (granter_scopes & scopes_for_role(owner.role))
    if excess:
        raise InvalidInput(
            ("body", "scopes"),
            f"Cannot grant scopes the caller does not hold: {', '.join(sort_scopes(excess))}",
        )
    if not requested:
        raise InvalidInput(("body", "scopes"), "At least one scope is required")
    now = utcnow()
    secret = tokens.generate_key()
    key = ApiKeyRepository(session).add(
        ApiKey(
            user_id=owner.id,
            tenant_id=owner.tenant_id,
            name=name,
            scopes=sort_scopes(requested),
            prefix=tokens.display_prefix(secret),
            key_hash=tokens.hash_key(policy.pepper, secret),
            created_at=now,
            expires_at=_expiry(policy, expires_in_days, now),
        )
    )
    audit.record(
        session,
        actor=actor,
        action="key.created",
        tenant_id=owner.tenant_id,
        target=f"key:{key.id}",
        details={
            "name": name,
            "prefix": key.prefix,
            "owner": owner.email,
            "scopes": key.scopes,
            "expires_at": key.expires_at.isoformat(),
        },
    )
    return IssuedKey(key, secret)


def create_key(
    session: Session,
    policy: KeyPolicy,
    caller: Caller,
    *,
    name: str,
    scopes: Iterable[Scope],
    expires_in_days: int | None,
) -> IssuedKey:
    """A new key for the calling key's owner, within the calling key's effective scopes."""
    return issue_key(
        session,
        policy,
        owner=tenants.caller_user(session, caller),
        name=name,
        scopes=scopes,
        granter_scopes=caller.scopes,
        actor=caller.actor,
        expires_in_days=expires_in_days,
    )


def list_keys(
    session: Session, caller: Caller, *, cursor: str | None, limit: int
) -> tuple[list[ApiKey], str | None]:
    return ApiKeyRepository(session).page_owned(
        caller.tenant_id, caller.user_id, cursor=cursor, limit=limit
    )


def _owned(session: Session, caller: Caller, key_id: str) -> ApiKey:
    key = ApiKeyRepository(session).get_owned(caller.tenant_id, caller.user_id, key_id)
    if key is None:
        raise KeyNotFound()
    return key


def get_key(session: Session, caller: Caller, key_id: str) -> ApiKey:
    return _owned(session, caller, key_id)


def rename_key(session: Session, caller: Caller, key_id: str, name: str) -> ApiKey:
    key = _owned(session, caller, key_id)
    old = key.name
    key.name = name
    audit.record(
        session,
        actor=caller.actor,
        action="key.renamed",
        tenant_id=caller.tenant_id,
        target=f"key:{key.id}",
        details={"from": old, "to": name, "prefix": key.prefix},
    )
    return key


def revoke(session: Session, cache: AuthCache, key: ApiKey, *, actor: str) -> ApiKey:
    """Mark a key revoked (the row stays for the audit trail); effective on the next request."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="key.revoked",
            tenant_id=key.tenant_id,
            target=f"key:{key.id}",
            details={"name": key.name, "prefix": key.prefix},
        )
        key_id = key.id
        after_commit(session, lambda: cache.invalidate_key(key_id))
    return key


def revoke_key(session: Session, cache: AuthCache, caller: Caller, key_id: str) -> ApiKey:
    return revoke(session, cache, _owned(session, caller, key_id), actor=caller.actor)
