"""The portal's pages: Running a scan, a dry run, an IaC file or a snapshot upload."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tutela.server.auth.caller import Caller
from tutela.server.auth.scopes import Scope
from tutela.server.catalog.router import list_frameworks
from tutela.server.db import transaction
from tutela.server.runtime import RuntimeDep
from tutela.server.snapshots import service as snapshots
from tutela.server.snapshots.router import snapshot_out
from tutela.server.snapshots.schemas import SnapshotOut
from tutela.server.snapshots.service import SnapshotNotFound
from tutela.server.tenants import service as tenants
from tutela.server.tenants.router import tenant_me
from tutela.server.web.rendering import open_page

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class LinkedSubscription:
    subscription_id: str
    snapshot: SnapshotOut | None  # None: no snapshot uploaded (or not the person's to see)


@router.get("/portal/scan", response_model=None)
def scan(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page = open_page(request, runtime)
    caller = page.person
    if caller.tenant_id is None or not page.may(Scope.SCAN_RUN):
        return page.not_found("Scanning")
    with transaction(runtime.sessions, readonly=True) as session:
        me = tenant_me(session, tenants.profile(session, caller, runtime.catalog), runtime.catalog)
        # Each snapshot as GET /tenant/subscriptions/{subscription_id}/snapshot shows it.
        readable = page.may(Scope.TENANT_READ)
        linked = [
            LinkedSubscription(s, _snapshot(session, caller, s) if readable else None)
            for s in me.azure_subscription_ids
        ]
    # The plan's frameworks, as GET /frameworks lists them: POST /scan refuses any other (403).
    frameworks = [f for f in list_frameworks(runtime, caller) if me.plan_id in f.plans]
    quota_used = me.scan_limit is not None and me.scan_count >= me.scan_limit
    return page.render(
        "scan.html",
        title="Scan",
        me=me,
        linked=linked,
        frameworks=frameworks,
        quota_used=quota_used,
        other_frameworks=len(runtime.catalog.framework_ids) - len(frameworks),
        max_resources=runtime.catalog.plan(me.plan_id).max_resources_per_scan,
    )


def _snapshot(session: Session, caller: Caller, subscription_id: str) -> SnapshotOut | None:
    try:
        return snapshot_out(snapshots.get_snapshot(session, caller, subscription_id))
    except SnapshotNotFound:
        return None
