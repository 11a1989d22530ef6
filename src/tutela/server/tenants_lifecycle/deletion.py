"""Deleting a tenant: requested, a grace period, then purged for good.

A request turns the tenant ``deleting``: like a suspended tenant its keys get 403, its people
cannot sign in and no governance scan runs, but its data stays intact and exportable until
``delete_after`` (``TUTELA_TENANT_DELETION_GRACE_DAYS`` later); until then the request can be
cancelled, which restores the status it had. The purge (the ``tenants.purge`` job once the grace
period is over, or an operator's explicit purge-now) first destroys the data keys in a committed
step (the tenant turns ``purging``: from there nothing can bring its documents back, so nothing
may cancel), then deletes the reports in batches and the tenant row, whose foreign keys cascade
to every other table. The audit log keeps its entries: they are the record of who did what,
deletion included, and hold no document content.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tutela.server.admin import service as admin
from tutela.server.audit import service as audit
from tutela.server.auth import epoch as auth_epoch
from tutela.server.auth.service import AuthCache
from tutela.server.db import after_commit, transaction
from tutela.server.errors import Conflict, InvalidInput, NotFound
from tutela.server.runtime import Runtime
from tutela.server.tenants.models import Tenant
from tutela.server.tenants_lifecycle.repository import (
    DELETING,
    PURGING,
    TenantDataRepository,
    due_for_purge,
)

log = logging.getLogger("tutela.tenants")

PURGE_BATCH = 500  # reports deleted per transaction


@dataclass(frozen=True)
class Purged:
    tenant_id: str
    reports: int
    snapshots: int


def _deleting(tenant: Tenant) -> bool:
    return tenant.status in (DELETING, PURGING)


def _refresh_keys(session: Session, cache: AuthCache, tenant_id: str) -> None:
    auth_epoch.bump(session)  # every API process drops its cached keys at once
    after_commit(session, lambda: cache.invalidate_tenant(tenant_id))


def request_deletion(
    session: Session,
    cache: AuthCache,
    *,
    actor: str,
    tenant_id: str,
    grace: dt.timedelta,
    now: dt.datetime,
) -> Tenant:
    """Mark the tenant ``deleting``: refused from now on, purged after the grace period."""
    tenant = admin.get_tenant(session, tenant_id)
    if _deleting(tenant):
        raise Conflict(f"Deletion of this tenant was already requested ({tenant.status})")
    tenant.status_before_deletion = tenant.status
    tenant.status = DELETING
    tenant.deletion_requested_at = now
    tenant.deletion_requested_by = actor
    tenant.delete_after = now + grace
    audit.record(
        session,
        actor=actor,
        action="tenant.deletion_requested",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={
            "delete_after": tenant.delete_after.isoformat(),
            "previous_status": tenant.status_before_deletion,
        },
    )
    _refresh_keys(session, cache, tenant.id)
    log.info("tenant_deletion_requested tenant=%s delete_after=%s", tenant.id, tenant.delete_after)
    return tenant


def cancel_deletion(session: Session, cache: AuthCache, *, actor: str, tenant_id: str) -> Tenant:
    """Restore the status the tenant had before its deletion was requested."""
    tenant = admin.get_tenant(session, tenant_id)
    if tenant.status == PURGING:
        raise Conflict("The tenant is being purged: its data keys are destroyed already")
    if tenant.status != DELETING:
        raise Conflict("No deletion of this tenant is pending")
    tenant.status = tenant.status_before_deletion or "active"
    delete_after = tenant.delete_after
    tenant.status_before_deletion = None
    tenant.deletion_requested_at = None
    tenant.deletion_requested_by = None
    tenant.delete_after = None
    audit.record(
        session,
        actor=actor,
        action="tenant.deletion_cancelled",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={
            "status": tenant.status,
            "delete_after": delete_after.isoformat() if delete_after else None,
        },
    )
    _refresh_keys(session, cache, tenant.id)
    return tenant


def purge_now(runtime: Runtime, *, actor: str, tenant_id: str, confirm: str) -> Purged:
    """An operator's purge before the grace period ends: only of a tenant whose deletion was
    requested, and only when ``confirm`` repeats its id."""
    if confirm != tenant_id:
        raise InvalidInput(("body", "confirm_tenant_id"), "Must repeat the tenant's id")
    with transaction(runtime.sessions) as session:
        if not _deleting(admin.get_tenant(session, tenant_id)):
            raise Conflict("Request the tenant's deletion first (DELETE /admin/tenants/{id})")
    purged = purge_tenant(runtime, tenant_id, actor=actor, now=None)
    if purged is None:  # cancelled or purged by another process in between
        raise NotFound("Tenant not found, or its deletion was cancelled meanwhile")
    return purged


def purge_tenant(
    runtime: Runtime, tenant_id: str, *, actor: str, now: dt.datetime | None
) -> Purged | None:
    """Destroy the tenant's data keys (committed), then delete its rows; None when it is not
    (or no longer) due: cancelled, gone, or ``delete_after`` later than ``now``.

    ``now`` None purges a ``deleting`` tenant whatever its ``delete_after`` (purge-now).
    """
    with transaction(runtime.sessions) as session:
        data = TenantDataRepository(session, tenant_id)
        tenant = data.locked_tenant()
        if tenant is None or not _deleting(tenant):
            return None
        due = now is None or (tenant.delete_after is not None and tenant.delete_after <= now)
        if tenant.status == DELETING and not due:
            return None
        tenant.status = PURGING
        session.flush()
        reports, snapshots = data.destroy_data_keys()
        _refresh_keys(session, runtime.auth_cache, tenant_id)
    runtime.keyring.forget()  # no cached wrapper of the tenant's Key Vault key outlives it
    while True:
        with transaction(runtime.sessions) as session:
            if not TenantDataRepository(session, tenant_id).delete_reports(PURGE_BATCH):
                break
    with transaction(runtime.sessions) as session:
        data = TenantDataRepository(session, tenant_id)
        if data.locked_tenant() is None:  # another process finished this purge meanwhile
            return None
        data.delete_tenant()
        audit.record(
            session,
            actor=actor,
            action="tenant.purged",
            tenant_id=tenant_id,
            target=f"tenant:{tenant_id}",
            details={"reports": reports, "snapshots": snapshots},
        )
        _refresh_keys(session, runtime.auth_cache, tenant_id)
    log.info("tenant_purged tenant=%s reports=%d snapshots=%d", tenant_id, reports, snapshots)
    return Purged(tenant_id, reports, snapshots)


def purge_due(runtime: Runtime, now: dt.datetime, *, actor: str) -> list[Purged]:
    """Purge every tenant whose grace period has ended (and finish interrupted purges)."""
    with transaction(runtime.sessions, readonly=True) as session:
        due = list(due_for_purge(session, now))
    purged = [purge_tenant(runtime, tenant_id, actor=actor, now=now) for tenant_id in due]
    return [p for p in purged if p is not None]
