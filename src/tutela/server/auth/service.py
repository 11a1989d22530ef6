"""Key verification: shape and checksum, cached hash lookup, then the key's state.

The cache maps a key hash to a snapshot of the key, its owner and its tenant for
``key_cache_seconds``. Mutations that change what a key may do (revoke, suspend, plan or role
change) bump the auth epoch in their own transaction (see ``auth.epoch``); every request reads the
epoch first and uses only entries cached under that same epoch, so the change reaches every API
process sharing the database on its next request. The process that made the change also drops
the entries it concerns once its transaction commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tutela.server.auth import epoch as auth_epoch
from tutela.server.auth import tokens
from tutela.server.auth.caller import Caller
from tutela.server.auth.scopes import Scope, scopes_for_role
from tutela.server.db import transaction, utcnow
from tutela.server.errors import Forbidden, NotAuthenticated
from tutela.server.keys.models import ApiKey
from tutela.server.metrics import KEY_CACHE
from tutela.server.tenants.models import Tenant, User, refusal

log = logging.getLogger("tutela.auth")
_SCOPE_VALUES = frozenset(s.value for s in Scope)


@dataclass(frozen=True, slots=True)
class _KeyRecord:
    key_id: str
    prefix: str
    scopes: frozenset[str]
    expires_at: dt.datetime
    revoked: bool
    last_used_at: dt.datetime | None
    user_id: str
    email: str
    role: str
    tenant_id: str | None
    plan: str | None
    tenant_status: str | None


@dataclass(frozen=True, slots=True)
class _Entry:
    record: _KeyRecord
    stored_at: dt.datetime
    epoch: int  # the auth epoch read before the record was loaded


class AuthCache:
    """Process-local, short-lived cache of key records, valid only within one auth epoch."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._ttl = dt.timedelta(seconds=ttl_seconds)
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._ttl.total_seconds() > 0

    def get(self, key_hash: str, epoch: int) -> _KeyRecord | None:
        with self._lock:
            entry = self._entries.get(key_hash)
            if entry is None:
                return None
            # An entry of another epoch may predate a revocation made anywhere: never use it.
            if entry.epoch != epoch or self._clock() - entry.stored_at >= self._ttl:
                del self._entries[key_hash]
                return None
            return entry.record

    def put(self, key_hash: str, record: _KeyRecord, epoch: int) -> None:
        if self.enabled:
            with self._lock:
                self._entries[key_hash] = _Entry(record, self._clock(), epoch)

    def _drop(self, matches: Callable[[_KeyRecord], bool]) -> None:
        with self._lock:
            for key_hash in [h for h, e in self._entries.items() if matches(e.record)]:
                del self._entries[key_hash]

    def invalidate_key(self, key_id: str) -> None:
        self._drop(lambda r: r.key_id == key_id)

    def invalidate_user(self, user_id: str) -> None:
        self._drop(lambda r: r.user_id == user_id)

    def invalidate_tenant(self, tenant_id: str) -> None:
        self._drop(lambda r: r.tenant_id == tenant_id)


class KeyVerifier:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        pepper: bytes,
        cache: AuthCache,
        debounce_seconds: float,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._sessions = session_factory
        self._pepper = pepper
        self.cache = cache
        self._debounce = dt.timedelta(seconds=debounce_seconds)
        self._clock = clock
        self._last_touch: dict[str, dt.datetime] = {}
        self._touch_lock = threading.Lock()

    def hash(self, key: str) -> str:
        return tokens.hash_key(self._pepper, key)

    def verify(self, presented: str) -> Caller:
        """Steps 1-3 of the verification order; raises 401 or 403."""
        if not tokens.is_well_formed(presented):
            raise NotAuthenticated("Malformed API key")
        key_hash = self.hash(presented)
        # The epoch is read before the record, so a record cached under it is at least as new.
        epoch = self._epoch() if self.cache.enabled else 0
        record = self.cache.get(key_hash, epoch)
        KEY_CACHE.labels("miss" if record is None else "hit").inc()
        if record is None:
            record = self._load(key_hash)
            if record is None:
                raise NotAuthenticated("Invalid API key")
            self.cache.put(key_hash, record, epoch)
        if record.revoked:
            raise NotAuthenticated("API key has been revoked")
        if record.expires_at <= self._clock():
            raise NotAuthenticated("API key has expired")
        if record.tenant_status is not None and record.tenant_status != "active":
            raise Forbidden(refusal(record.tenant_status))
        granted = {Scope(s) for s in record.scopes if s in _SCOPE_VALUES}
        return Caller(
            key_id=record.key_id,
            key_prefix=record.prefix,
            key_expires_at=record.expires_at,
            user_id=record.user_id,
            user_email=record.email,
            role=record.role,
            tenant_id=record.tenant_id,
            plan=record.plan,
            scopes=frozenset(granted) & scopes_for_role(record.role),
        )

    def _epoch(self) -> int:
        with transaction(self._sessions, readonly=True) as session:
            return auth_epoch.current(session)

    def _load(self, key_hash: str) -> _KeyRecord | None:
        statement = (
            select(ApiKey, User, Tenant)
            .join(User, ApiKey.user_id == User.id)
            .outerjoin(Tenant, ApiKey.tenant_id == Tenant.id)
            .where(ApiKey.key_hash == key_hash)
        )
        with transaction(self._sessions, readonly=True) as session:
            row = session.execute(statement).one_or_none()
        if row is None:
            return None
        key, user, tenant = row
        return _KeyRecord(
            key_id=key.id,
            prefix=key.prefix,
            scopes=frozenset(key.scopes),
            expires_at=key.expires_at,
            revoked=key.revoked_at is not None,
            last_used_at=key.last_used_at,
            user_id=user.id,
            email=user.email,
            role=user.role,
            tenant_id=tenant.id if tenant else None,
            plan=tenant.plan if tenant else None,
            tenant_status=tenant.status if tenant else None,
        )

    def use_is_due(self, caller: Caller) -> bool:
        """Whether this use should be written: at most once per debounce window per key."""
        now = self._clock()
        with self._touch_lock:
            previous = self._last_touch.get(caller.key_id)
            if previous is not None and now - previous < self._debounce:
                return False
            self._last_touch[caller.key_id] = now
            return True

    def write_last_used(self, key_id: str) -> None:
        with transaction(self._sessions) as session:
            session.execute(
                update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=self._clock())
            )
