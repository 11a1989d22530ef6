"""HTTP for a tenant's end of life, in the admin API: export, delete, cancel, purge now."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import utcnow
from tutela.server.openapi import error_responses
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.tenants.models import Tenant
from tutela.server.tenants_lifecycle import deletion
from tutela.server.tenants_lifecycle.archive import export_tenant
from tutela.server.tenants_lifecycle.schemas import PurgeNow, TenantDeletionOut, TenantPurged

router = APIRouter(tags=["admin"])

AdminReader = Annotated[Caller, Depends(Authorize(Scope.ADMIN_READ))]
AdminWriter = Annotated[Caller, Depends(Authorize(Scope.ADMIN_WRITE))]

ZIP = "application/zip"


def _deletion_out(tenant: Tenant) -> TenantDeletionOut:
    return TenantDeletionOut.model_validate(tenant)


@router.get(
    "/tenants/{tenant_id}/export",
    summary="Export everything a tenant owns as one zip archive",
    description="manifest.json (format version, counts), tenant.json, users.json, "
    "api_keys.json (metadata only), subscriptions.json, house_policy.json, exceptions.json, "
    "governance.json (state and history), snapshots.json and snapshots/<subscription>.json, "
    "audit_events.json, and reports/<report_id>.json: each report decrypted, as `GET "
    "/report/{id}?include=passed` answers it. No secret is included. Audit-logged "
    "(`tenant.exported`). A tenant whose Key Vault key cannot be used is a 503: no archive.",
    response_class=FileResponse,
    responses={
        200: {"content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(409, 503),
    },
)
def export(tenant_id: str, runtime: RuntimeDep, caller: AdminReader) -> FileResponse:
    archive = export_tenant(runtime, actor=caller.actor, tenant_id=tenant_id, now=utcnow())
    return FileResponse(
        archive.path,
        media_type=ZIP,
        filename=archive.filename,
        background=BackgroundTask(archive.path.unlink, missing_ok=True),
    )


@router.delete(
    "/tenants/{tenant_id}",
    status_code=202,
    summary="Request a tenant's deletion: refused at once, purged after the grace period",
    description="The tenant turns `deleting`: its keys get 403, sign-in is refused and no "
    "governance scan runs, but its data stays intact and exportable until `delete_after` "
    "(TUTELA_TENANT_DELETION_GRACE_DAYS later), when the retention job destroys its data keys "
    "and deletes its rows. Cancel before then with `POST .../cancel-deletion`.",
    responses=error_responses(409),
)
def request_deletion(
    tenant_id: str, session: SessionDep, runtime: RuntimeDep, caller: AdminWriter
) -> TenantDeletionOut:
    tenant = deletion.request_deletion(
        session,
        runtime.auth_cache,
        actor=caller.actor,
        tenant_id=tenant_id,
        grace=dt.timedelta(days=runtime.settings.tenant_deletion_grace_days),
        now=utcnow(),
    )
    return _deletion_out(tenant)


@router.post(
    "/tenants/{tenant_id}/cancel-deletion",
    summary="Cancel a pending deletion: the tenant gets back the status it had",
    responses=error_responses(409),
)
def cancel_deletion(
    tenant_id: str, session: SessionDep, runtime: RuntimeDep, caller: AdminWriter
) -> TenantDeletionOut:
    tenant = deletion.cancel_deletion(
        session, runtime.auth_cache, actor=caller.actor, tenant_id=tenant_id
    )
    return _deletion_out(tenant)


@router.post(
    "/tenants/{tenant_id}/purge",
    summary="Purge a tenant whose deletion was requested, now, without waiting",
    description="Final: the data keys of its reports and snapshots are destroyed, then every "
    "row of the tenant is deleted (its audit entries stay). Only for a tenant whose deletion "
    "was requested (409 otherwise), and the body must repeat its id.",
    responses=error_responses(409),
)
def purge_now(
    tenant_id: str, body: PurgeNow, runtime: RuntimeDep, caller: AdminWriter
) -> TenantPurged:
    purged = deletion.purge_now(
        runtime, actor=caller.actor, tenant_id=tenant_id, confirm=body.confirm_tenant_id
    )
    return TenantPurged(
        tenant_id=purged.tenant_id, reports=purged.reports, snapshots=purged.snapshots
    )
