"""Benchmark ``POST /scan`` of a real ``tutela serve`` process; write bench/RESULTS-api.md.

    python bench/api.py [--resources 1000] [--requests 60] [--concurrency 8]
                        [--backends sqlite,postgres] [--runs 2] [--profile auto|always|never]

For each run and each backend: a fresh data directory (and for PostgreSQL a fresh database on the
local server, dropped at the end), ``tutela db upgrade``, tenants on the enterprise plan made with
``tutela admin create-tenant`` (their owners' keys parsed from its output), then ``tutela serve``
on a free port. Each tenant links one subscription and uploads the same snapshot: ``--resources``
resources of one subscription of an estate from ``bench/generate.py``. Then, with httpx:

1. sequential: 3 warm-up requests, then ``--requests`` ``POST /scan`` (all 7 frameworks, no
   narratives) from one persistent client: p50, p95, mean;
2. ``--requests`` ``POST /scan/dry-run`` (scanned in full, neither stored nor counted) and
   ``--requests`` ``GET /report/{id}`` of the stored reports: where the time goes;
3. concurrent: ``--requests`` ``POST /scan`` spread over ``--concurrency`` threads, each with its
   own client: wall time, scans per second, p50 and p95 under load.

During each phase the CPU time of the server, of this client, of PostgreSQL's processes and of
everything else on the machine is read from /proc, so interference from other work shows. If a
p50 misses the target (or with ``--profile always``) one in-process scan and one report read are
timed step by step (with the GC's pauses, and what-ifs with the GC frozen or off) and profiled.

``--raw FILE`` also writes the measurements as JSON; ``--render-from FILE`` rewrites the results
from such a file without measuring. Several tenants share the work because of how report ids are
made (see ``REPORTS_PER_TENANT``).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import gc
import io
import math
import os
import platform
import pstats
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "RESULTS-api.md"
TUTELA = Path(sys.executable).parent / "tutela"
FRAMEWORKS = ["iso42001", "sr11_7", "eu_ai_act", "nist_ai_rmf", "mas_trm", "dora", "sox"]
SCAN_BODY = {"frameworks": FRAMEWORKS, "generate_narrative": False}
TARGET_P50_MS = 150.0
WARM_UP = 3
SEED = 42
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
RATE_LIMIT = "100000/minute"
KEY = re.compile(r"\btut_[A-Za-z0-9]+")
# A report id is COMP-<date>-<time to the second>, unique per tenant: a report takes the first
# free second from its scan's time on, at most 60 seconds ahead (reports/service.py). A tenant
# therefore stores about one report per second sustained, and a burst of more than ~60 stored
# scans fails with 400 "No free report id". Each tenant here stores at most this many reports.
REPORTS_PER_TENANT = 40
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the snapshot -------------------------------------------------------------------------------


@dataclass
class Snapshot:
    body: bytes
    size_bytes: int
    subscription_id: str
    generated: int  # N given to bench/generate.py
    records: int  # records in the export
    resources: int  # resources as Tutela reads them (diagnostic settings are facts, not resources)
    diagnostics: int
    by_type: dict[str, int]
    command: str


def _subscription_of(record: dict[str, Any]) -> str:
    declared = record.get("subscriptionId")
    if declared:
        return str(declared).lower()
    return str(record["id"]).split("/")[2].lower()


def _is_diagnostic(record: dict[str, Any]) -> bool:
    return str(record.get("type", "")).lower() == "microsoft.insights/diagnosticsettings"


def _target_of_diagnostic(record: dict[str, Any]) -> str:
    return str(record["id"]).lower().split("/providers/microsoft.insights/diagnosticsettings/")[0]


def build_snapshot(wanted: int, work: Path) -> Snapshot:
    """``wanted`` resources of one subscription, in the generator's order.

    Generates N = ``wanted`` first; if the subscription with most resources has fewer, generates
    a larger N and keeps the first ``wanted`` resources (records other than diagnostic
    settings) of that subscription, with the diagnostic settings of the resources kept.
    """
    from tutela.scanner.sources.arg import resources_from_arg

    size = wanted
    while True:
        out = work / f"estate-{size}"
        command = f"bench/generate.py {size} --seed {SEED} --out {out}"
        subprocess.run(  # noqa: S603
            [sys.executable, str(BENCH / "generate.py"), str(size), "--seed", str(SEED),
             "--out", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
        records = orjson.loads((out / "arg.json").read_bytes())["data"]
        per_subscription: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            per_subscription.setdefault(_subscription_of(record), []).append(record)
        subscription, mine = max(
            per_subscription.items(), key=lambda item: sum(not _is_diagnostic(r) for r in item[1])
        )
        have = sum(not _is_diagnostic(r) for r in mine)
        if have >= wanted:
            break
        size = math.ceil(size * wanted / have * 1.05)
    kept: list[dict[str, Any]] = []
    kept_ids: set[str] = set()
    for record in mine:
        if _is_diagnostic(record):
            continue
        if len(kept_ids) == wanted:
            break
        kept.append(record)
        kept_ids.add(str(record["id"]).lower())
    diagnostics = [r for r in mine if _is_diagnostic(r) and _target_of_diagnostic(r) in kept_ids]
    export = {"count": len(kept) + len(diagnostics), "data": kept + diagnostics}
    body = orjson.dumps(export)
    resources = resources_from_arg(orjson.loads(body), "snapshot")
    return Snapshot(
        body=body,
        size_bytes=len(body),
        subscription_id=subscription,
        generated=size,
        records=len(kept) + len(diagnostics),
        resources=len(resources),
        diagnostics=len(diagnostics),
        by_type=dict(Counter(r.type for r in resources).most_common()),
        command=command,
    )


# --- CPU accounting -----------------------------------------------------------------------------


def _proc_cpu(pid: int) -> int:
    """utime + stime of a process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


