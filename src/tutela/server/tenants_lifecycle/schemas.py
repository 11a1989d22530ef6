"""Admin API bodies of a tenant's deletion and purge."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from tutela.server.schemas import InputModel, OutputModel


class TenantDeletionOut(OutputModel):
    id: str
    name: str
    status: str = Field(description="`deleting` while the grace period runs; else the status.")
    deletion_requested_at: dt.datetime | None
    deletion_requested_by: str | None
    delete_after: dt.datetime | None = Field(
        description="When the tenant is purged for good (the retention job's next run after it)."
    )


class PurgeNow(InputModel):
    confirm_tenant_id: str = Field(
        min_length=1, max_length=64, description="The tenant's id again: the purge is final."
    )


class TenantPurged(OutputModel):
    tenant_id: str
    reports: int = Field(description="Reports whose data key was destroyed, then deleted.")
    snapshots: int = Field(description="Snapshots whose data key was destroyed, then deleted.")
