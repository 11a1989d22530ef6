"""RESULTS-api.md for a server of one process and of several worker processes (``--render-from``).

bench/ is not a package: its modules import each other by name, so the directory goes on the path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import api  # noqa: E402


def cpu(server_s: float, workers_s: list[float] | None = None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "wall_s": 1.0, "capacity_s": 2.0, "busy_s": 1.5, "server_s": server_s,
        "client_s": 0.3, "postgres_s": 0.0, "other_s": 1.2 - server_s,
    }  # fmt: skip
    if workers_s is not None:
        usage["workers_s"] = workers_s
    return usage


def latencies(p50: float, **more: Any) -> dict[str, Any]:
    return {"n": 10, "p50": p50, "p95": p50 * 1.2, "mean": p50, "min": p50 * 0.9,
            "max": p50 * 1.3, "errors": {}, **more}  # fmt: skip


def raw(args: dict[str, Any], workers_s: list[float] | None) -> dict[str, Any]:
    run = {
        "backend": "sqlite", "run": 1, "load_before": [0.5, 0.5, 0.5], "snapshot_resources": [10],
        "upload_ms_p50": 20.0, "sequential": latencies(80.0), "dry_run": latencies(70.0),
        "get_report": latencies(10.0, bytes=900, wire_bytes=300),
        "concurrent": latencies(400.0, wall_s=1.0, scans_per_s=20.0),
        "report": {"bytes": 900, "wire_bytes": 300, "content_encoding": "gzip",
                   "resources_scanned": 10, "findings": 5, "unknown": 0, "checks_evaluated": 40,
                   "checks_failed": 5, "aggregate_score": 90,
                   "severities": {"critical": 0, "high": 1, "medium": 2, "low": 2}},
        "cpu_sequential": cpu(0.8, workers_s and [0.8, 0.0]),
        "cpu_concurrent": cpu(1.1, workers_s), "top_concurrent": [],
    }  # fmt: skip
    versions = ("tutela", "fastapi", "starlette", "uvicorn", "pydantic", "SQLAlchemy", "psycopg",
                "orjson", "cryptography", "httpx", "python", "sqlite")  # fmt: skip
    return {
        "info": {"cpu": "CPU", "cores": 2, "ram_gib": 24, "os": "Linux", "measured": "now",
                 "versions": dict.fromkeys(versions, "1")},
        "snapshot": {"size_bytes": 1000, "subscription_id": "sub", "generated": 12, "records": 12,
                     "resources": 10, "diagnostics": 2, "by_type": {"t": 10}, "command": "gen"},
        "runs": [run], "args": args, "argv": [], "profile": None,
    }  # fmt: skip


def rendered(tmp_path: Path, data: dict[str, Any]) -> str:
    (tmp_path / "raw.json").write_bytes(orjson.dumps(data))
    output = tmp_path / "RESULTS-api.md"
    assert api.main(["--render-from", str(tmp_path / "raw.json"), "--output", str(output)]) == 0
    return output.read_text()


def test_a_file_of_one_process_renders_as_one_process(tmp_path: Path) -> None:
    # as written before --server-workers: no server_workers in its args
    text = rendered(tmp_path, raw({"requests": 10, "concurrency": 8}, None))
    assert "uvicorn 1 (one process, `tutela serve`)" in text
    assert "the CPU time of the server process, of the client" in text
    assert "one process running Python one thread at a time, so throughput ≈ 1 / CPU" in text
    assert "TUTELA_WORKERS" not in text
    assert "per worker" not in text


def test_workers_are_stated_and_their_cpu_shown(tmp_path: Path) -> None:
    args = {"requests": 10, "concurrency": 8, "server_workers": 2}
    text = rendered(tmp_path, raw(args, [0.8, 0.3]))
    assert "uvicorn 1 (2 worker processes under one `tutela serve`)" in text
    assert "TUTELA_RATE_LIMIT=100000/minute TUTELA_WORKERS=2\n" in text
    assert "the CPU time of the server (`tutela serve` and its 2 workers, summed)" in text
    assert (
        "- 8 clients: 1.0 s wall, 2.0 CPU-s available: server 1.1 (per worker 0.8 / 0.3)," in text
    )
    assert (
        "- single client: 1.0 s wall, 2.0 CPU-s available: server 0.8 (per worker 0.8 / 0.0),"
        in text
    )
    assert "2 worker processes, each running Python one thread at a time" in text
    assert "throughput ≈ 2 / CPU per scan at most, bounded by the cores" in text
    assert "one process" not in text