def _busy_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


@dataclass
class CpuSample:
    wall: float
    busy: int
    total: int
    server: int
    client: float
    postgres: dict[int, int]


def cpu_sample(server_pid: int) -> CpuSample:
    busy, total = _busy_ticks()
    times = os.times()
    return CpuSample(
        wall=time.perf_counter(),
        busy=busy,
        total=total,
        server=_proc_cpu(server_pid),
        client=times.user + times.system,
        postgres={pid: _proc_cpu(pid) for pid in _postgres_pids()},
    )


def cpu_usage(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds used between two samples, by whom; ``capacity`` is cores x wall time."""
    busy = (after.busy - before.busy) / CLK_TCK
    server = (after.server - before.server) / CLK_TCK
    client = after.client - before.client
    postgres = (
        sum(ticks - before.postgres.get(pid, 0) for pid, ticks in after.postgres.items()) / CLK_TCK
    )
    wall = after.wall - before.wall
    return {
        "wall_s": wall,
        "capacity_s": (after.total - before.total) / CLK_TCK,
        "busy_s": busy,
        "server_s": server,
        "client_s": client,
        "postgres_s": postgres,
        "other_s": max(0.0, busy - server - client - postgres),
    }


def top_processes(server_pid: int, limit: int = 5) -> list[str]:
    """The processes using most CPU (``ps``: over their lifetime), the benchmark's left out."""
    done = subprocess.run(
        ["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu", "--no-headers"],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    own = {os.getpid(), server_pid}
    lines = []
    for line in done.stdout.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4 or int(parts[0]) in own or parts[3].startswith("ps "):
            continue
        if float(parts[1]) < 5.0:
            break
        lines.append(f"{parts[1]} % {parts[3][:110]}")
        if len(lines) == limit:
            break
    return lines


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tutela_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
    env.update(
        TUTELA_DATA_DIR=str(data_dir),
        TUTELA_LOG_LEVEL="WARNING",
        TUTELA_RATE_LIMIT=RATE_LIMIT,
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
    """``tutela serve`` in a child process, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
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
                    return
            time.sleep(0.1)
        raise RuntimeError(f"/health did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
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


# --- measuring ----------------------------------------------------------------------------------


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


def rotate(tenants: list[Tenant], index: int) -> Tenant:
    return tenants[min(index // REPORTS_PER_TENANT, len(tenants) - 1)]


def phase(server: Server, run: Callable[[], Any]) -> tuple[Any, dict[str, float], list[str]]:
    """Run a phase; return its result, the CPU used by whom, and the busiest processes."""
    before = cpu_sample(server.process.pid)
    result = run()
    after = cpu_sample(server.process.pid)
    return result, cpu_usage(before, after), top_processes(server.process.pid)


def measure_backend(backend: str, snapshot: Snapshot, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"backend": backend, "load_before": os.getloadavg()}
    work = Path(tempfile.mkdtemp(prefix=f"tutela-api-bench-{backend}-"))
    per_thread = math.ceil(args.requests / args.concurrency)
    sequential_tenants = math.ceil((WARM_UP + args.requests) / REPORTS_PER_TENANT)
    thread_tenants = math.ceil(per_thread / REPORTS_PER_TENANT)
    try:
        with contextlib.ExitStack() as stack:
            database_url = None
            if backend == "postgres":
                database_url = stack.enter_context(postgres_database())
                result["database"] = database_url.rsplit("/", 1)[1]
            env = tutela_env(work, database_url)
            tutela(env, "db", "upgrade")
            started = time.perf_counter()
            sequential = create_tenants(env, sequential_tenants, "sequential")
            concurrent = [
                create_tenants(env, thread_tenants, f"thread{t}") for t in range(args.concurrency)
            ]
            result["tenants"] = sequential_tenants + thread_tenants * args.concurrency
            result["tenant_setup_s"] = time.perf_counter() - started
            server = Server(env, work / "serve.log")
            stack.callback(server.stop)
            server.wait_healthy()
            result["server_pid"] = server.process.pid
            client = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=120))
            uploads = [
                load_snapshot(client, tenant, snapshot)
                for tenant in [*sequential, *(t for ts in concurrent for t in ts)]
            ]
            result["snapshot_resources"] = sorted({u["resources"] for u in uploads})
            result["upload_ms_p50"] = statistics.median(u["upload_ms"] for u in uploads)
            result.update(measure(server, client, sequential, concurrent, args))
            if backend == "sqlite":
                result["db_bytes"] = sum(
                    p.stat().st_size for p in work.glob("tutela.db*") if p.is_file()
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_after"] = os.getloadavg()
    return result


def measure(
    server: Server,
    client: httpx.Client,
    sequential: list[Tenant],
    concurrent: list[list[Tenant]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    report_ids: list[str] = []
    for i in range(WARM_UP):
        response = client.post("/scan", json=SCAN_BODY, headers=rotate(sequential, i).headers)
        report_ids.append(expect(response, "warm-up scan").json()["report_id"])

    def sequential_scans() -> Timed:
        timed = Timed()
        for i in range(args.requests):
            tenant = rotate(sequential, WARM_UP + i)
            started = time.perf_counter()
            response = client.post("/scan", json=SCAN_BODY, headers=tenant.headers)
            timed.add(started, response)
            if response.status_code == 200:
                report_ids.append(report_id_of(response.content))
                out["last_report"] = response
        return timed

    timed, out["cpu_sequential"], out["top_sequential"] = phase(server, sequential_scans)
    out["sequential"] = timed.stats()
    last: httpx.Response = out.pop("last_report")
    report = last.json()
    out["report"] = {
        "bytes": len(last.content),
        "content_encoding": last.headers.get("content-encoding", "identity"),
        "resources_scanned": report["resources_scanned"],
        "findings": len(report["findings"]),
        "unknown": len(report["unknown"]),
        "checks_evaluated": report["checks_evaluated"],
        "checks_failed": report["checks_failed"],
        "aggregate_score": report["aggregate_score"],
        "severities": {s: report[f"{s}_count"] for s in ("critical", "high", "medium", "low")},
    }

    def dry_runs() -> tuple[Timed, int]:
        timed, size = Timed(), 0
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.post("/scan/dry-run", json=SCAN_BODY, headers=sequential[0].headers)
            timed.add(started, response)
            size = len(response.content)
        return timed, size

    (timed, size), out["cpu_dry_run"], _ = phase(server, dry_runs)
    out["dry_run"] = {**timed.stats(), "bytes": size}

    owners = {rid: rotate(sequential, i) for i, rid in enumerate(report_ids)}

    def get_reports() -> tuple[Timed, int]:
        timed, size = Timed(), 0
        ids = report_ids[WARM_UP:] or report_ids
        for i in range(args.requests):
            rid = ids[i % len(ids)]
            started = time.perf_counter()
            response = client.get(f"/report/{rid}", headers=owners[rid].headers)
            timed.add(started, response)
            size = len(response.content)
        return timed, size

    (timed, size), out["cpu_get_report"], _ = phase(server, get_reports)
    out["get_report"] = {**timed.stats(), "bytes": size}

    def concurrent_scans() -> tuple[Timed, float]:
        counts = [
            args.requests // args.concurrency + (1 if t < args.requests % args.concurrency else 0)
            for t in range(args.concurrency)
        ]
        barrier = threading.Barrier(args.concurrency + 1)
        timings = [Timed() for _ in range(args.concurrency)]
        failures: list[BaseException] = []

        def worker(t: int) -> None:
            try:
                with httpx.Client(base_url=server.base_url, timeout=300) as own:
                    # connect and verify the key before the clock starts; no scan, no report
                    expect(own.get("/tenant/me", headers=concurrent[t][0].headers), "tenant/me")
                    barrier.wait()
                    for i in range(counts[t]):
                        started = time.perf_counter()
                        response = own.post(
                            "/scan", json=SCAN_BODY, headers=rotate(concurrent[t], i).headers
                        )
                        timings[t].add(started, response)
            except BaseException as exc:
                failures.append(exc)
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.abort()

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.concurrency)]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        if failures:
            raise RuntimeError(f"a client thread failed: {failures[0]!r}")
        merged = Timed()
        for timing in timings:
            merged.latencies_ms += timing.latencies_ms
            merged.errors.update(timing.errors)
        return merged, wall

    (timed, wall), out["cpu_concurrent"], out["top_concurrent"] = phase(server, concurrent_scans)
    ok = timed.stats()["n"] - sum(timed.errors.values())
    out["concurrent"] = {**timed.stats(), "wall_s": wall, "scans_per_s": ok / wall}
    return out


# --- the in-process profile ---------------------------------------------------------------------


SCAN_STEPS = {
    "read": "read: tenant, plan, quota; the snapshot (`_prepare`)",
    "snapshot": "  of which the snapshot: open, decrypt, parse (`snapshot_estate`)",
    "scan": "scan: engine, scores, report document (`run_scan`)",
    "store": "store: seal (orjson, zlib, AES-GCM) and insert the report (`store_report`)",
    "render": "render the response JSON (`DocumentResponse` → `dumps`)",
}
GET_STEPS = {
    "open": "read the row, unwrap, decrypt, decompress, parse (`open_report`)",
    "render": "render the response JSON (`dumps`)",
}


class StepTimer:
    """Wall time spent in some module-level functions, and in the cyclic garbage collector."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.gc_count = 0
        self._restore: list[tuple[Any, str, Any]] = []
        self._gc_started = 0.0

    def wrap(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[label] = self.totals.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)
        self._restore.append((module, name, original))

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_count += 1
            elapsed = time.perf_counter() - self._gc_started
            self.totals["gc"] = self.totals.get("gc", 0.0) + elapsed

    def __enter__(self) -> StepTimer:
        gc.callbacks.append(self._gc)
        return self

    def __exit__(self, *_: Any) -> None:
        gc.callbacks.remove(self._gc)
        for module, name, original in reversed(self._restore):
            setattr(module, name, original)

    def take(self) -> tuple[dict[str, float], int]:
        """The milliseconds per label since the last take, and the collections."""
        taken = {k: v * 1000 for k, v in self.totals.items()}
        count = self.gc_count
        self.totals, self.gc_count = {}, 0
        return taken, count


def _listing(profiler: cProfile.Profile, order: str, limit: int) -> str:
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(limit)
    lines = text.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(line.rstrip() for line in lines[start:] if line.strip())


def _medians(samples: list[dict[str, float]]) -> dict[str, float]:
    labels = dict.fromkeys(k for sample in samples for k in sample)
    return {k: statistics.median(s.get(k, 0.0) for s in samples) for k in labels}


def profile_scan(snapshot: Snapshot, repeat: int) -> dict[str, Any]:
    """One scan and one GET report in-process (SQLite): step timings, GC, cProfile."""
    sys.path.insert(0, str(ROOT))
    from tests.platform import Platform

    from tutela.server import responses
    from tutela.server.config import Settings
    from tutela.server.db import transaction, utcnow
    from tutela.server.migrate import upgrade
    from tutela.server.reports import service as reports
    from tutela.server.responses import DocumentResponse
    from tutela.server.scans import service

    work = Path(tempfile.mkdtemp(prefix="tutela-api-profile-"))
    scans_made = [0]
    per_tenant = 30  # report ids: see REPORTS_PER_TENANT
    calls = 3 * (repeat + 1) + 1
    try:
        upgrade(f"sqlite:///{work / 'tutela.db'}")
        settings = Settings(data_dir=work, rate_limit=RATE_LIMIT, log_level="WARNING")
        with Platform(settings) as running:
            runtime = running.runtime
            count = math.ceil(calls / per_tenant)
            tenants = [running.tenant("enterprise") for _ in range(count)]
            for tenant in tenants:
                load_snapshot(running.client, Tenant(tenant.id, tenant.owner_key), snapshot)
            callers = [runtime.verifier.verify(t.owner_key) for t in tenants]
            options = service.ScanOptions(frameworks=FRAMEWORKS, generate_narrative=False)
            stored: list[tuple[int, str]] = []

            def scan(_: int) -> None:
                owner = scans_made[0] // per_tenant
                scans_made[0] += 1
                document = service.scan_subscriptions(runtime, callers[owner], options)
                DocumentResponse(document)
                stored.append((owner, document["report_id"]))

            def get(i: int) -> None:
                owner, report_id = stored[i % len(stored)]
                with transaction(runtime.sessions, readonly=True) as session:
                    document = reports.read_report(
                        session, callers[owner], runtime.catalog, runtime.document_keys,
                        report_id, utcnow(),
                    )  # fmt: skip
                DocumentResponse(document)

            def steps(call: Callable[[int], None], timer: StepTimer) -> list[dict[str, float]]:
                samples = []
                call(0)
                timer.take()
                for i in range(1, repeat + 1):
                    started = time.perf_counter()
                    call(i)
                    total = (time.perf_counter() - started) * 1000
                    sample, collections = timer.take()
                    samples.append({"total": total, **sample, "gc_collections": collections})
                return samples

            with StepTimer() as timer:
                timer.wrap(service, "_prepare", "read")
                timer.wrap(service, "snapshot_estate", "snapshot")
                timer.wrap(service, "run_scan", "scan")
                timer.wrap(service, "store_report", "store")
                timer.wrap(responses, "dumps", "render")
                scans = steps(scan, timer)
            with StepTimer() as timer:
                timer.wrap(reports, "open_report", "open")
                timer.wrap(responses, "dumps", "render")
                gets = steps(get, timer)
            # what if: the objects alive after start-up moved out of the collector's sight
            gc.collect()
            gc.freeze()
            try:
                with StepTimer() as timer:
                    frozen = steps(scan, timer)
            finally:
                gc.unfreeze()
            # what if: no cyclic collection during a scan at all
            with StepTimer() as timer:
                gc.collect()
                gc.disable()
                try:
                    no_gc = steps(scan, timer)
                finally:
                    gc.enable()
            scan_profile, get_profile = cProfile.Profile(), cProfile.Profile()
            scan_profile.runcall(scan, repeat + 1)
            get_profile.runcall(get, 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "repeat": repeat,
        "scan_steps": _medians(scans),
        "scan_min_ms": min(s["total"] for s in scans),
        "frozen_ms": statistics.median(s["total"] for s in frozen),
        "frozen_gc_ms": statistics.median(s.get("gc", 0.0) for s in frozen),
        "no_gc_ms": statistics.median(s["total"] for s in no_gc),
        "get_steps": _medians(gets),
        "get_min_ms": min(s["total"] for s in gets),
        "profiled_ms": pstats.Stats(scan_profile).total_tt * 1000,  # type: ignore[attr-defined]
        "cumulative": _listing(scan_profile, "cumulative", 30),
        "own": _listing(scan_profile, "tottime", 15),
        "get_cumulative": _listing(get_profile, "cumulative", 15),
    }


# --- RESULTS-api.md -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def read(path: str) -> str:
        with contextlib.suppress(OSError):
            return Path(path).read_text()
        return ""

    cpu = next(
        (line.split(":", 1)[1].strip() for line in read("/proc/cpuinfo").splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    memory = next(
        (int(line.split()[1]) * 1024 for line in read("/proc/meminfo").splitlines()
         if line.startswith("MemTotal")),
        0,
    )  # fmt: skip
    versions = {
        name: metadata.version(name)
        for name in ("tutela", "fastapi", "starlette", "uvicorn", "pydantic", "SQLAlchemy",
                     "psycopg", "orjson", "cryptography", "httpx")
    }  # fmt: skip
    versions["python"] = platform.python_version()
    versions["sqlite"] = sqlite3.sqlite_version
    with contextlib.suppress(Exception):
        versions["postgresql"] = postgres_version()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(memory / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "measured": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
    }


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _errors(stats: dict[str, Any]) -> str:
    return "; ".join(f"{n}x {e}" for e, n in stats["errors"].items()) or "none"


def _share(usage: dict[str, float]) -> float:
    """The share of the machine's CPU time other work used during a phase."""
    return usage["other_s"] / max(usage["capacity_s"], 1e-9)


def _cpu(usage: dict[str, float]) -> str:
    return (
        f"{usage['wall_s']:.1f} s wall, {usage['capacity_s']:.1f} CPU-s available: server "
        f"{usage['server_s']:.1f}, client {usage['client_s']:.1f}, PostgreSQL "
        f"{usage['postgres_s']:.1f}, **other work {usage['other_s']:.1f}** "
        f"({_share(usage):.0%} of the machine)"
    )


def reading(runs: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """What the figures say, computed from them."""
    lines = ["## Reading the figures", ""]
    for backend in dict.fromkeys(r["backend"] for r in runs):
        mine = [r for r in runs if r["backend"] == backend]

        def median(
            get: Callable[[dict[str, Any]], float], mine: list[dict[str, Any]] = mine
        ) -> float:
            return statistics.median(get(r) for r in mine)

        scan = median(lambda r: r["sequential"]["p50"])
        dry = median(lambda r: r["dry_run"]["p50"])
        fetch = median(lambda r: r["get_report"]["p50"])
        cpu = median(lambda r: r["cpu_sequential"]["server_s"] * 1000 / r["sequential"]["n"])
        rate = median(lambda r: r["concurrent"]["scans_per_s"])
        cores = median(lambda r: r["cpu_concurrent"]["server_s"] / r["cpu_concurrent"]["wall_s"])
        lines.append(
            f"- {backend} (medians of the runs): a scan p50 {scan:.0f} ms, of which storing the "
            f"report ≈ {scan - dry:.0f} ms (scan p50 - dry run p50); the server spends "
            f"{cpu:.0f} ms of CPU per scan, so the latency is CPU, not waiting. With "
            f"{args.concurrency} clients it did {rate:.1f} scans/s using {cores:.2f} cores: one "
            "process running Python one thread at a time, so throughput ≈ 1 / CPU per scan and "
            "extra clients only queue. Reading a stored report back (`GET`) takes "
            f"{fetch:.0f} ms."
        )
    report = runs[0]["report"]
    lines += [
        f"- Every /scan response is {report['bytes'] / 2**20:.1f} MiB: {report['findings']:,} "
        f"findings (one per failing check result and mapped control; "
        f"{report['checks_failed']:,} failing check results on "
        f"{report['resources_scanned']:,} resources). The server builds it as Python objects, "
        "serialises it twice (to seal it, to answer), compresses and encrypts it, and the "
        "client reads it all; the objects are what keeps the cyclic GC busy (below).",
        "",
    ]
    return lines


def render_profile(profile: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    scan, get = profile["scan_steps"], profile["get_steps"]

    def table(steps: dict[str, float], names: dict[str, str], rest: str) -> list[str]:
        other = steps["total"] - sum(v for k, v in steps.items() if k in names and k != "snapshot")
        rows = [f"| {names[k]} | {steps[k]:.0f} |" for k in names if k in steps]
        rows.append(f"| everything else: total - the steps ({rest}) | {other:.0f} |")
        rows.append(f"| **total** | **{steps['total']:.0f}** |")
        rows.append(
            f"| *cyclic GC pauses, inside the steps above* | *{steps.get('gc', 0.0):.0f}* "
            f"({steps.get('gc_collections', 0):.0f} collections) |"
        )
        return [
            "| step (medians, so rows need not add up exactly) | median ms |",
            "|---|---:|",
            *rows,
        ]

    http = (
        statistics.median(r["sequential"]["p50"] for r in runs if r["backend"] == "sqlite")
        if any(r["backend"] == "sqlite" for r in runs)
        else None
    )
    return [
        "## Where the time goes: in-process",
        "",
        "One scan as `POST /scan` runs it, without HTTP and authentication: "
        "`tutela.server.scans.service.scan_subscriptions` and the response rendering "
        "(`DocumentResponse`), called through `tests/platform.py`'s `Platform` on SQLite with "
        f"the same snapshot; medians of {profile['repeat']} calls after one warm-up, the steps "
        "timed by wrapping the module functions named, the GC through `gc.callbacks`.",
        "",
        *table(scan, SCAN_STEPS, "transactions, quota update, commit, GC pauses there"),
        "",
        f"Fastest call: {profile['scan_min_ms']:.0f} ms."
        + (f" The same scan over HTTP (SQLite p50 above, median of the runs): {http:.0f} ms; "
           "the difference is HTTP, authentication, the event loop handing the request to a "
           "worker thread, and reading the response on the client." if http else ""),
        "",
        "What if (same calls, same process): with `gc.collect(); gc.freeze()` once before "
        f"the scans (start-up objects out of the collector's sight): median "
        f"{profile['frozen_ms']:.0f} ms, of which {profile['frozen_gc_ms']:.0f} ms GC; with "
        f"the cyclic GC disabled during the scans: median {profile['no_gc_ms']:.0f} ms.",
        "",
        "`GET /report/{id}` in-process the same way (`read_report` in a read-only transaction, "
        "then `DocumentResponse`):",
        "",
        *table(get, GET_STEPS, "the read-only transaction, tenant and plan"),
        "",
        f"Fastest call: {profile['get_min_ms']:.0f} ms.",
        "",
        f"cProfile of one scan ({profile['profiled_ms']:.0f} ms under the profiler, which "
        "inflates many small calls; a GC pause is charged to whichever function was running). "
        "Top 30 by cumulative time:",
        "",
        "```",
        profile["cumulative"],
        "```",
        "",
        "Top 15 by own time:",
        "",
        "```",
        profile["own"],
        "```",
        "",
        "cProfile of one `GET /report/{id}` in-process, top 15 by cumulative time:",
        "",
        "```",
        profile["get_cumulative"],
        "```",
        "",
    ]  # fmt: skip


def render(
    info: dict[str, Any],
    snapshot: Snapshot,
    runs: list[dict[str, Any]],
    args: argparse.Namespace,
    argv: list[str],
    profile: dict[str, Any] | None,
) -> str:
    backends = list(dict.fromkeys(r["backend"] for r in runs))
    v = info["versions"]
    lines = [
        "# /scan API benchmark",
        "",
        "Written by `bench/api.py`; do not edit by hand. How long `POST /scan` of a real "
        f"`tutela serve` process takes for one subscription of {snapshot.resources:,} resources, "
        "all 7 frameworks, no narratives; alone and under concurrent load; on SQLite and "
        "PostgreSQL.",
        "",
        "## Machine and versions",
        "",
        f"- {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, {info['os']}",
        f"- Python {v['python']}, tutela {v['tutela']}, FastAPI {v['fastapi']}, Starlette "
        f"{v['starlette']}, uvicorn {v['uvicorn']} (one process, `tutela serve`), pydantic "
        f"{v['pydantic']}, SQLAlchemy {v['SQLAlchemy']}, psycopg {v['psycopg']}, orjson "
        f"{v['orjson']}, cryptography {v['cryptography']}; client httpx {v['httpx']}",
        f"- SQLite {v['sqlite']} (WAL), PostgreSQL {v.get('postgresql', 'n/a')} on the same "
        "machine (127.0.0.1)",
        f"- measured {info.get('measured') or f'{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}'} UTC",
        "",
        "## Commands",
        "",
        "```sh",
        f".venv/bin/python bench/api.py {' '.join(argv)}".rstrip(),
        "```",
        "",
        "which, per run and backend, runs:",
        "",
        "```sh",
        "export TUTELA_DATA_DIR=$(mktemp -d) TUTELA_LOG_LEVEL=WARNING "
        f"TUTELA_RATE_LIMIT={RATE_LIMIT}",
        "# postgres only: CREATE DATABASE tutela_bench_<random> on 127.0.0.1:5432, then",
        "#   export TUTELA_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/"
        "tutela_bench_<random>",
        "tutela db upgrade",
        "tutela admin create-tenant --email bench<i>@<label>.example --plan enterprise"
        "   # per tenant; the key parsed",
        "tutela serve --port <free port>   # waited for until GET /health is 200",
        "PUT /tenant/subscriptions {subscription_ids: [<sub>]}; PUT /tenant/subscriptions/<sub>"
        "/snapshot <export>   # per tenant",
        f"POST /scan {orjson.dumps(SCAN_BODY).decode()}",
        "```",
        "",
        "## The snapshot",
        "",
        f"`{snapshot.command}` (seed {SEED}); the generator draws one subscription, "
        f"`{snapshot.subscription_id}`. The snapshot holds its first **{snapshot.resources:,} "
        f"resources** as Tutela counts them (`PUT …/snapshot` answered `resources: "
        f"{runs[0]['snapshot_resources'][0]:,}`, every report `resources_scanned: "
        f"{runs[0]['report']['resources_scanned']:,}`), in the generator's order: "
        f"{snapshot.records:,} records, of which {snapshot.diagnostics} are the diagnostic "
        "settings of those resources (attached to them as facts, not resources), "
        f"{snapshot.size_bytes / 2**20:.2f} MiB. By type: "
        + ", ".join(f"{t} {n}" for t, n in snapshot.by_type.items())
        + ".",
        "",
        "## How it is measured",
        "",
        f"- **single client**: {WARM_UP} warm-up scans, then {args.requests} sequential `POST "
        "/scan` from one persistent httpx client; latency is the client's, request sent to body "
        "read.",
        f"- **dry run**: {args.requests} sequential `POST /scan/dry-run` (same body; scanned in "
        "full, neither stored nor counted). **GET report**: "
        f"{args.requests} `GET /report/{{id}}` of the reports just stored (open and decrypt, "
        "no scan). Scan - dry run ≈ storing; dry run - GET ≈ reading the snapshot and scanning.",
        f"- **{args.concurrency} clients**: {args.requests} `POST /scan` spread over "
        f"{args.concurrency} threads, each with its own httpx client (connected and its key "
        "verified before the clock starts); wall time from the start barrier to the last "
        "response; scans/s = successful scans / wall time.",
        f"- **tenants**: every tenant stores at most {REPORTS_PER_TENANT} reports, then the next "
        f"tenant is used (the sequential phase has "
        f"{math.ceil((WARM_UP + args.requests) / REPORTS_PER_TENANT)}, each client thread "
        f"{math.ceil(math.ceil(args.requests / args.concurrency) / REPORTS_PER_TENANT)}), all "
        "with the same snapshot. Reason: a report id is `COMP-<date>-<second>`, unique per "
        "tenant, and a report takes the first free second at most 60 s after its scan "
        "(`reports/service.py`), so one tenant stores about one report per second sustained; "
        "a burst of more than about 60 stored scans gets `400 No free report id … retry "
        "shortly` (an in-process run of 80 back-to-back scans for one tenant: the first 75 "
        "stored, the next 5 refused).",
        "- **interference**: during each phase the CPU time of the server process, of the client "
        "(this process), of every `postgres` process and of everything else is read from "
        "`/proc`; *other work* is CPU used by none of them.",
        "",
    ]
    for backend in backends:
        mine = [r for r in runs if r["backend"] == backend]
        header = "| | " + " | ".join(f"run {r['run']}" for r in mine) + " |"
        rule = "|---|" + "---:|" * len(mine)

        def row(
            label: str, cell: Callable[[dict[str, Any]], str], mine: list[dict[str, Any]] = mine
        ) -> str:
            return f"| {label} | " + " | ".join(cell(r) for r in mine) + " |"

        lines += [
            f"## {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}",
            "",
            header,
            rule,
            row("**single client p50 (ms)**", lambda r: f"**{_ms(r['sequential']['p50'])}**"),
            row("single client p95 (ms)", lambda r: _ms(r["sequential"]["p95"])),
            row("single client mean (ms)", lambda r: _ms(r["sequential"]["mean"])),
            row("single client min / max (ms)",
                lambda r: f"{_ms(r['sequential']['min'])} / {_ms(r['sequential']['max'])}"),
            row(f"{args.concurrency} clients: scans/s",
                lambda r: f"{r['concurrent']['scans_per_s']:.1f}"),
            row(f"{args.concurrency} clients: wall time for {args.requests} scans (s)",
                lambda r: f"{r['concurrent']['wall_s']:.2f}"),
            row(f"{args.concurrency} clients: p50 (ms)", lambda r: _ms(r["concurrent"]["p50"])),
            row(f"{args.concurrency} clients: p95 (ms)", lambda r: _ms(r["concurrent"]["p95"])),
            row("dry run p50 (ms)", lambda r: _ms(r["dry_run"]["p50"])),
            row("GET /report/{id} p50 (ms)", lambda r: _ms(r["get_report"]["p50"])),
            row("snapshot upload p50 (ms)", lambda r: _ms(r["upload_ms_p50"])),
            row("response size (bytes, /scan)", lambda r: f"{r['report']['bytes']:,}"),
            row("response size (bytes, GET report)", lambda r: f"{r['get_report']['bytes']:,}"),
            row("resources per report", lambda r: f"{r['report']['resources_scanned']:,}"),
            row("findings per report (+ unknown)",
                lambda r: f"{r['report']['findings']:,} (+{r['report']['unknown']:,})"),
            row("checks evaluated / failed",
                lambda r: "{checks_evaluated:,} / {checks_failed:,}".format(**r["report"])),
            row("errors (all phases)", lambda r: "; ".join(
                f"{k}: {_errors(r[k])}" for k in ("sequential", "dry_run", "get_report",
                                                   "concurrent") if r[k]["errors"]) or "none"),
            row("server CPU per scan, single client (ms)",
                lambda r: _ms(r["cpu_sequential"]["server_s"] * 1000 / r["sequential"]["n"])),
            row(f"server CPU per scan, {args.concurrency} clients (ms)",
                lambda r: _ms(r["cpu_concurrent"]["server_s"] * 1000 / r["concurrent"]["n"])),
            row(f"other work's share of the machine, single / {args.concurrency} clients",
                lambda r: f"{_share(r['cpu_sequential']):.0%} / {_share(r['cpu_concurrent']):.0%}"),
            row("load average before (1 min)", lambda r: f"{r['load_before'][0]:.2f}"),
            "",
        ]  # fmt: skip
        for r in mine:
            lines += [
                f"CPU during run {r['run']} ({backend}):",
                "",
                f"- single client: {_cpu(r['cpu_sequential'])}",
                f"- {args.concurrency} clients: {_cpu(r['cpu_concurrent'])}",
            ]
            busiest = [p for p in r["top_concurrent"] if "bench/api.py" not in p]
            if busiest:
                lines.append(f"- busiest other processes at the end of the {args.concurrency}-"
                             "client phase (`ps` %CPU, lifetime average): "
                             + "; ".join(f"`{p}`" for p in busiest[:3]))  # fmt: skip
            lines.append("")
    lines += ["## The target", ""]
    for backend in backends:
        p50s = [r["sequential"]["p50"] for r in runs if r["backend"] == backend]
        met = all(p < TARGET_P50_MS for p in p50s)
        verdict = "**met**" if met else "**not met**"
        lines.append(
            f"- {backend}: single-client p50 "
            + " and ".join(f"{_ms(p)} ms" for p in p50s)
            + f" for {snapshot.resources:,} resources without narratives: target p50 < "
            f"{TARGET_P50_MS:.0f} ms {verdict}."
        )
    lines.append("")
    lines += reading(runs, args)
    if profile:
        lines += render_profile(profile, runs)
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=2, help="runs of every backend")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="auto: when a single-client p50 misses the target")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--raw", type=Path, help="also write the measurements to this JSON file")
    parser.add_argument("--render-from", type=Path, help="render a --raw file; measure nothing")
    args = parser.parse_args(argv)
    if args.render_from:
        raw = orjson.loads(args.render_from.read_bytes())
        snapshot = Snapshot(body=b"", **raw["snapshot"])
        measured = argparse.Namespace(**raw["args"])
        text = render(raw["info"], snapshot, raw["runs"], measured, raw["argv"], raw["profile"])
        args.output.write_text(text + "\n")
        print(f"wrote {args.output}")
        return 0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - {"sqlite", "postgres"}:
        parser.error("--backends: sqlite and/or postgres")
    if args.requests < 2 or args.concurrency < 1 or args.resources < 1 or args.runs < 1:
        parser.error("--requests ≥ 2, --concurrency, --resources and --runs ≥ 1")

    info = machine()
    work = Path(tempfile.mkdtemp(prefix="tutela-api-bench-"))
    try:
        snapshot = build_snapshot(args.resources, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"snapshot: {snapshot.resources} resources, {snapshot.records} records, "
        f"{snapshot.size_bytes / 2**20:.2f} MiB (generate.py {snapshot.generated})",
        flush=True,
    )
    runs = []
    for number in range(1, args.runs + 1):
        for backend in backends:
            result = measure_backend(backend, snapshot, args)
            result["run"] = number
            runs.append(result)
            s, c = result["sequential"], result["concurrent"]
            print(
                f"run {number} {backend}: p50 {s['p50']:.0f} ms p95 {s['p95']:.0f} ms mean "
                f"{s['mean']:.0f} ms; {args.concurrency} clients {c['scans_per_s']:.1f} scans/s "
                f"p50 {c['p50']:.0f} p95 {c['p95']:.0f}; dry run {result['dry_run']['p50']:.0f} "
                f"ms; GET {result['get_report']['p50']:.1f} ms; other work "
                f"{result['cpu_sequential']['other_s']:.1f}/"
                f"{result['cpu_sequential']['capacity_s']:.1f} CPU-s",
                flush=True,
            )
    missed = any(r["sequential"]["p50"] >= TARGET_P50_MS for r in runs)
    profile = None
    if args.profile == "always" or (args.profile == "auto" and missed):
        profile = profile_scan(snapshot, repeat=15)
        print(
            f"in-process: scan {profile['scan_steps']['total']:.0f} ms, "
            f"GET report {profile['get_steps']['total']:.0f} ms",
            flush=True,
        )
    if args.raw:
        snapshot_fields = {k: v for k, v in vars(snapshot).items() if k != "body"}
        raw = {
            "info": info,
            "snapshot": snapshot_fields,
            "runs": runs,
            "args": {"requests": args.requests, "concurrency": args.concurrency},
            "argv": argv,
            "profile": profile,
        }
        args.raw.write_bytes(orjson.dumps(raw, option=orjson.OPT_INDENT_2))
    args.output.write_text(render(info, snapshot, runs, args, argv, profile) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
