"""Benchmark ``POST /scan`` of a real ``tutela serve`` process; write bench/RESULTS-api.md.

    python bench/api.py [--resources 1000] [--requests 60] [--concurrency 8]
                        [--backends sqlite,postgres] [--runs 2] [--profile auto|always|never]
                        [--server-workers 1]

For each run and each backend: a fresh data directory (and for PostgreSQL a fresh database on the
local server, dropped at the end), ``tutela db upgrade``, tenants on the enterprise plan made with
``tutela admin create-tenant`` (their owners' keys parsed from its output), then ``tutela serve``
on a free port with ``TUTELA_WORKERS=--server-workers`` (over 1: uvicorn's worker processes
under it, waited for until they all run and idle). Each tenant links one subscription and
uploads the same snapshot: ``--resources`` resources of one subscription of an estate from
``bench/generate.py``. Then, with httpx:

1. sequential: 3 warm-up requests, then ``--requests`` ``POST /scan`` (all 7 frameworks, no
   narratives) from one persistent client: p50, p95, mean;
2. ``--requests`` ``POST /scan/dry-run`` (scanned in full, neither stored nor counted) and
   ``--requests`` ``GET /report/{id}`` of the stored reports: where the time goes;
3. concurrent: ``--requests`` ``POST /scan`` spread over ``--concurrency`` threads, each with its
   own client: wall time, scans per second, p50 and p95 under load.

During each phase the CPU time of the server (``tutela serve`` and every process under it), of
this client, of PostgreSQL's processes and of everything else on the machine is read from /proc,
so interference from other work shows. If a target is missed (or with ``--profile always``)
in-process scans and report reads are timed step by step (with the GC's pauses, and what-ifs
with the GC frozen or off) and profiled.

``--raw FILE`` also writes the measurements as JSON; ``--render-from FILE`` rewrites the results
from such a file without measuring. Every phase runs for one tenant (its key shared by every
client): the issue's target is 8 concurrent clients on one tenant.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_cpu import cpu_sample, cpu_usage, top_processes, worker_usage
from api_profile import profile_scan
from api_render import machine, render
from api_server import (
    Server,
    Tenant,
    Timed,
    create_tenants,
    expect,
    load_snapshot,
    postgres_database,
    report_id_of,
    tutela,
    tutela_env,
)
from api_settings import (
    RESULTS,
    SCAN_BODY,
    TARGET_GET_P50_MS,
    TARGET_P50_MS,
    TARGET_P95_MS,
    WARM_UP,
)
from api_snapshot import Snapshot, build_snapshot


def phase(server: Server, run: Callable[[], Any]) -> tuple[Any, dict[str, Any], list[str]]:
    """Run a phase; return its result, the CPU used by whom, and the busiest processes.

    With workers, the CPU also has ``workers_s``: each worker's seconds, busiest first."""
    pid = server.process.pid
    before = cpu_sample(pid)
    result = run()
    after = cpu_sample(pid)
    usage: dict[str, Any] = cpu_usage(before, after)
    if server.workers > 1:
        usage["workers_s"] = worker_usage(before, after, pid)[: server.workers]
    return result, usage, top_processes(pid)


