"""Rotating the platform key, and counting what each key seals (operators' CLI).

A rotation makes a new version of the platform key current, re-wraps every ``pmk`` data key
under it, then retires the old version (its stored material erased). Only the 32-byte data
keys change: no document body is decrypted or re-encrypted. Each batch commits on its own, so
an interrupted rotation loses nothing and the next run resumes it (it starts no new version
while an old one is retiring). The old version keeps opening its rows until the last one is
re-wrapped: it is retired only when no row names it.

A document is sealed under the current version inside the transaction that stores it, which
the version's share lock orders before the switch (``platform_keys``). An answer kept for an
``Idempotency-Key`` is sealed just before its own short write, so the old version is retired
no sooner than ``grace_seconds`` after the switch, after a last sweep.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session, load_only

from tutela.server.crypto import KEY_BYTES, DecryptionError
from tutela.server.db import transaction, utcnow
from tutela.server.encryption.models import PlatformKey
from tutela.server.encryption.platform_keys import (
    CURRENT,
    RETIRED,
    RETIRING,
    PlatformKeyRing,
    current,
    key_id,
    key_ref,
)
from tutela.server.idempotency.answers import bound_to
from tutela.server.idempotency.models import IdempotencyRecord
from tutela.server.reports.envelope import DocumentUnreadable, context
from tutela.server.reports.models import Report, Snapshot

if TYPE_CHECKING:
    from tutela.server.runtime import Runtime

PMK = "pmk"
CMK = "cmk"

# (table, rows re-wrapped so far, rows to re-wrap in it)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SealedTable:
    """A table of sealed documents: its rows' order, and what each one's key is bound to."""

    name: str  # as the operator reads it
    model: Any
    order: tuple[Any, ...]  # the primary key's columns
    bound: Callable[[Any], bytes]
    columns: tuple[Any, ...]  # what re-wrapping reads (never the body)


TABLES: tuple[SealedTable, ...] = (
    SealedTable(
        "reports",
        Report,
        (Report.id,),
        lambda row: context("report", row.tenant_id, row.report_id),
        (Report.id, Report.tenant_id, Report.report_id, Report.key_ref, Report.wrapped_key),
    ),
    SealedTable(
        "snapshots",
        Snapshot,
        (Snapshot.tenant_id, Snapshot.subscription_id),
        lambda row: context("snapshot", row.tenant_id, row.subscription_id),
        (Snapshot.tenant_id, Snapshot.subscription_id, Snapshot.key_ref, Snapshot.wrapped_key),
    ),
    SealedTable(
        "kept answers",
        IdempotencyRecord,
        (IdempotencyRecord.id,),
        lambda row: bound_to(row.owner, row.id, row.key),
        (
            IdempotencyRecord.id,
            IdempotencyRecord.owner,
            IdempotencyRecord.key,
            IdempotencyRecord.key_ref,
            IdempotencyRecord.wrapped_key,
        ),
    ),
)


@dataclass
class Rotation:
    """What one run of ``rotate`` did."""

    key_id: str  # the current version when it ended
    started: bool  # False: it resumed a rotation an earlier run had begun
    rewrapped: dict[str, int] = field(default_factory=dict)  # by table
    # The primary keys of rows their own version did not open, by table: they keep it.
    unreadable: dict[str, list[str]] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # still retiring: some row still names them


def rotate(
    runtime: Runtime,
    *,
    batch_size: int = 500,
    grace_seconds: float = 30.0,
    progress: Progress | None = None,
    now: Callable[[], dt.datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> Rotation:
    """Rotate the platform key, or resume the rotation an interrupted run left."""
    ring = runtime.platform_keys
    with transaction(runtime.sessions) as session:
        target, started, retiring = _begin(session, ring, now())
    rotation = Rotation(target, started)
    _sweep(runtime, target, batch_size, progress, rotation)
    for old in retiring:
        wait = (old.replaced_at or now()) + dt.timedelta(seconds=grace_seconds) - now()
        if wait.total_seconds() > 0:
            sleep(wait.total_seconds())
    if retiring:  # whatever was sealed under an old version during the grace
        _sweep(runtime, target, batch_size, progress, rotation)
    for old in retiring:
        with transaction(runtime.sessions) as session:
            if _retire(session, old.id, now()):
                rotation.retired.append(old.id)
            else:
                rotation.kept.append(old.id)
    return rotation


@dataclass(frozen=True)
class _Version:
    id: str
    replaced_at: dt.datetime | None


def _begin(
    session: Session, ring: PlatformKeyRing, now: dt.datetime
) -> tuple[str, bool, list[_Version]]:
    """(the version to re-wrap to, whether it is new, the versions it replaces)."""
    newest = current(session, lock="update")
    retiring = session.scalars(select(PlatformKey).where(PlatformKey.state == RETIRING)).all()
    if retiring:
        return newest.id, False, [_Version(row.id, row.replaced_at) for row in retiring]
    new_id = secrets.token_hex(6)
    newest.state, newest.replaced_at = RETIRING, now
    session.add(
        PlatformKey(
            id=new_id,
            state=CURRENT,
            sealed_key=ring.seal_material(new_id, secrets.token_bytes(KEY_BYTES)),
            created_at=now,
        )
    )
    return new_id, True, [_Version(newest.id, now)]


def _sweep(
    runtime: Runtime,
    target: str,
    batch_size: int,
    progress: Progress | None,
    rotation: Rotation,
) -> None:
    """Re-wrap every ``pmk`` data key not under ``target``, a committed batch at a time."""
    ring = runtime.platform_keys
    target_ref = key_ref(target)
    for table in TABLES:
        outside = _pmk_outside(table, target_ref)
        with transaction(runtime.sessions, readonly=True) as session:
            total = session.scalar(select(func.count()).select_from(table.model).where(outside))
        done = rotation.rewrapped.setdefault(table.name, 0)
        total = (total or 0) + done
        last: tuple[Any, ...] | None = None
        while True:
            with transaction(runtime.sessions) as session:
                query = select(table.model).where(outside)
                if last is not None:
                    query = query.where(tuple_(*table.order) > tuple_(*last))
                rows = session.scalars(
                    query.options(load_only(*table.columns))
                    .order_by(*table.order)
                    .limit(batch_size)
                    .with_for_update()
                ).all()
                if not rows:
                    break
                wrapper = ring.wrapper(session, target)
                for row in rows:
                    bound = table.bound(row)
                    try:
                        data_key = ring.opening(session, row.key_ref).unwrap(row.wrapped_key, bound)
                    except (DocumentUnreadable, DecryptionError):
                        failed = rotation.unreadable.setdefault(table.name, [])
                        if _primary(table, row) not in failed:  # (the last sweep meets it again)
                            failed.append(_primary(table, row))
                        continue
                    row.wrapped_key, row.key_ref = wrapper.wrap(data_key, bound), target_ref
                    done += 1
                last = tuple(getattr(rows[-1], column.key) for column in table.order)
            rotation.rewrapped[table.name] = done
            if progress is not None:
                progress(table.name, done, total)


def _primary(table: SealedTable, row: Any) -> str:
    return "/".join(str(getattr(row, column.key)) for column in table.order)


def _pmk_outside(table: SealedTable, ref: str | None) -> ColumnElement[bool]:
    """The table's ``pmk`` rows under any other version than ``ref``'s."""
    model = table.model
    other = (
        model.key_ref.is_not(None)
        if ref is None
        else or_(model.key_ref.is_(None), model.key_ref != ref)
    )
    return and_(model.key_mode == PMK, other)


def _naming(table: SealedTable, version: str) -> ColumnElement[bool]:
    model = table.model
    ref = key_ref(version)
    named = model.key_ref.is_(None) if ref is None else model.key_ref == ref
    return and_(model.key_mode == PMK, named)


def _retire(session: Session, version: str, now: dt.datetime) -> bool:
    """Retire a version no row names any more (its material erased); False while one does."""
    row = session.scalars(
        select(PlatformKey).where(PlatformKey.id == version).with_for_update()
    ).one()
    for table in TABLES:
        if session.scalar(
            select(func.count()).select_from(table.model).where(_naming(table, version))
        ):
            return False
    row.state, row.sealed_key, row.retired_at = RETIRED, None, now
    return True


@dataclass(frozen=True)
class KeyCount:
    """How many rows of each table one key seals."""

    mode: str  # pmk | cmk
    key: str  # a platform key version's id, or a versioned Key Vault id
    state: str  # a platform key version's state; "customer" for a tenant's Key Vault key
    rows: dict[str, int]

    @property
    def readable(self) -> bool:
        return self.state != RETIRED and self.state != "unknown"


@dataclass(frozen=True)
class Census:
    keys: list[KeyCount]
    versions: list[PlatformKey]  # the platform key's versions, oldest first


def census(session: Session) -> Census:
    """Rows per (mode, key) in every sealed table, and the platform key's versions."""
    versions = list(session.scalars(select(PlatformKey).order_by(PlatformKey.created_at)).all())
    states = {version.id: version.state for version in versions}
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for table in TABLES:
        model = table.model
        grouped = session.execute(
            select(model.key_mode, model.key_ref, func.count())
            .where(model.key_mode.is_not(None))
            .group_by(model.key_mode, model.key_ref)
        ).all()
        for mode, ref, count in grouped:
            key = key_id(ref) if mode == PMK else str(ref)
            counts.setdefault((mode, key), {})[table.name] = count
    for version in versions:  # a version sealing nothing yet is listed too
        counts.setdefault((PMK, version.id), {})
    return Census(
        [
            KeyCount(
                mode,
                key,
                states.get(key, "unknown") if mode == PMK else "customer",
                {table.name: rows.get(table.name, 0) for table in TABLES},
            )
            for (mode, key), rows in sorted(counts.items(), key=_listing_order(versions))
        ],
        versions,
    )


