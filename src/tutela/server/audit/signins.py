"""Sign-in events in the audit log: failed sign-ins, and a key's first use from a new address.

A failed sign-in (a malformed, unknown, expired or revoked key, or one of a suspended tenant)
is written as ``auth.failed`` with its source address, at most once per source per minute in
each API process: the failures after the first are counted in that entry's ``failures``
(brought up to date at most every ``COUNT_EVERY`` seconds, and when the next minute's entry is
written), so a flood of bad keys cannot fill the table. The key's tenant is named when the key
exists (expired, revoked, suspended).

The first request of a key from an address it was never used from is written as
``key.new_source`` (the addresses are kept in ``key_sources``), after the response is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import BackgroundTasks, Request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tutela.server.audit import service as audit
from tutela.server.audit.models import AuditEvent, KeySource
from tutela.server.auth.caller import Caller
from tutela.server.db import transaction, utcnow
from tutela.server.keys.models import ApiKey

log = logging.getLogger("tutela.audit")
SIGN_IN_FAILED = "auth.failed"
NEW_SOURCE = "key.new_source"
WINDOW = dt.timedelta(minutes=1)
COUNT_EVERY = dt.timedelta(seconds=5)
MAX_SOURCES = 10_000  # failing sources tracked at once; the oldest are forgotten first
MAX_KNOWN_USES = 100_000  # (key, address) pairs remembered to spare a database round trip


@dataclass
class _Window:
    started: dt.datetime
    event_id: str
    failures: int
    written_failures: int
    written_at: dt.datetime


class SignInAudit:
    """Per API process: the failure windows by source, and the key uses already recorded."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._failures_lock = threading.Lock()  # held while a failure entry is written
        self._known_lock = threading.Lock()
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()

    # --- failed sign-ins --------------------------------------------------------------------

    def failed(self, source: str, reason: str, key_hash: str | None) -> None:
        """Record a failed sign-in from ``source``: a new entry, or a count in this minute's."""
        try:
            self._count_failure(source, reason, key_hash)
        except SQLAlchemyError as exc:  # the refusal stands (401/403) whatever the audit does
            log.warning("sign_in_not_audited source=%s error=%s", source, type(exc).__name__)

    def _count_failure(self, source: str, reason: str, key_hash: str | None) -> None:
        now = self._clock()
        with self._failures_lock:
            window = self._windows.get(source)
            if window is not None and now - window.started < WINDOW:
                window.failures += 1
                if now - window.written_at >= COUNT_EVERY:
                    window.written_failures, window.written_at = window.failures, now
                    self._write_count(window.event_id, window.failures)
                return
            if window is not None and window.failures != window.written_failures:
                self._write_count(window.event_id, window.failures)  # close the last minute
            event_id = self._write_failure(source, reason, key_hash)
            self._windows[source] = _Window(now, event_id, 1, 1, now)
            self._windows.move_to_end(source)
            while len(self._windows) > MAX_SOURCES:
                self._windows.popitem(last=False)

    def _write_failure(self, source: str, reason: str, key_hash: str | None) -> str:
        with transaction(self._sessions) as session:
            key = None
            if key_hash is not None:
                key = session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()
            event = audit.record(
                session,
                actor=f"unauthenticated ({source})",
                action=SIGN_IN_FAILED,
                tenant_id=key.tenant_id if key else None,
                target=f"key:{key.id}" if key else None,
                details={
                    "source": source,
                    "reason": reason,
                    "key_prefix": key.prefix if key else None,
                    "failures": 1,
                    "window_seconds": int(WINDOW.total_seconds()),
                },
            )
            session.flush()
            return event.id

    def _write_count(self, event_id: str, failures: int) -> None:
        with transaction(self._sessions) as session:
            event = session.get(AuditEvent, event_id)
            if event is not None:
                session.execute(
                    update(AuditEvent)
                    .where(AuditEvent.id == event_id)
                    .values(details={**event.details, "failures": failures})
                )

    # --- key use from a new address ---------------------------------------------------------

    def seen(self, caller: Caller, source: str) -> bool:
        """Whether this key's use from ``source`` is already recorded (in this process)."""
        with self._known_lock:
            pair = (caller.key_id, source)
            if pair in self._known:
                self._known.move_to_end(pair)
                return True
            return False

    def record_use(self, caller: Caller, source: str) -> None:
        """Remember the address for the key; if it is new, audit it (run after the response)."""
        try:
            with transaction(self._sessions) as session:
                with session.begin_nested():
                    session.add(KeySource(key_id=caller.key_id, source=source))
                audit.record(
                    session,
                    actor=caller.actor,
                    action=NEW_SOURCE,
                    tenant_id=caller.tenant_id,
                    target=f"key:{caller.key_id}",
                    details={"source": source, "key_prefix": caller.key_prefix},
                )
        except IntegrityError:  # already known (another process, or a request just before)
            pass
        except SQLAlchemyError as exc:  # tried again on the key's next request from there
            log.warning("key_use_not_audited source=%s error=%s", source, type(exc).__name__)
            return
        with self._known_lock:
            self._known[(caller.key_id, source)] = None
            while len(self._known) > MAX_KNOWN_USES:
                self._known.popitem(last=False)


# --- from a request -----------------------------------------------------------------------------

_REASONS = (
    ("malformed", "malformed"),
    ("revoked", "revoked"),
    ("expired", "expired"),
    ("suspended", "tenant_suspended"),
    ("invalid", "unknown_key"),
)


def source_of(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For only behind its trusted
    proxies, ``--forwarded-allow-ips``)."""
    return (request.client.host if request.client else "unknown")[:64]


def failure_reason(refused: Exception) -> str:
    """A word for why a key was refused, from the error the verifier raised."""
    text = str(getattr(refused, "detail", refused)).lower()
    return next((reason for word, reason in _REASONS if word in text), "refused")


def note_use(
    sign_ins: SignInAudit, request: Request, background: BackgroundTasks, caller: Caller
) -> None:
    """After the response: the key's first use from this address is audited."""
    source = source_of(request)
    if not sign_ins.seen(caller, source):
        background.add_task(sign_ins.record_use, caller, source)
