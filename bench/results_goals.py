"""Issue 22's targets for RESULTS.md: Tutela's time and memory at N = 100,000 on the inputs a
first deployment and an estate's owner give it, and time that grows linearly with N."""

from __future__ import annotations

import itertools
from typing import Any

from results_figures import median_wall, peak_mib, reference_text, references, select

GOAL_SIZE = 100_000
GOAL_MIB = 1024.0
# (input, its wall-time limit in seconds, whether its peak memory must stay under GOAL_MIB)
GOALS = (("first-deploy", 3.0, True), ("arm", 2.0, False), ("arg", 2.0, False))
GOAL_OUTPUTS = ("table", "sarif")
GROWTH_SIZES = (1_000, 10_000, 100_000)
GROWTH_TOLERANCE = 0.25
OUTPUTS = ("table", "json", "sarif")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def goal_lines(measurements: dict[str, Any]) -> list[str]:
    """Each of issue 22's targets at N = 100,000, met or not, with its figure."""
    timed = select(measurements, size=GOAL_SIZE, tool="tutela")
    speed = any(references(m) for m in timed)
    lines = [
        f"Issue 22, at N = {GOAL_SIZE:,}, all 7 frameworks"
        + (
            " (the reference workload's median time beside each: the targets were set on a "
            "machine where it took about 0.26 s)"
            if speed
            else ""
        )
        + ":",
        "",
    ]
    for kind, seconds, bounded in GOALS:
        for output in GOAL_OUTPUTS:
            found = select(measurements, size=GOAL_SIZE, input=kind, tool="tutela", format=output)
            if not found:
                lines.append(f"- {kind}, {output}: not measured at N = {GOAL_SIZE:,}")
                continue
            m = found[0]
            wall = median_wall(m)
            wall_text = "no result" if wall is None else f"{wall:.2f} s"
            text = (
                f"- {kind}, {output}: {wall_text} "
                f"({_verdict(wall is not None and wall < seconds)}: < {seconds:.0f} s)"
            )
            peak = peak_mib(m)
            if bounded:
                text += f", peak {peak:,.0f} MiB ({_verdict(peak < GOAL_MIB)}: < 1 GiB)"
            else:
                text += f", peak {peak:,.0f} MiB"
            lines.append(f"{text}; reference workload {reference_text(m)} s" if speed else text)
    return lines


def _marginal(measurements: dict[str, Any], kind: str, output: str) -> list[float | None]:
    """Seconds per extra 1,000 resources between consecutive GROWTH_SIZES (start-up cancels)."""
    walls = {}
    for size in GROWTH_SIZES:
        found = select(measurements, size=size, input=kind, tool="tutela", format=output)
        walls[size] = median_wall(found[0]) if found else None
    steps: list[float | None] = []
    for small, large in itertools.pairwise(GROWTH_SIZES):
        first, second = walls[small], walls[large]
        steps.append(None if first is None or second is None else
                     (second - first) / (large - small) * 1000)  # fmt: skip
    return steps


def growth_lines(measurements: dict[str, Any]) -> list[str]:
    """Linear growth: the marginal cost per 1,000 resources from 10,000 to 100,000 within 25 % of
    that from 1,000 to 10,000, per input and output."""
    kinds = sorted({m["input"] for m in select(measurements, tool="tutela")}, key=_input_order)
    lines = [
        "Linear growth (issue 22): the marginal time per extra 1,000 resources from 10,000 to",
        f"100,000 within {GROWTH_TOLERANCE:.0%} of that from 1,000 to 10,000:",
        "",
        "| input | output | 1,000 → 10,000 | 10,000 → 100,000 | change | within 25 % |",
        "|---|---|---:|---:|---:|---|",
    ]
    for kind in kinds:
        for output in OUTPUTS:
            low, high = _marginal(measurements, kind, output)
            cells = ["n/a" if cost is None else f"{cost:.4f} s" for cost in (low, high)]
            if low is None or high is None or low <= 0:
                change, verdict = "n/a", "not measured"
            else:
                ratio = round(high / low - 1, 4) + 0.0  # no "-0%"
                change = f"{ratio:+.0%}"
                verdict = _verdict(abs(ratio) <= GROWTH_TOLERANCE)
            lines.append(f"| {kind} | {output} | {cells[0]} | {cells[1]} | {change} | {verdict} |")
    return lines


INPUT_ORDER = ("terraform", "first-deploy", "arm", "arg")


def _input_order(kind: str) -> int:
    return INPUT_ORDER.index(kind) if kind in INPUT_ORDER else len(INPUT_ORDER)
