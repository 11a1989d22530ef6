"""What tests that start real `tutela worker` processes share: the console script and the
settings as the operator gives them (environment variables). The loopback SMTP relay they
mail through is the ``smtp`` fixture of tests/server/conftest.py."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from tutela.server.config import Settings

TUTELA = str(Path(sys.executable).with_name("tutela"))


def environment(settings: Settings) -> dict[str, str]:
    """The settings as the operator would give them to `tutela worker`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
    names = (
        "data_dir",
        "database_url",
        "redis_url",
        "job_backend",
        "job_queue",
        "scheduler_interval_seconds",
        "governance_lease_seconds",
        "retention_interval_hours",
        "smtp_host",
        "smtp_port",
        "smtp_starttls",
        "smtp_timeout_seconds",
    )
    env.update({f"TUTELA_{name.upper()}": str(getattr(settings, name)) for name in names})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def stop_groups(processes: Iterable[subprocess.Popen[bytes]], grace: float = 15) -> None:
    """Stop processes started with ``start_new_session=True``, each with its whole group (a
    worker and its pool): SIGTERM to all, then SIGKILL to any still running after ``grace``."""
    processes = list(processes)
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
