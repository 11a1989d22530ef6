"""Readiness: may a load balancer send this process requests? Database, broker, platform key.

``/health`` says the process is alive and reaches its database; ``/health/ready`` also checks
the Redis broker / rate-limit store (when ``TUTELA_REDIS_URL`` is set) and that the platform
key file still holds the key this process runs with (a key file removed or replaced under a
running process would make its new secrets unreadable to the others). The checks run side by
side and each gets ``CHECK_SECONDS``: a store that hangs makes the answer late by that much
at most, never longer.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from sqlalchemy import text

from tutela.server.config import SettingsError
from tutela.server.crypto import load_platform_key
from tutela.server.db import transaction
from tutela.server.runtime import Runtime

CHECK_SECONDS = 2.0
OK = "ok"
NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # check name: "ok", "not configured" or what is wrong

    @property
    def ready(self) -> bool:
        return all(result in (OK, NOT_CONFIGURED) for result in self.checks.values())

    @property
    def problems(self) -> str:
        """``database unavailable; broker …``: the failed checks, for a one-line detail."""
        return "; ".join(
            f"{name} {result}"
            for name, result in self.checks.items()
            if result not in (OK, NOT_CONFIGURED)
        )


def check_database(runtime: Runtime) -> str:
    with transaction(runtime.sessions, readonly=True) as session:
        session.execute(text("SELECT 1"))
    return OK


def check_broker(runtime: Runtime) -> str:
    url = runtime.settings.redis_url
    if not url:
        return NOT_CONFIGURED
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return OK


def check_platform_key(runtime: Runtime) -> str:
    settings = runtime.settings
    if settings.platform_key is None and not settings.resolved_platform_key_file.is_file():
        return "unreadable: the key file is missing"
    try:
        # The file exists, so this reads it (and never creates a new one).
        current = load_platform_key(settings)
    except (OSError, SettingsError):
        return "unreadable"
    if not hmac.compare_digest(current, runtime.keys.master):
        return "changed: not the key this process runs with"
    return OK


CHECKS: dict[str, Callable[[Runtime], str]] = {
    "database": check_database,
    "broker": check_broker,
    "platform_key": check_platform_key,
}

_FAILURES = {"database": "unavailable", "broker": "unreachable", "platform_key": "unreadable"}


def readiness(runtime: Runtime, timeout: float = CHECK_SECONDS) -> Readiness:
    """Run every check at once; one that raises or takes longer than ``timeout`` fails."""
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readiness")
    try:
        futures = {name: pool.submit(check, runtime) for name, check in CHECKS.items()}
        deadline = time.monotonic() + timeout
        results: dict[str, str] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                results[name] = "timed out"
            except Exception:
                # The exception's text may quote a URL with its password: not repeated.
                results[name] = _FAILURES[name]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a hung check is not waited for
    return Readiness(results)
