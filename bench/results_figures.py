"""Reading the benchmark's measurements: what each run gave, as RESULTS.md reports it."""

from __future__ import annotations

import statistics
from typing import Any


def median_wall(m: dict[str, Any]) -> float | None:
    """The median wall time of the runs that finished; None if none did or a run failed."""
    if m.get("failure"):
        return None
    finished = [r["wall_s"] for r in m["runs"] if r["exit_code"] is not None]
    return statistics.median(finished) if finished else None


def peak_mib(m: dict[str, Any]) -> float:
    """The most memory a run held: its largest process, or its processes' sampled sum if more."""
    return max(max(float(r["peak_mib"]), float(r.get("tree_peak_mib") or 0)) for r in m["runs"])


def references(m: dict[str, Any]) -> list[float]:
    """The machine's speed before each run: the reference workload's seconds (run.py)."""
    return [r["reference_s"] for r in m["runs"] if r.get("reference_s")]


def reference_text(m: dict[str, Any]) -> str:
    """The median reference time of a measurement's runs, or "n/a" (measured before it existed)."""
    found = references(m)
    return f"{statistics.median(found):.2f}" if found else "n/a"


def timed_out(m: dict[str, Any]) -> bool:
    return any(r["exit_code"] is None for r in m["runs"])


def select(measurements: dict[str, Any], **wanted: Any) -> list[dict[str, Any]]:
    """The measurements with these fields, by size, Tutela first, then by output."""
    found = [m for m in measurements.values() if all(m[k] == v for k, v in wanted.items())]
    return sorted(found, key=lambda m: (m["size"], m["tool"] != "tutela", m["format"]))
