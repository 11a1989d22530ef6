"""API key use cases: issue, list, rename, revoke. The secret exists only in issue's result.

A key never acts on a key that holds more than itself: renaming, revoking or reading the
scopes of a key that can use a scope the calling key lacks is refused (403 for the first two;
lists and reads show such a key without its scopes). Owners and admins see and revoke the keys of
every member of their tenant through the same rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tutela.server.audit import service as audit
from tutela.server.auth import epoch as auth_epoch
from tutela.server.auth import tokens
from tutela.server.auth.caller import Caller
from tutela.server.auth.scopes import Scope, scopes_for_role, sort_scopes
from tutela.server.auth.service import AuthCache
from tutela.server.db import after_commit, utcnow
from tutela.server.errors import Conflict, Forbidden, InvalidInput, NotFound
from tutela.server.keys.models import ApiKey
from tutela.server.keys.repository import ApiKeyRepository
from tutela.server.tenants import service as tenants
from tutela.server.tenants.models import User


@dataclass(frozen=True)
class KeyPolicy:
    pepper: bytes
    default_days: int
    max_days: int
    max_live_keys: int  # per user: unrevoked and unexpired


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


class KeyNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("API key not found")


class TooManyKeys(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This user already holds {limit} live API keys, the most allowed "
            "(TUTELA_MAX_KEYS_PER_USER): revoke one first"
        )


class KeyRevoked(Conflict):
    def __init__(self) -> None:
        super().__init__("This API key is revoked: it keeps its name for the audit trail")


class KeyOutranksCaller(Forbidden):
    def __init__(self) -> None:
        # The missing scopes are not named: they are what the caller may not read.
        super().__init__(
            "This API key holds scopes the calling key lacks; only a key holding them may "
            "rename or revoke it"
        )


def outranks(key: ApiKey, owner_role: str, caller: Caller) -> bool:
    """Whether ``key`` can use now a scope that the calling key cannot.

    What a key can use is its scopes within its owner's current role (as for the caller), so
    the keys of a demoted user, and a key compared with itself, never outrank the caller.
    """
    try:
        role_scopes = scopes_for_role(owner_role)
    except ValueError:  # an owner not found: nothing is shown of what the key holds
        return True
    usable = frozenset(key.scopes) & {scope.value for scope in role_scopes}
    return not usable <= {scope.value for scope in caller.scopes}


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
    repository = ApiKeyRepository(session)
    # Each key has its own rate-limit budget: without a cap, keys multiply a user's budget.
    repository.lock_owner(owner)
    if repository.count_live(owner.id, now) >= policy.max_live_keys:
        raise TooManyKeys(policy.max_live_keys)
    secret = tokens.generate_key()
    key = repository.add(
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


def _within_reach(key: ApiKey, owner_role: str, caller: Caller) -> ApiKey:
    if outranks(key, owner_role, caller):
        raise KeyOutranksCaller()
    return key


def rename_key(session: Session, caller: Caller, key_id: str, name: str) -> ApiKey:
    key = _within_reach(_owned(session, caller, key_id), caller.role, caller)
    if key.revoked_at is not None:
        raise KeyRevoked()
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


def revoke(
    session: Session,
    cache: AuthCache,
    key: ApiKey,
    *,
    actor: str,
    details: dict[str, object] | None = None,
) -> ApiKey:
    """Mark a key revoked (the row stays for the audit trail).

    Effective on the next request in every API process: the auth epoch moves with it.
    """
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="key.revoked",
            tenant_id=key.tenant_id,
            target=f"key:{key.id}",
            details={"name": key.name, "prefix": key.prefix, **(details or {})},
        )
        auth_epoch.bump(session)
        key_id = key.id
        after_commit(session, lambda: cache.invalidate_key(key_id))
    return key


def revoke_key(session: Session, cache: AuthCache, caller: Caller, key_id: str) -> ApiKey:
    key = _within_reach(_owned(session, caller, key_id), caller.role, caller)
    return revoke(session, cache, key, actor=caller.actor)


# --- the tenant's keys, for its owner and admins -----------------------------------------------


@dataclass(frozen=True)
class MemberKey:
    key: ApiKey
    owner_email: str
    owner_role: str
    outranks_caller: bool  # then listed without its scopes


def list_tenant_keys(
    session: Session, caller: Caller, *, cursor: str | None, limit: int
) -> tuple[list[MemberKey], str | None]:
    """Every key of every user of the caller's tenant, newest first."""
    tenant_id = caller.require_tenant()
    repository = ApiKeyRepository(session)
    keys, next_cursor = repository.page_in_tenant(tenant_id, cursor=cursor, limit=limit)
    owners = repository.owners(tenant_id, {key.user_id for key in keys})
    members = []
    for key in keys:
        # ("", "") only if the user went between the two reads (keys cascade with users).
        email, role = owners.get(key.user_id, ("", ""))
        members.append(MemberKey(key, email, role, outranks(key, role, caller)))
    return members, next_cursor


def revoke_tenant_key(session: Session, cache: AuthCache, caller: Caller, key_id: str) -> ApiKey:
    """Revoke any key of the caller's tenant within the caller's reach; another tenant's is 404."""
    tenant_id = caller.require_tenant()
    repository = ApiKeyRepository(session)
    key = repository.get_in_tenant(tenant_id, key_id)
    if key is None:
        raise KeyNotFound()
    [(_, role)] = repository.owners(tenant_id, {key.user_id}).values()
    _within_reach(key, role, caller)
    return revoke(session, cache, key, actor=caller.actor, details={"owner_user_id": key.user_id})
