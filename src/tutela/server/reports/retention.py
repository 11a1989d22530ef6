"""The retention job: reports past their plan's history window are deleted, on a timer.

Embedded mode runs it inside the API process (started with the app, first run at start-up);
``tutela reports purge`` runs it once, for a cron job or a scale-out deployment's worker.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from tutela.server.db import transaction, utcnow
from tutela.server.reports.service import purge_expired
from tutela.server.runtime import Runtime

log = logging.getLogger("tutela.retention")


def purge_once(runtime: Runtime) -> dict[str, int]:
    """Delete every tenant's expired reports now; tenant id → reports deleted."""
    with transaction(runtime.sessions) as session:
        purged = purge_expired(session, runtime.catalog, utcnow())
    log.info("retention_purged tenants=%d reports=%d", len(purged), sum(purged.values()))
    return purged


async def run_periodically(runtime: Runtime, interval_seconds: float) -> None:
    """Purge at start, then every interval, until cancelled; a failed run is logged, not fatal."""
    while True:
        try:
            await run_in_threadpool(purge_once, runtime)
        except Exception:
            log.exception("retention_failed")
        await asyncio.sleep(interval_seconds)
