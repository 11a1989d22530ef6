"""Snapshot use cases: store a subscription's Resource Graph export, read it back for a scan.

An upload is read exactly as a scan will read it (``resources_from_arg``), must hold the records
of its own subscription only, and is sealed under a fresh data key bound to the tenant and the
subscription. Its resource count, size and upload time stay in clear. One snapshot per linked
subscription: a new upload replaces the old one. An export holding more resources than the
tenant's plan allows per scan is refused (413) before anything is stored: no scan could read it.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.loader import Plan
from tutela.scanner.estate import Resource
from tutela.scanner.sources import SourceError
from tutela.scanner.sources.arg import resources_from_arg
from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.db import utcnow
from tutela.server.errors import DomainError, InvalidInput, NotFound
from tutela.server.reports.envelope import (
    DocumentUnreadable,
    KeyWrapper,
    context,
    open_compressed,
    seal_document,
)
from tutela.server.reports.models import Snapshot
from tutela.server.reports.repository import SnapshotRepository
from tutela.server.scans.limits import check_resource_count
from tutela.server.snapshots.decoded import decoded_snapshots
from tutela.server.tenants.service import caller_tenant

if TYPE_CHECKING:
    from tutela.server.encryption.keyring import Keyring

_EXPECTED: Final = (
    "expected an Azure Resource Graph export as `az graph query -o json` prints it: a list of "
    'records or {"data": [...]}'
)
_NAMED_AT_MOST: Final = 3
_SUBSCRIPTION_ID: Final = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


class SubscriptionNotLinked(NotFound):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(
            f"Subscription {subscription_id} is not linked to this tenant "
            "(link it first with PUT /tenant/subscriptions)"
        )


class SnapshotNotFound(NotFound):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"No snapshot stored for subscription {subscription_id}")


class SnapshotUnreadable(DomainError):
    """A stored snapshot failed to open or to parse; it is reported, never returned."""

    status_code = 500


def _source(subscription_id: str) -> str:
    """How parser messages and resource origins name a snapshot."""
    return f"snapshot of subscription {subscription_id}"


def _context(tenant_id: str, subscription_id: str) -> bytes:
    return context("snapshot", tenant_id, subscription_id)


def _records(export: Any) -> list[Any]:
    """The records of an export ``resources_from_arg`` accepted (same keys, same order)."""
    if isinstance(export, list):
        return export
    records: list[Any] = export["data"] if "data" in export else export["value"]
    return records


def _subscription_of(record: dict[str, Any]) -> str | None:
    """A record's subscription, lower-cased: its column, else the one its id lives in."""
    declared = record.get("subscriptionId")
    if declared:
        return str(declared).lower()
    parts = str(record["id"]).split("/", 3)
    if len(parts) >= 3 and parts[0] == "" and parts[1].lower() == "subscriptions" and parts[2]:
        return parts[2].lower()
    return None


def _refuse_other_subscriptions(export: Any, subscription_id: str) -> None:
    others = Counter(
        owner
        for owner in map(_subscription_of, _records(export))
        if owner is not None and owner != subscription_id
    )
    if not others:
        return
    count = sum(others.values())
    # Only ids shaped like subscription ids are named: the rest is the caller's text, not echoed.
    guids = [owner for owner in others if _SUBSCRIPTION_ID.fullmatch(owner)][:_NAMED_AT_MOST]
    named = ", ".join([*guids, "…"] if len(others) > len(guids) else guids)
    raise InvalidInput(
        ("body",),
        f"The export holds {count} record{'s' if count != 1 else ''} of "
        f"{len(others)} other subscription{'s' if len(others) != 1 else ''} ({named}); a "
        f"snapshot of subscription {subscription_id} may hold only its own records and records "
        f"of no subscription: export it alone (az graph query --subscriptions {subscription_id})",
        "snapshot_other_subscription",
    )


def read_export(body: bytes, subscription_id: str) -> tuple[Any, list[Resource]]:
    """The parsed export and its resources, or a 422 naming what is wrong with it."""
    if not body.strip():
        raise InvalidInput(("body",), f"The body is empty; {_EXPECTED}", "snapshot_invalid")
    try:
        export = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            ("body",), f"The body is not valid JSON ({exc}); {_EXPECTED}", "json_invalid"
        ) from None
    try:
        resources = resources_from_arg(export, _source(subscription_id))
    except SourceError as exc:
        raise InvalidInput(
            ("body",), f"Not a usable Resource Graph export: {exc.problem}", "snapshot_invalid"
        ) from None
    _refuse_other_subscriptions(export, subscription_id)
    return export, resources


