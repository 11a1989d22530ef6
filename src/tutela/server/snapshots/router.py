"""HTTP for subscription snapshots: /tenant/subscriptions/{subscription_id}/snapshot."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.reports.models import Snapshot
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.schemas import ErrorOut, StatusOut
from tutela.server.snapshots import service
from tutela.server.snapshots.schemas import EXPORT_REQUEST_BODY, SnapshotOut

router = APIRouter(prefix="/tenant/subscriptions/{subscription_id}/snapshot", tags=["tenant"])

TenantReader = Annotated[Caller, Depends(Authorize(Scope.TENANT_READ))]
TenantWriter = Annotated[Caller, Depends(Authorize(Scope.TENANT_WRITE))]
SubscriptionId = Annotated[uuid.UUID, Path(description="A linked Azure subscription id.")]


async def _raw_body(request: Request) -> bytes:
    # Read raw, not through a body model: the export is parsed once, by the service, with
    # orjson and whatever the content type (curl --data-binary sends a form type by default).
    return await request.body()


ExportBody = Annotated[bytes, Depends(_raw_body)]


def snapshot_out(snapshot: Snapshot) -> SnapshotOut:
    return SnapshotOut(
        subscription_id=snapshot.subscription_id,
        resources=snapshot.resources,
        size_bytes=snapshot.size_bytes,
        uploaded_at=snapshot.uploaded_at,
    )


@router.put(
    "",
    summary="Upload a Resource Graph export as the subscription's snapshot (replaces any)",
    description="Scans read the snapshot in place of a live connection to the subscription. "
    "It is stored encrypted; only its resource count, size and upload time are shown. "
    "Limits: `TUTELA_MAX_UPLOAD_BYTES` (50 MiB by default), and the plan's "
    "`max_resources_per_scan` (GET /plans): an export no scan could read is not stored.",
    openapi_extra={"requestBody": EXPORT_REQUEST_BODY},
    responses={
        413: {
            "model": ErrorOut,
            "description": "Export larger than the upload limit, or holding more resources "
            "than the plan's `max_resources_per_scan`",
        }
    },
)
def put_snapshot(
    subscription_id: SubscriptionId,
    caller: TenantWriter,
    body: ExportBody,
    session: SessionDep,
    runtime: RuntimeDep,
) -> SnapshotOut:
    snapshot = service.upload_snapshot(
        session, caller, runtime.keyring, str(subscription_id), body, runtime.catalog
    )
    return snapshot_out(snapshot)


@router.get("", summary="The subscription's snapshot: resource count, size, upload time")
def get_snapshot(
    subscription_id: SubscriptionId, caller: TenantReader, session: SessionDep
) -> SnapshotOut:
    return snapshot_out(service.get_snapshot(session, caller, str(subscription_id)))


@router.delete("", summary="Delete the subscription's snapshot")
def delete_snapshot(
    subscription_id: SubscriptionId, caller: TenantWriter, session: SessionDep
) -> StatusOut:
    service.delete_snapshot(session, caller, str(subscription_id))
    return StatusOut()
