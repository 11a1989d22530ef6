"""``tutela admin`` commands of a tenant's end of life: export, delete, cancel, purge.

They work on the database directly, as ``tutela admin create-tenant`` does, through the same
services as the admin API (``tutela.server.tenants_lifecycle``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from tutela.cli.errors import CliError, one_line_errors
from tutela.cli.server_commands import CLI_ACTOR, _runtime, _unit_of_work, console
from tutela.cli.text import shown

TenantId = Annotated[str, typer.Argument(help="The tenant's id.", show_default=False)]


@one_line_errors
def export_tenant(
    tenant_id: TenantId,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The zip archive to write (must not exist).")
    ],
) -> None:
    """Export everything a tenant owns as one zip archive (reports decrypted; audit-logged)."""
    from tutela.server.db import utcnow
    from tutela.server.tenants_lifecycle.archive import export_tenant as export

    if output.exists():
        raise CliError(f"{output} exists already; give another --output")
    if not output.parent.is_dir():
        raise CliError(f"no folder {output.parent} to write {output.name} into")
    runtime = _runtime()
    try:
        archive = export(runtime, actor=CLI_ACTOR, tenant_id=tenant_id, now=utcnow())
    finally:
        runtime.close()
    shutil.move(archive.path, output)
    counted = ", ".join(
        f"{count} {name.replace('_', ' ')}" for name, count in archive.counts.items()
    )
    console.print(f"Tenant {shown(tenant_id)} exported to {shown(str(output))}: {counted}.")


@one_line_errors
def delete_tenant(
    tenant_id: TenantId,
    now: Annotated[
        bool,
        typer.Option(
            "--now",
            help="Purge a tenant whose deletion was already requested at once, without "
            "waiting for the grace period: final.",
        ),
    ] = False,
) -> None:
    """Request a tenant's deletion (its keys refused at once, purged after the grace period);
    with --now, purge a tenant already marked for deletion."""
    import datetime as dt

    from tutela.server.db import utcnow
    from tutela.server.errors import Conflict
    from tutela.server.tenants_lifecycle import deletion

    if now:
        runtime = _runtime()
        try:
            purged = deletion.purge_now(
                runtime, actor=CLI_ACTOR, tenant_id=tenant_id, confirm=tenant_id
            )
        except Conflict:
            raise CliError(
                f"tenant {tenant_id} is not marked for deletion: run `tutela admin "
                f"delete-tenant {tenant_id}` first, then again with --now"
            ) from None
        finally:
            runtime.close()
        console.print(
            f"Tenant {shown(tenant_id)} purged: data keys of {purged.reports} report(s) and "
            f"{purged.snapshots} snapshot(s) destroyed, every row deleted (audit entries kept)."
        )
        return
    with _unit_of_work() as (runtime, session):
        grace = dt.timedelta(days=runtime.settings.tenant_deletion_grace_days)
        tenant = deletion.request_deletion(
            session,
            runtime.auth_cache,
            actor=CLI_ACTOR,
            tenant_id=tenant_id,
            grace=grace,
            now=utcnow(),
        )
        delete_after = tenant.delete_after
    assert delete_after is not None
    console.print(
        f"Tenant {shown(tenant_id)} marked for deletion: its keys are refused now; it is "
        f"purged after {delete_after:%Y-%m-%d %H:%M}Z. Cancel before then with "
        f"`tutela admin cancel-deletion {shown(tenant_id)}`."
    )


@one_line_errors
def cancel_deletion(tenant_id: TenantId) -> None:
    """Cancel a tenant's pending deletion: it gets back the status it had."""
    from tutela.server.tenants_lifecycle import deletion

    with _unit_of_work() as (runtime, session):
        status = deletion.cancel_deletion(
            session, runtime.auth_cache, actor=CLI_ACTOR, tenant_id=tenant_id
        ).status
    console.print(f"Deletion of tenant {shown(tenant_id)} cancelled; it is {status} again.")


@one_line_errors
def purge_tenants() -> None:
    """Purge every tenant whose deletion grace period is over (what the retention job does)."""
    from tutela.server.db import utcnow
    from tutela.server.jobs.inprocess import run_job
    from tutela.server.jobs.registry import TENANTS_PURGE, tenants_purge

    runtime = _runtime()
    try:
        result = run_job(runtime, TENANTS_PURGE, lambda: tenants_purge(runtime, utcnow()))
    finally:
        runtime.close()
    console.print(shown(result.detail))