def save_export(
    session: Session,
    keys: KeyWrapper,
    *,
    tenant_id: str,
    subscription_id: str,
    body: bytes,
    actor: str,
    plan: Plan | None = None,
) -> Snapshot:
    """Validate an export and store it sealed as the subscription's snapshot, replacing any.

    With the tenant's ``plan``, an export over its resources per scan is refused (413).
    """
    subscription_id = subscription_id.lower()
    export, resources = read_export(body, subscription_id)
    held = sum(1 for resource in resources if not resource.implied)  # as a scan counts them
    if plan is not None:
        check_resource_count(plan, held, "the export")
    snapshots = SnapshotRepository(session, tenant_id)
    replaced = snapshots.get(subscription_id) is not None
    decoded_snapshots.forget(tenant_id, subscription_id)
    wrapped_key, sealed = seal_document(keys, export, _context(tenant_id, subscription_id))
    snapshot = snapshots.put(
        Snapshot(
            subscription_id=subscription_id,
            resources=held,
            size_bytes=len(body),
            uploaded_at=utcnow(),
            key_mode=keys.mode,
            key_ref=keys.key_ref,
            wrapped_key=wrapped_key,
            body=sealed,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="snapshot.uploaded",
        tenant_id=tenant_id,
        target=f"subscription:{subscription_id}",
        details={
            "subscription_id": subscription_id,
            "resources": snapshot.resources,
            "size_bytes": snapshot.size_bytes,
            "replaced": replaced,
        },
    )
    return snapshot


def upload_snapshot(
    session: Session,
    caller: Caller,
    keys: Keyring,
    subscription_id: str,
    body: bytes,
    catalog: Catalog,
) -> Snapshot:
    """The caller's upload for one of its tenant's linked subscriptions, within its plan,
    sealed under the tenant's key (503 while its CMK cannot be used)."""
    tenant = caller_tenant(session, caller)
    subscription_id = subscription_id.lower()
    if subscription_id not in {s.subscription_id for s in tenant.subscriptions}:
        raise SubscriptionNotLinked(subscription_id)
    return save_export(
        session,
        keys.sealing(session, tenant),
        tenant_id=tenant.id,
        subscription_id=subscription_id,
        body=body,
        actor=caller.actor,
        plan=catalog.plan(tenant.plan),
    )


def get_snapshot(session: Session, caller: Caller, subscription_id: str) -> Snapshot:
    tenant = caller_tenant(session, caller)
    subscription_id = subscription_id.lower()
    snapshot = SnapshotRepository(session, tenant.id).get(subscription_id)
    if snapshot is None:
        raise SnapshotNotFound(subscription_id)
    return snapshot


def delete_snapshot(session: Session, caller: Caller, subscription_id: str) -> None:
    snapshot = get_snapshot(session, caller, subscription_id)
    session.delete(snapshot)
    decoded_snapshots.forget(snapshot.tenant_id, snapshot.subscription_id)
    audit.record(
        session,
        actor=caller.actor,
        action="snapshot.deleted",
        tenant_id=snapshot.tenant_id,
        target=f"subscription:{snapshot.subscription_id}",
        details={"subscription_id": snapshot.subscription_id},
    )


def split_export(export: Any) -> dict[str, list[Any]]:
    """An export's records per subscription (first-seen order); records of none go with each."""
    records = _records(export)
    owners = [_subscription_of(record) for record in records]
    unscoped = [record for record, owner in zip(records, owners, strict=True) if owner is None]
    parts: dict[str, list[Any]] = {}
    for record, owner in zip(records, owners, strict=True):
        if owner is not None:
            parts.setdefault(owner, []).append(record)
    return {owner: own + unscoped for owner, own in parts.items()}


def snapshot_counts(
    session: Session, tenant_id: str, subscription_ids: Sequence[str]
) -> dict[str, int]:
    """The resource counts of the subscriptions' stored snapshots (those that have one).

    Read from the clear column alone: no snapshot is loaded or decrypted to count it.
    """
    wanted = {s.lower() for s in subscription_ids}
    rows = session.execute(
        select(Snapshot.subscription_id, Snapshot.resources).where(
            Snapshot.tenant_id == tenant_id, Snapshot.subscription_id.in_(wanted)
        )
    )
    return {subscription_id: resources for subscription_id, resources in rows}


def snapshot_resources(
    session: Session, tenant_id: str, subscription_id: str, keys: Keyring
) -> list[Resource] | None:
    """The subscription's stored export read back into resources, opened with the key that
    sealed it; None when there is none.

    Opened and checked every time; parsed once per stored body in this process
    (``decoded``)."""
    subscription_id = subscription_id.lower()
    row = SnapshotRepository(session, tenant_id).get(subscription_id)
    if row is None:
        return None
    wrapper = keys.opening(session, tenant_id, row.key_mode, row.key_ref)
    try:
        compressed = open_compressed(
            wrapper, row.wrapped_key, row.body, _context(tenant_id, row.subscription_id)
        )
        resources = decoded_snapshots.get(tenant_id, row.subscription_id, row.wrapped_key)
        if resources is not None:
            return resources
        export = orjson.loads(zlib.decompress(compressed))
    except (DocumentUnreadable, zlib.error, orjson.JSONDecodeError) as exc:
        raise SnapshotUnreadable(
            f"Snapshot for subscription {subscription_id} cannot be decrypted: {exc} (tampered "
            "with, moved from another row, or sealed under another key); upload it again"
        ) from None
    try:
        resources = resources_from_arg(export, _source(subscription_id))
    except SourceError as exc:
        raise SnapshotUnreadable(
            f"Snapshot for subscription {subscription_id} is no longer a readable Resource Graph "
            f"export ({exc.problem}); upload it again"
        ) from None
    decoded_snapshots.put(tenant_id, row.subscription_id, row.wrapped_key, resources)
    return resources