def _listing_order(
    versions: list[PlatformKey],
) -> Callable[[tuple[tuple[str, str], dict[str, int]]], tuple[int, int, int, str]]:
    """The platform key's versions first, current, retiring, then retired newest first; then
    the customers' keys."""
    states = {version.id: version.state for version in versions}
    age = {version.id: position for position, version in enumerate(versions)}
    order = {CURRENT: 0, RETIRING: 1, RETIRED: 2}

    def rank(item: tuple[tuple[str, str], dict[str, int]]) -> tuple[int, int, int, str]:
        (mode, key), _ = item
        if mode != PMK:
            return (1, 0, 0, key)
        return (0, order.get(states.get(key, ""), 3), -age.get(key, -1), key)

    return rank


def unopenable(runtime: Runtime, batch_size: int = 500) -> dict[str, list[str]]:
    """Every ``pmk`` row whose data key its own version does not unwrap, by table (its primary
    key): reading each data key, never a body. CMK rows are opened by their tenant's vault and
    are not read here."""
    ring = runtime.platform_keys
    found: dict[str, list[str]] = {}
    for table in TABLES:
        last: tuple[Any, ...] | None = None
        while True:
            with transaction(runtime.sessions, readonly=True) as session:
                query = select(table.model).where(table.model.key_mode == PMK)
                if last is not None:
                    query = query.where(tuple_(*table.order) > tuple_(*last))
                rows = session.scalars(
                    query.options(load_only(*table.columns))
                    .order_by(*table.order)
                    .limit(batch_size)
                ).all()
                for row in rows:
                    try:
                        ring.opening(session, row.key_ref).unwrap(row.wrapped_key, table.bound(row))
                    except (DocumentUnreadable, DecryptionError):
                        found.setdefault(table.name, []).append(_primary(table, row))
            if not rows:
                break
            last = tuple(getattr(rows[-1], column.key) for column in table.order)
    return found
