"""RESULTS-api.md from the measurements (``args.server_workers``: the server's worker processes)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import sqlite3
import statistics
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
from api_profile import GET_STEPS, SCAN_STEPS
from api_server import postgres_version
from api_settings import (
    RATE_LIMIT,
    SCAN_BODY,
    SEED,
    TARGET_GET_P50_MS,
    TARGET_P50_MS,
    TARGET_P95_MS,
    WARM_UP,
)
from api_snapshot import Snapshot


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


def _cpu(usage: dict[str, Any]) -> str:
    workers = usage.get("workers_s")
    return (
        f"{usage['wall_s']:.1f} s wall, {usage['capacity_s']:.1f} CPU-s available: server "
        f"{usage['server_s']:.1f}"
        + (f" (per worker {' / '.join(f'{w:.1f}' for w in workers)})" if workers else "")
        + f", client {usage['client_s']:.1f}, PostgreSQL "
        f"{usage['postgres_s']:.1f}, **other work {usage['other_s']:.1f}** "
        f"({_share(usage):.0%} of the machine)"
    )


def _serving(workers: int) -> str:
    """What throughput one server can reach, from its processes."""
    if workers == 1:
        return (
            "one process running Python one thread at a time, so throughput ≈ 1 / CPU per scan "
            "and extra clients only queue"
        )
    return (
        f"{workers} worker processes, each running Python one thread at a time, so throughput "
        f"≈ {workers} / CPU per scan at most, bounded by the cores (which the clients share), "
        "and clients beyond that only queue; a client keeps its connection, and so the worker "
        "that accepted it (the CPU per worker above shows how evenly the clients were spread)"
    )


def reading(runs: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """What the figures say, computed from them."""
    lines = ["## Reading the figures", ""]
    serving = _serving(args.server_workers)
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
        other = median(lambda r: _share(r["cpu_sequential"]))
        why = (
            "so the latency is CPU, not waiting"
            if other < 0.2
            else f"while other work used {other:.0%} of the machine: the rest of the latency "
            "is waiting for a core"
        )
        lines.append(
            f"- {backend} (medians of the runs): a scan p50 {scan:.0f} ms, of which storing the "
            f"report ≈ {scan - dry:.0f} ms (scan p50 - dry run p50); the server spends "
            f"{cpu:.0f} ms of CPU per scan, {why}. With "
            f"{args.concurrency} clients it did {rate:.1f} scans/s using {cores:.2f} cores: "
            f"{serving}. Reading a stored report back (`GET`) takes {fetch:.0f} ms."
        )
    report = runs[0]["report"]
    lines += [
        f"- Every /scan response is {report['bytes'] / 2**20:.1f} MiB: {report['findings']:,} "
        f"findings (one per failing check result and mapped control; "
        f"{report['checks_failed']:,} failing check results on "
        f"{report['resources_scanned']:,} resources). The server encodes it once, compressing "
        "it as it goes (ISA-L level 1, zlib format), to seal and store it; a client that "
        "accepts gzip or deflate is sent those compressed bytes as they are "
        f"({report.get('wire_bytes', 0) / 2**10:,.0f} KiB on the wire, "
        f"`Content-Encoding: {report['content_encoding']}`) and decodes them itself; "
        "`GET /report/{id}` sends the stored bytes the same way, neither inflated nor "
        "compressed again.",
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


def targets(
    runs: list[dict[str, Any]], backends: list[str], snapshot: Snapshot, args: argparse.Namespace
) -> list[str]:
    """Issue 22's targets, met or not on each backend (every run must meet one)."""
    lines = [
        "## The targets",
        "",
        f"Issue 22: `POST /scan` of {snapshot.resources:,} resources (no narratives) p50 < "
        f"{TARGET_P50_MS:.0f} ms and p95 < {TARGET_P95_MS:.0f} ms with {args.concurrency} "
        "concurrent clients on one tenant and no errors, on SQLite and PostgreSQL; `GET "
        f"/report/{{id}}` p50 < {TARGET_GET_P50_MS:.0f} ms. Each is given for one client too.",
        "",
        "| | target | " + " | ".join(backends) + " |",
        "|---|---|" + "---|" * len(backends),
    ]
    checks: list[tuple[str, str, Callable[[dict[str, Any]], float], float]] = [
        ("single client p50 (ms)", "<", lambda r: r["sequential"]["p50"], TARGET_P50_MS),
        ("single client p95 (ms)", "<", lambda r: r["sequential"]["p95"], TARGET_P95_MS),
        (f"{args.concurrency} clients p50 (ms)", "<", lambda r: r["concurrent"]["p50"],
         TARGET_P50_MS),
        (f"{args.concurrency} clients p95 (ms)", "<", lambda r: r["concurrent"]["p95"],
         TARGET_P95_MS),
        (f"{args.concurrency} clients errors", "=", lambda r: sum(r["concurrent"]["errors"]
         .values()), 0),
        ("GET /report/{id} p50 (ms)", "<", lambda r: r["get_report"]["p50"], TARGET_GET_P50_MS),
    ]  # fmt: skip
    for label, sign, value, target in checks:
        cells = []
        for backend in backends:
            values = [value(r) for r in runs if r["backend"] == backend]
            met = all(v < target if sign == "<" else v == target for v in values)
            shown = " / ".join(_ms(v) if sign == "<" else f"{v:.0f}" for v in values)
            cells.append(f"{shown}: **{'met' if met else 'not met'}**")
        lines.append(f"| {label} | {sign} {target:.0f} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


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
    workers: int = args.server_workers
    processes = (
        "one process, `tutela serve`"
        if workers == 1
        else f"{workers} worker processes under one `tutela serve`"
    )
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
        f"{v['starlette']}, uvicorn {v['uvicorn']} ({processes}), pydantic "
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
        f"TUTELA_RATE_LIMIT={RATE_LIMIT}" + (f" TUTELA_WORKERS={workers}" if workers > 1 else ""),
        "# postgres only: CREATE DATABASE tutela_bench_<random> on 127.0.0.1:5432, then",
        "#   export TUTELA_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/"
        "tutela_bench_<random>",
        "tutela db upgrade",
        "tutela admin create-tenant --email bench0@bench.example --plan enterprise"
        "   # one tenant; its owner's key parsed",
        "tutela serve --port <free port>   # waited for until GET /health is 200",
        "PUT /tenant/subscriptions {subscription_ids: [<sub>]}; PUT /tenant/subscriptions/<sub>"
        "/snapshot <export>",
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
        "- **one tenant**: every phase and every client thread scans for the same tenant with "
        "its owner's key, so the concurrent phase stores bursts of reports of one tenant in the "
        "same seconds: a report id is the second of its scan, then `-2`, `-3`, … for the "
        "tenant's further reports of that second (`reports/ids.py`); none is refused.",
        "- **the client** is httpx with its default `Accept-Encoding: gzip, deflate` (as the SDK "
        "asks for gzip): latency includes the client decoding the answer; *wire bytes* are what "
        "came over the socket, *bytes* the JSON decoded.",
        "- **interference**: during each phase the CPU time of the server "
        + ("process" if workers == 1 else f"(`tutela serve` and its {workers} workers, summed)")
        + ", of the client (this process), of every `postgres` process and of everything else "
        "is read from `/proc`; *other work* is CPU used by none of them.",
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
            row("response on the wire (bytes, /scan; coding)", lambda r:
                f"{r['report'].get('wire_bytes', 0):,}; {r['report']['content_encoding']}"),
            row("response size (bytes, GET report)", lambda r: f"{r['get_report']['bytes']:,}"),
            row("response on the wire (bytes, GET report)",
                lambda r: f"{r['get_report'].get('wire_bytes', 0):,}"),
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
    lines += targets(runs, backends, snapshot, args)
    lines += reading(runs, args)
    if profile:
        lines += render_profile(profile, runs)
    return "\n".join(lines)
