"""Which of `tutela serve`'s worker processes runs the in-process jobs: the one holding a lock.

``tutela serve --workers N`` starts N processes of one app, each with the embedded scheduler
(``jobs.inprocess``). Periodic jobs run in one of them only: governance scans would be safe to
race (each tenant is leased), but retention, notices and key-health checks would run N times.
The processes share a host and a data directory, so the first to take an exclusive ``flock``
on ``DATA_DIR/scheduler.lock`` runs the jobs for as long as it lives; the kernel lets go of
the lock when the process ends, however it ends, and uvicorn starts a new worker in its place
that takes it. A lock is held per open file, so the workers never share it by inheritance.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

log = logging.getLogger("tutela.jobs")
LOCK_FILE = "scheduler.lock"


class SchedulerLock:
    """The lock, held while this object is open."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def release(self) -> None:
        self._handle.close()  # (closing the file lets go of the lock)


def take_scheduler_lock(data_dir: Path) -> SchedulerLock | None:
    """The lock if this process now holds it; None if another process does."""
    handle = (data_dir / LOCK_FILE).open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        log.info("scheduler_elsewhere pid=%s", os.getpid())
        return None
    log.info("scheduler_here pid=%s", os.getpid())
    return SchedulerLock(handle)
