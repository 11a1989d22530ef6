"""Time the admin analytics endpoints on a large platform; write bench/RESULTS-analytics.md.

    python bench/analytics.py [--tenants 1000] [--reports 100000] [--runs 5]
                              [--backends sqlite,postgres] [--seed 42]

For each backend: a fresh, migrated database (SQLite in a temporary data directory; PostgreSQL a
fresh database on the local server, dropped at the end) filled by ``analytics_data.build``:
``--tenants`` tenants (three keys, a governance state and this month's scan usage each) and
``--reports`` reports spread over the last 365 days, each with its analytics counts (about 7
frameworks by 4 severities and 40 failed checks). Then the real app, in-process through
Starlette's TestClient, with an operator key: every endpoint once to warm up, then ``--runs``
times each; the p50 and the slowest of the runs, for the default 30-day range and for the
largest range allowed (366 days).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics_data import build
from api_server import postgres_database, postgres_version
from fastapi.testclient import TestClient

from tutela.server.admin import service as admin
from tutela.server.app import create_app
from tutela.server.auth.scopes import ROLE_SCOPES, Role
from tutela.server.config import Settings
from tutela.server.db import make_engine, refresh_statistics, transaction
from tutela.server.keys.service import issue_key
from tutela.server.migrate import upgrade
from tutela.server.runtime import Runtime

RESULTS = Path(__file__).resolve().parent / "RESULTS-analytics.md"
TARGET_MS = 1000.0


def cases(today: dt.date) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, path, query) of every request timed."""
    year = {"since": (today - dt.timedelta(days=365)).isoformat(), "until": today.isoformat()}
    return [
        ("scans, 30 days", "scans", {}),
        ("scans, 366 days", "scans", year),
        ("findings, 30 days", "findings", {}),
        ("findings, 366 days", "findings", year),
        ("checks (top 10), 30 days", "checks", {}),
        ("checks (top 10), 366 days", "checks", year),
        ("tenants, 30 days", "tenants", {}),
        ("tenants, 366 days", "tenants", year),
        ("quota (≥ 80 %, this month)", "quota", {}),
        ("governance, 30 days", "governance", {}),
        ("keys (within 30 days)", "keys", {"within_days": 30}),
    ]


@contextlib.contextmanager
def database(backend: str, data_dir: Path) -> Iterator[str]:
    if backend == "postgres":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{data_dir / 'tutela.db'}"


def operator_key(runtime: Runtime) -> str:
    with transaction(runtime.sessions) as session:
        owner = admin.ensure_operator(session, actor="bench", email="ops@bench.example")
        scopes = ROLE_SCOPES[Role.OPERATOR]
        return issue_key(
            session,
            runtime.key_policy(),
            owner=owner,
            name="bench",
            scopes=scopes,
            granter_scopes=scopes,
            actor="bench",
        ).secret


def measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="tutela-analytics-"))
    try:
        with database(backend, data_dir) as url:
            upgrade(url)
            engine = make_engine(url)
            started = time.perf_counter()
            now = dt.datetime.now(dt.UTC)
            built = build(
                engine, tenants=args.tenants, reports=args.reports, seed=args.seed, now=now
            )
            # Fresh statistics: on PostgreSQL (with the visibility map that index-only scans
            # read) as autovacuum keeps them after a bulk load; on SQLite as the retention job
            # keeps them (tutela.server.db.refresh_statistics).
            if backend == "postgres":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
                    vacuum.exec_driver_sql("VACUUM ANALYZE")
            else:  # what the retention job does daily
                refresh_statistics(engine)
            build_seconds = time.perf_counter() - started
            print(f"  built in {build_seconds:.0f} s: {built.rows}", flush=True)
            engine.dispose()
            settings = Settings(
                data_dir=data_dir, database_url=url, rate_limit="100000/minute", log_level="WARNING"
            )
            runtime = Runtime.start(settings)
            try:
                headers = {"X-API-Key": operator_key(runtime)}
                # Not entered: no lifespan, so no in-process scheduler scanning 1,000 tenants.
                client = TestClient(create_app(settings, runtime))
                timings = time_cases(client, headers, now.date(), args.runs)
            finally:
                runtime.close()
            size = (data_dir / "tutela.db").stat().st_size if backend == "sqlite" else None
            return {
                "backend": backend,
                "build_seconds": build_seconds,
                "rows": built.rows,
                "size_bytes": size,
                "timings": timings,
            }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def time_cases(
    client: TestClient, headers: dict[str, str], today: dt.date, runs: int
) -> list[dict[str, Any]]:
    timed = []
    for label, path, query in cases(today):
        url = f"/admin/analytics/{path}"
        response = client.get(url, headers=headers, params=query)  # warm-up
        response.raise_for_status()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url, headers=headers, params=query)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        timed.append(
            {
                "label": label,
                "p50_ms": statistics.median(samples),
                "max_ms": max(samples),
                "bytes": len(response.content),
            }
        )
        print(f"  {label}: p50 {statistics.median(samples):.1f} ms", flush=True)
    return timed


def render(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "# Admin analytics: response times on a large platform",
        "",
        "Written by `bench/analytics.py`; do not edit by hand. "
        f"{args.tenants:,} tenants, {args.reports:,} reports over the last 365 days; "
        f"p50 and slowest of {args.runs} runs after one warm-up, through the app in-process "
        "(TestClient: routing, auth, SQL, JSON). Target: each well under "
        f"{TARGET_MS:.0f} ms.",
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
        + (f", PostgreSQL {postgres_version()}" if "postgres" in args.backends else "")
        + f". Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    for result in results:
        rows = ", ".join(f"{table} {count:,}" for table, count in result["rows"].items())
        size = result["size_bytes"]
        lines += [
            f"## {result['backend']}",
            "",
            f"Built in {result['build_seconds']:.0f} s: {rows}."
            + (f" File: {size / 2**20:.0f} MiB." if size else ""),
            "",
            "| request | p50 (ms) | slowest (ms) | answer (bytes) |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {t['label']} | {t['p50_ms']:.1f} | {t['max_ms']:.1f} | {t['bytes']:,} |"
            for t in result["timings"]
        ]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.backends = args.backends.split(",")
    results = []
    for backend in args.backends:
        print(f"{backend}: building and timing", flush=True)
        results.append(measure(backend, args))
    args.out.write_text(render(results, args) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
