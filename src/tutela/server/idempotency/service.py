"""Idempotency use cases: claim a key before the work, keep the answer, replay it.

The rules, as the docs state them:

* A key belongs to the caller's tenant (to the user for callers without one, i.e. operators)
  and lives ``TUTELA_IDEMPOTENCY_RETENTION_HOURS`` from its first use; after that it is free.
* The first request with a key inserts its record (running, under a lease) in a transaction of
  its own before any work: the unique (owner, key) constraint lets exactly one writer win,
  whichever API process it runs in.
* A repeat with the same request (method, path, query, body) from the same API key replays
  the first answer; any other request with that key is a 422. A repeat while the first runs
  is a 409 with ``Retry-After``.
* Only successful answers (2xx) are kept. An error answer (4xx, 5xx) or a crash releases
  the key at once, so that a retry runs the request again (an error answer changed nothing).
  A holder that died without releasing (process killed) stops renewing its lease, and the
  first retry after the lease lapses takes the key over.
* Bodies are sealed with the envelope of stored reports, bound to the owner, the record and the
  key: a replayed API key secret is shown again, within the window, to that API key only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tutela.server.auth.caller import Caller
from tutela.server.db import new_id, transaction
from tutela.server.encryption.keyring import CustomerKeyUnavailable, Keyring
from tutela.server.idempotency.answers import AnswerRecorder, bound_to, open_answer, seal_answer
from tutela.server.idempotency.models import DONE, IdempotencyRecord
from tutela.server.idempotency.repository import IdempotencyRepository
from tutela.server.reports.envelope import KeyWrapper
from tutela.server.runtime import Runtime
from tutela.server.tenants.models import Tenant

log = logging.getLogger("tutela.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
MAX_KEY_LENGTH = 255
IN_PROGRESS_RETRY_SECONDS = 1
_TAKEOVER_ROUNDS = 3


class InvalidIdempotencyKey(ValueError):
    """The header is not 1 to 255 printable ASCII characters."""


def valid_key(values: Iterable[str]) -> str:
    """The one Idempotency-Key sent; InvalidIdempotencyKey naming the rule it breaks."""
    keys = list(values)
    if len(keys) != 1:
        raise InvalidIdempotencyKey("Send one Idempotency-Key header, not several")
    key = keys[0]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("\x21" <= c <= "\x7e" for c in key):
        raise InvalidIdempotencyKey(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
            "without spaces (a UUID is a good choice)"
        )
    return key


def owner_of(caller: Caller) -> str:
    return caller.tenant_id if caller.tenant_id is not None else f"user:{caller.user_id}"


def fingerprint(method: str, path: str, query: bytes, body_sha256: bytes) -> str:
    """What makes two requests the same one: method, path, query string and body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query, body_sha256):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


# --- what a claim decides ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """This request holds the key: run it, then complete or release the record."""

    record_id: str
    attempt: str


@dataclass(frozen=True)
class Replay:
    status_code: int
    headers: dict[str, str]
    compressed_body: bytes  # zlib, or in the headers' content-encoding: ``answers.replayed``


@dataclass(frozen=True)
class InProgress:
    retry_after: int


@dataclass(frozen=True)
class Mismatch:
    """The key was used for another request, or by another API key."""


@dataclass(frozen=True)
class ScopesNarrowed:
    """The same API key, whose scopes no longer cover those of the first request."""


Decision = Claimed | Replay | InProgress | Mismatch | ScopesNarrowed


@dataclass(frozen=True)
class Request:
    """A keyed POST, as a claim sees it."""

    key: str
    fingerprint: str
    caller: Caller

    @property
    def owner(self) -> str:
        return owner_of(self.caller)


def idempotency_service(runtime: Runtime) -> IdempotencyService:
    settings = runtime.settings
    return IdempotencyService(
        IdempotencyRepository(runtime.sessions),
        runtime.keyring,
        retention=dt.timedelta(hours=settings.idempotency_retention_hours),
        lease=dt.timedelta(seconds=settings.idempotency_lease_seconds),
    )


