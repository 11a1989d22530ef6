"""The server under test: ``tutela serve`` on a free port, its database, tenants and snapshots.

With ``TUTELA_WORKERS`` N > 1 in its environment the server is N uvicorn worker processes under
the ``tutela serve`` process (their supervisor); it is ready once N workers run and are idle.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from api_cpu import CLK_TCK, process_tree, tree_ticks
from api_settings import KEY, POSTGRES_ADMIN, POSTGRES_URL, RATE_LIMIT, TUTELA
from api_snapshot import Snapshot


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tutela_env(data_dir: Path, database_url: str | None, workers: int = 1) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
    env.update(
        TUTELA_DATA_DIR=str(data_dir),
        TUTELA_LOG_LEVEL="WARNING",
        TUTELA_RATE_LIMIT=RATE_LIMIT,
        TUTELA_WORKERS=str(workers),
        PYTHONUNBUFFERED="1",
        COLUMNS="200",
    )
    if database_url:
        env["TUTELA_DATABASE_URL"] = database_url
    return env


def tutela(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603
        [str(TUTELA), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tutela {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


class Server:
    """``tutela serve`` in a child process (and its workers under it), its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.workers = int(env.get("TUTELA_WORKERS", "1"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            [str(TUTELA), "serve", "--port", str(self.port)],
            env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.log = log

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tutela serve exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"/health did not answer within {timeout} s")
        if self.workers > 1:
            self._wait_workers(deadline)

    def worker_pids(self) -> list[int]:
        """The processes under ``tutela serve`` but multiprocessing's resource tracker."""
        pids = []
        for pid in process_tree(self.process.pid)[1:]:
            with contextlib.suppress(OSError):
                if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(pid)
        return pids

    def _wait_workers(self, deadline: float, window: float = 0.5) -> None:
        """Until N workers run and the server is idle (< 10 % of a core over ``window``)."""
        workers, idle = 0, False
        while time.monotonic() < deadline:
            workers = len(self.worker_pids())
            before = sum(tree_ticks(self.process.pid).values())
            time.sleep(window)
            idle = (sum(tree_ticks(self.process.pid).values()) - before) / CLK_TCK < 0.1 * window
            if workers >= self.workers and idle:
                return
        raise RuntimeError(
            f"tutela serve ran {workers} worker processes ({'idle' if idle else 'busy'}), not "
            f"{self.workers} idle ones: does it take TUTELA_WORKERS?"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            workers = self.worker_pids()
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
                for pid in workers:  # orphaned by the kill: they would load the next run
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        self._log.close()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local server, dropped at the end; yields its SQLAlchemy URL."""
    import psycopg

    name = f"tutela_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_URL.format(name=name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_version() -> str:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, connect_timeout=5) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"


@dataclass
class Tenant:
    id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@dataclass
class Timed:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, started: float, response: httpx.Response) -> None:
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            self.errors[f"{response.status_code} {response.text[:120]}"] += 1

    def stats(self) -> dict[str, Any]:
        values = sorted(self.latencies_ms)
        return {
            "n": len(values),
            "p50": statistics.median(values),
            "p95": statistics.quantiles(values, n=20, method="inclusive")[18]
            if len(values) > 1
            else values[0],
            "mean": statistics.fmean(values),
            "min": values[0],
            "max": values[-1],
            "errors": dict(self.errors),
        }


def expect(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code != 200:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    return response


def create_tenants(env: dict[str, str], count: int, label: str) -> list[Tenant]:
    tenants = []
    for i in range(count):
        output = tutela(
            env, "admin", "create-tenant", "--email", f"bench{i}@{label}.example",
            "--plan", "enterprise",
        )  # fmt: skip
        keys = KEY.findall(output)
        match = re.search(r"Tenant (\S+) created", output)
        if len(keys) != 1 or not match:
            raise RuntimeError(f"could not read the tenant and key from: {output!r}")
        tenants.append(Tenant(match.group(1), keys[0]))
    return tenants


def load_snapshot(client: Any, tenant: Tenant, snapshot: Snapshot) -> dict[str, Any]:
    """Link the snapshot's subscription and upload it (client: httpx or a TestClient)."""
    sub = snapshot.subscription_id
    expect(
        client.put(
            "/tenant/subscriptions", json={"subscription_ids": [sub]}, headers=tenant.headers
        ),
        "link subscription",
    )
    started = time.perf_counter()
    uploaded: dict[str, Any] = expect(
        client.put(
            f"/tenant/subscriptions/{sub}/snapshot",
            content=snapshot.body,
            headers={**tenant.headers, "Content-Type": "application/json"},
        ),
        "upload snapshot",
    ).json()
    uploaded["upload_ms"] = (time.perf_counter() - started) * 1000
    return uploaded


def report_id_of(content: bytes) -> str:
    """The report id of a /scan response, without parsing its 15 MB (the client shares the CPU)."""
    at = content.rfind(b'"report_id":"')
    if at < 0:
        raise RuntimeError("a /scan response without report_id")
    start = at + len(b'"report_id":"')
    return content[start : content.index(b'"', start)].decode()