def measure_backend(backend: str, snapshot: Snapshot, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"backend": backend, "load_before": os.getloadavg()}
    work = Path(tempfile.mkdtemp(prefix=f"tutela-api-bench-{backend}-"))
    try:
        with contextlib.ExitStack() as stack:
            database_url = None
            if backend == "postgres":
                database_url = stack.enter_context(postgres_database())
                result["database"] = database_url.rsplit("/", 1)[1]
            env = tutela_env(work, database_url, args.server_workers)
            tutela(env, "db", "upgrade")
            started = time.perf_counter()
            [tenant] = create_tenants(env, 1, "bench")
            result["tenants"] = 1
            result["tenant_setup_s"] = time.perf_counter() - started
            server = Server(env, work / "serve.log")
            stack.callback(server.stop)
            server.wait_healthy()
            result["server_pid"] = server.process.pid
            result["server_workers"] = len(server.worker_pids()) if server.workers > 1 else 1
            client = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=120))
            # (uploaded three times, each replacing the last, for the upload's p50)
            uploads = [load_snapshot(client, tenant, snapshot) for _ in range(3)]
            result["snapshot_resources"] = sorted({u["resources"] for u in uploads})
            result["upload_ms_p50"] = statistics.median(u["upload_ms"] for u in uploads)
            result.update(measure(server, client, tenant, args))
            if backend == "sqlite":
                result["db_bytes"] = sum(
                    p.stat().st_size for p in work.glob("tutela.db*") if p.is_file()
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_after"] = os.getloadavg()
    return result


def measure(
    server: Server, client: httpx.Client, tenant: Tenant, args: argparse.Namespace
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    report_ids: list[str] = []
    for _ in range(WARM_UP):
        response = client.post("/scan", json=SCAN_BODY, headers=tenant.headers)
        report_ids.append(expect(response, "warm-up scan").json()["report_id"])

    def sequential_scans() -> Timed:
        timed = Timed()
        for _ in range(args.requests):
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
        "wire_bytes": last.num_bytes_downloaded,
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
            response = client.post("/scan/dry-run", json=SCAN_BODY, headers=tenant.headers)
            timed.add(started, response)
            size = len(response.content)
        return timed, size

    (timed, size), out["cpu_dry_run"], _ = phase(server, dry_runs)
    out["dry_run"] = {**timed.stats(), "bytes": size}

    def get_reports() -> tuple[Timed, int, int]:
        timed, size, wire = Timed(), 0, 0
        ids = report_ids[WARM_UP:] or report_ids
        for i in range(args.requests):
            rid = ids[i % len(ids)]
            started = time.perf_counter()
            response = client.get(f"/report/{rid}", headers=tenant.headers)
            timed.add(started, response)
            size, wire = len(response.content), response.num_bytes_downloaded
        return timed, size, wire

    (timed, size, wire), out["cpu_get_report"], _ = phase(server, get_reports)
    out["get_report"] = {**timed.stats(), "bytes": size, "wire_bytes": wire}

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
                    expect(own.get("/tenant/me", headers=tenant.headers), "tenant/me")
                    barrier.wait()
                    for _ in range(counts[t]):
                        started = time.perf_counter()
                        response = own.post("/scan", json=SCAN_BODY, headers=tenant.headers)
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=2, help="runs of every backend")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="auto: when a target is missed")  # fmt: skip
    parser.add_argument("--server-workers", type=int, default=1,
                        help="TUTELA_WORKERS of the server: its worker processes")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--raw", type=Path, help="also write the measurements to this JSON file")
    parser.add_argument("--render-from", type=Path, help="render a --raw file; measure nothing")
    args = parser.parse_args(argv)
    if args.render_from:
        raw = orjson.loads(args.render_from.read_bytes())
        snapshot = Snapshot(body=b"", **raw["snapshot"])
        measured = argparse.Namespace(**{"server_workers": 1, **raw["args"]})
        text = render(raw["info"], snapshot, raw["runs"], measured, raw["argv"], raw["profile"])
        args.output.write_text(text + "\n")
        print(f"wrote {args.output}")
        return 0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - {"sqlite", "postgres"}:
        parser.error("--backends: sqlite and/or postgres")
    if (
        args.requests < 2
        or min(args.concurrency, args.resources, args.runs, args.server_workers) < 1
    ):
        parser.error("--requests ≥ 2, --concurrency, --resources, --runs, --server-workers ≥ 1")

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
    missed = any(
        r[clients]["p50"] >= TARGET_P50_MS or r[clients]["p95"] >= TARGET_P95_MS
        for r in runs
        for clients in ("sequential", "concurrent")
    ) or any(r["get_report"]["p50"] >= TARGET_GET_P50_MS for r in runs)
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
            "args": {
                "requests": args.requests,
                "concurrency": args.concurrency,
                "server_workers": args.server_workers,
            },
            "argv": argv,
            "profile": profile,
        }
        args.raw.write_bytes(orjson.dumps(raw, option=orjson.OPT_INDENT_2))
    args.output.write_text(render(info, snapshot, runs, args, argv, profile) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