class IdempotencyService:
    def __init__(
        self,
        repository: IdempotencyRepository,
        keys: Keyring,
        *,
        retention: dt.timedelta,
        lease: dt.timedelta,
    ) -> None:
        self.repository = repository
        self.keys = keys
        self.retention = retention
        self.lease = lease

    def claim(self, request: Request, now: dt.datetime) -> Decision:
        """Hold the key for this request, or say what the earlier one decided."""
        for _ in range(_TAKEOVER_ROUNDS):
            attempt = new_id()
            record = IdempotencyRecord(
                owner=request.owner,
                key=request.key,
                fingerprint=request.fingerprint,
                api_key_id=request.caller.key_id,
                scopes=sorted(request.caller.scopes),
                attempt=attempt,
                lease_expires_at=now + self.lease,
                created_at=now,
            )
            if self.repository.insert(record):
                return Claimed(record.id, attempt)
            decision = self._existing(request, now)
            if isinstance(decision, IdempotencyRecord):
                return self._replay(decision)
            if decision is not None:
                return decision
            # The record was purged or released between our insert and our read: try again.
        return InProgress(IN_PROGRESS_RETRY_SECONDS)

    def _existing(self, request: Request, now: dt.datetime) -> Decision | IdempotencyRecord | None:
        """The decision, or the done record to replay (opened after this transaction: under a
        CMK that asks the vault, which is not done while holding the write lock)."""
        with self.repository.transaction() as session:
            record = self.repository.locked(session, request.owner, request.key)
            if record is None:
                return None
            if record.created_at <= now - self.retention:
                # Past the window: the key is free again, as if the record had been purged.
                session.delete(record)
                return None
            if (
                record.fingerprint != request.fingerprint
                or record.api_key_id != request.caller.key_id
            ):
                return Mismatch()
            if record.state == DONE:
                if not set(record.scopes) <= set(request.caller.scopes):
                    return ScopesNarrowed()
                session.expunge(record)
                return record
            lease_end = record.lease_expires_at
            if lease_end is not None and lease_end > now:
                return InProgress(IN_PROGRESS_RETRY_SECONDS)
            # The holder stopped renewing its lease (its process died): take the key over.
            record.attempt = new_id()
            record.lease_expires_at = now + self.lease
            return Claimed(record.id, record.attempt)

    def _replay(self, record: IdempotencyRecord) -> Replay:
        assert record.status_code is not None
        assert record.wrapped_key is not None
        assert record.body is not None
        bound = bound_to(record.owner, record.id, record.key)
        with transaction(self.repository.sessions, readonly=True) as session:
            # The owner of a tenant's record is the tenant (``owner_of``); an operator's is PMK.
            wrapper = self.keys.opening(session, record.owner, record.key_mode, record.key_ref)
            compressed = open_answer(wrapper, record.wrapped_key, record.body, bound)
        return Replay(record.status_code, dict(record.headers or {}), compressed)

    def complete(self, claimed: Claimed, request: Request, answer: AnswerRecorder) -> str | None:
        """Keep a successful answer for replays. Why it was not kept, or None: ``taken_over``
        when a retry had taken the key over; ``key_unavailable`` when the tenant's CMK could not
        seal it (the key is released: a retry runs again)."""
        assert answer.status is not None
        bound = bound_to(request.owner, claimed.record_id, request.key)
        try:
            with transaction(self.repository.sessions, readonly=True) as session:
                wrapper = self._sealing(session, request)
                wrapped_key, sealed = seal_answer(wrapper, answer.compressed(), bound)
        except CustomerKeyUnavailable:
            self.release(claimed)
            return "key_unavailable"
        kept = self.repository.complete(
            claimed.record_id,
            claimed.attempt,
            status_code=answer.status,
            headers={**answer.headers, "content-length": str(answer.size)},
            key_mode=wrapper.mode,
            key_ref=wrapper.key_ref,
            wrapped_key=wrapped_key,
            body=sealed,
        )
        return None if kept else "taken_over"

    def _sealing(self, session: Session, request: Request) -> KeyWrapper:
        """A tenant's answers are sealed as its reports are; an operator's under the PMK."""
        tenant_id = request.caller.tenant_id
        tenant = session.get(Tenant, tenant_id) if tenant_id is not None else None
        return self.keys.sealing(session, tenant)

    def release(self, claimed: Claimed) -> None:
        self.repository.release(claimed.record_id, claimed.attempt)

    def renew(self, claimed: Claimed, now: dt.datetime) -> bool:
        return self.repository.renew(claimed.record_id, claimed.attempt, now + self.lease)

    def purge(self, now: dt.datetime) -> int:
        return self.repository.purge(now - self.retention)
