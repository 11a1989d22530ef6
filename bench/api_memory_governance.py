"""The governance cases of ``bench/api_memory.py``: two ``tutela jobs run-due`` scans of a snapshot.

The first governance scan assesses and stores; the next day's also finds drift against it. Each
is measured in the process that runs it, not in the API server.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from api_memory import Case, case_env, snapshot_desc, snapshot_of
from api_server import Server, create_tenants, tutela

# `tutela jobs run-due` that prints its own peak RSS as it exits. Not the child's ru_maxrss from
# wait4: Linux carries the parent's (this benchmark's, gigabytes) into a child at exec.
_RUN_DUE = (
    "import atexit, sys\n"
    "def peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    print('VmHWM', status.split('VmHWM:')[1].split()[0], file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "from tutela.cli.main import app\n"
    "sys.argv = ['tutela', 'jobs', 'run-due', '--now', sys.argv[1]]\n"
    "app()\n"
)


def run_due(env: dict[str, str], now: dt.datetime) -> tuple[int, float, int]:
    """``tutela jobs run-due --now …``: (exit status, seconds, the process's peak RSS in bytes)."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _RUN_DUE, now.isoformat()],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0 or b"1 scanned" not in done.stdout:
        print(f"run-due: {done.returncode} {done.stdout[-600:]!r}", file=sys.stderr)
    peak = re.search(rb"VmHWM (\d+)", done.stderr)
    if peak is None:
        raise RuntimeError(f"run-due printed no peak: {done.stderr[-600:]!r}")
    return done.returncode, seconds, int(peak.group(1)) * 1024


def governance_cases(resources: int, work: Path) -> list[Case]:
    """Two governance scans of an uploaded snapshot: the first, then one with drift to compare."""
    snapshot = snapshot_of(resources, work)
    env = case_env(work / "data-governance")
    tutela(env, "db", "upgrade")
    [tenant] = create_tenants(env, 1, "governance")
    server = Server(env, work / "server-governance.log")
    cases = []
    try:
        server.wait_healthy()
        with httpx.Client(base_url=server.base_url, timeout=900, headers=tenant.headers) as client:
            sub = snapshot.subscription_id
            client.put("/tenant/subscriptions", json={"subscription_ids": [sub]}).raise_for_status()
            client.put(
                f"/tenant/subscriptions/{sub}/snapshot",
                content=snapshot.body,
                headers={"Content-Type": "application/json"},
            ).raise_for_status()
            first = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)
            for name, now, what in [
                ("governance-first", first, "the first governance scan: assess, store"),
                (
                    "governance",
                    first + dt.timedelta(days=1, minutes=1),
                    "the next day's: assess, drift against the first, store",
                ),
            ]:
                status, seconds, peak = run_due(env, now)
                listed = client.get("/reports", params={"type": "governance", "limit": 1})
                latest = listed.json()["items"][0] if listed.status_code == 200 else {}
                findings = sum(
                    latest.get(f"{s}_count", 0) for s in ("critical", "high", "medium", "low")
                )
                cases.append(
                    Case(
                        name,
                        f"`tutela jobs run-due` after PUT …/snapshot: {what}",
                        snapshot_desc(snapshot),
                        snapshot.size_bytes,
                        f"exit {status}",
                        seconds,
                        peak,
                        None,
                        latest.get("resources_scanned", 0),
                        findings,
                        None,
                        None,
                    )
                )
                print(cases[-1], flush=True)
    finally:
        server.stop()
    return cases
