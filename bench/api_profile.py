"""One scan and one report read in-process, timed step by step and profiled (``--profile``)."""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api_server import Tenant, load_snapshot
from api_settings import FRAMEWORKS, RATE_LIMIT, ROOT
from api_snapshot import Snapshot

from tutela.scanner.outputs.deflating import Deflated
from tutela.scanner.outputs.report_json import ReportDocument
from tutela.server.responses import EncodedReport

SCAN_STEPS = {
    "read": "read: tenant, plan, quota, house policy; the snapshot (`tenant_source`)",
    "snapshot": "  of which the snapshot: open, decrypt, parse (`snapshot_estate`)",
    "scan": "scan: engine, scores, report document (`run_scan`)",
    "encode": "encode the findings once, compressed as they go (zlib, in a worker thread), "
    "before the write transaction; again in store, the opening members only "
    "(`ReportDocument.compressed`)",
    "store": "store: the report id, its opening members compressed, seal (AES-GCM), insert "
    "(`store_report`)",
    "render": "the gzip answer: the stored stream in a gzip header and trailer (`EncodedReport`)",
}


GET_STEPS = {
    "open": "read the row, unwrap, decrypt; the report's stream (`read_report_deflated`)",
    "render": "the gzip answer: the stored stream in a gzip header and trailer (`EncodedReport`)",
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


class Body:
    """What answering a client that accepts gzip (httpx, the SDK) costs the server: the answer's
    body made (the socket set aside)."""

    @staticmethod
    def send(report: Deflated) -> int:
        return len(EncodedReport(report, "gzip").body)


def profile_scan(snapshot: Snapshot, repeat: int) -> dict[str, Any]:
    """Scans and GET reports in-process, for one tenant (SQLite): step timings, GC, cProfile."""
    sys.path.insert(0, str(ROOT))
    from tests.platform import Platform

    from tutela.server.config import Settings
    from tutela.server.db import transaction, utcnow
    from tutela.server.migrate import upgrade
    from tutela.server.reports import service as reports
    from tutela.server.scans import service

    work = Path(tempfile.mkdtemp(prefix="tutela-api-profile-"))
    try:
        upgrade(f"sqlite:///{work / 'tutela.db'}")
        settings = Settings(data_dir=work, rate_limit=RATE_LIMIT, log_level="WARNING")
        with Platform(settings) as running:
            runtime = running.runtime
            tenant = running.tenant("enterprise")
            load_snapshot(running.client, Tenant(tenant.id, tenant.owner_key), snapshot)
            caller = runtime.verifier.verify(tenant.owner_key)
            options = service.ScanOptions(frameworks=FRAMEWORKS, generate_narrative=False)
            stored: list[str] = []

            def scan(_: int) -> None:
                document = service.scan_subscriptions(runtime, caller, options)
                Body.send(document.deflated())
                stored.append(document.header["report_id"])

            def get(i: int) -> None:
                report_id = stored[i % len(stored)]
                with transaction(runtime.sessions, readonly=True) as session:
                    stream = reports.read_report_deflated(
                        session, caller, runtime.catalog, runtime.keyring, report_id, utcnow()
                    )
                Body.send(stream)

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
                timer.wrap(service, "tenant_source", "read")
                timer.wrap(service, "snapshot_estate", "snapshot")
                timer.wrap(service, "run_scan", "scan")
                timer.wrap(service, "store_report", "store")
                timer.wrap(ReportDocument, "compressed", "encode")
                timer.wrap(Body, "send", "render")
                scans = steps(scan, timer)
            with StepTimer() as timer:
                timer.wrap(reports, "read_report_deflated", "open")
                timer.wrap(Body, "send", "render")
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
