"""What tests that start real `tutela worker` processes share: the console script and the
settings as the operator gives them (environment variables). The loopback SMTP relay they
mail through is the ``smtp`` fixture of tests/server/conftest.py."""

from __future__ import annotations

import os
import sys
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
