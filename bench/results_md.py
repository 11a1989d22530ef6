"""RESULTS.md from the benchmark's measurements: machine, versions, commands, tables, targets."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import platform
import statistics
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from results_figures import median_wall as _median
from results_figures import peak_mib as _peak
from results_figures import reference_text
from results_figures import references as _references
from results_figures import select as _by
from results_figures import timed_out as _timed_out
from results_goals import goal_lines, growth_lines

INPUT_TITLES = {
    "terraform": "Terraform plan (`terraform show -json`)",
    "first-deploy": "Terraform plan of a first deployment (`terraform show -json | jq .`)",
    "arm": "ARM template",
    "arg": "Azure Resource Graph export (Tutela only: Checkov does not read Resource Graph)",
}
TARGET_SECONDS, TARGET_MIB, TARGET_SPEEDUP = 5.0, 1024.0, 20.0
CHECKOV_INPUTS = ("terraform", "first-deploy", "arm")  # what Checkov reads of the four


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    memory = next(
        (int(line.split()[1]) * 1024 for line in _read("/proc/meminfo").splitlines()
         if line.startswith("MemTotal")),
        0,
    )  # fmt: skip
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(memory / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "tutela": metadata.version("tutela"),
        "date": dt.date.today().isoformat(),
    }


def checkov_version(binary: Path) -> str:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    return done.stdout.strip() or "unknown"


def _wall_text(m: dict[str, Any]) -> str:
    if m.get("failure"):
        return f"failed after {m['runs'][-1]['wall_s']:.0f} s: {m['failure']}"
    if _timed_out(m):
        return f"timed out after {_limit(m):.0f} s"
    wall = _median(m)
    runs = len(m["runs"])
    return f"{wall:.2f}" + (f" (median of {runs})" if runs > 1 else " (1 run)")


def _rate(m: dict[str, Any]) -> str:
    wall = _median(m)
    if m.get("failure"):
        return "n/a"
    if wall is None:
        return f"< {m['size'] / _limit(m):,.0f}"
    return f"{m['size'] / wall:,.0f}"


def _limit(m: dict[str, Any]) -> float:
    """The time a run was stopped at: its timeout (Tutela's were not recorded before 2026-12)."""
    return float(m.get("timeout_s") or max(r["wall_s"] for r in m["runs"]))


def _speedup(measurements: dict[str, Any], size: int, kind: str, output: str = "json") -> str:
    tutela = _by(measurements, size=size, input=kind, tool="tutela", format=output)
    checkov = _by(measurements, size=size, input=kind, tool="checkov")
    if not tutela or not checkov or _median(tutela[0]) is None:
        return "n/a"
    fast = _median(tutela[0])
    assert fast is not None
    slow = _median(checkov[0])
    if checkov[0].get("failure"):
        return "n/a (Checkov gave no result)"
    if slow is None:
        return f"> {checkov[0]['timeout_s'] / fast:,.0f}x"
    return f"{slow / fast:,.1f}x"


def _table(
    measurements: dict[str, Any], kind: str, not_run: dict[str, str] | None = None
) -> list[str]:
    rows = [
        "| N | tool | output | wall s | peak MiB | resources/s | findings | failing pairs "
        "| resources seen | reference s |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in _by(measurements, input=kind):
        rows.append(
            f"| {m['size']:,} | {m['tool']} | {m['format']} | {_wall_text(m)} | {_peak(m):,.0f} "
            f"| {_rate(m)} | {_count(m['findings'])} | {_count(m['failed_pairs'])} "
            f"| {_count(m['resources_seen'])} | {reference_text(m)} |"
        )
    for key, reason in sorted((not_run or {}).items(), key=lambda item: int(item[0].split("/")[0])):
        size, skipped = key.split("/", 1)
        if skipped == kind and not _by(measurements, size=int(size), input=kind, tool="checkov"):
            rows.append(f"| {int(size):,} | checkov | json | not run: {reason} | | | | | | |")
    sizes = sorted({m["size"] for m in _by(measurements, input=kind, tool="checkov")})
    if sizes:
        rows += [
            "",
            "Speed-up (Checkov's wall time / Tutela's, Tutela writing table; json; sarif):",
            "",
        ]
        rows += [
            f"- N = {size:,}: "
            + "; ".join(_speedup(measurements, size, kind, f) for f in ("table", "json", "sarif"))
            for size in sizes
        ]
    return rows


def _count(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _linearity(measurements: dict[str, Any]) -> list[str]:
    sizes = sorted({m["size"] for m in measurements.values()})
    rows = ["| input | " + " | ".join(f"N = {s:,}" for s in sizes) + " |"]
    rows.append("|---|" + "---:|" * len(sizes))
    for kind in INPUT_TITLES:
        cells = []
        for size in sizes:
            wall = _wall(measurements, size, kind)
            cells.append("n/a" if wall is None else f"{wall / size * 1000:.3f} s")
        rows.append(f"| {kind} | " + " | ".join(cells) + " |")
    rows += [
        "",
        "Marginal time per 1,000 resources between consecutive sizes (startup cancels):",
        "",
    ]
    steps = list(itertools.pairwise(sizes))
    rows.append("| input | " + " | ".join(f"{a:,} → {b:,}" for a, b in steps) + " |")
    rows.append("|---|" + "---:|" * len(steps))
    for kind in INPUT_TITLES:
        cells = []
        for small, large in steps:
            walls = [_wall(measurements, size, kind) for size in (small, large)]
            if walls[0] is None or walls[1] is None:
                cells.append("n/a")
            else:
                cells.append(f"{(walls[1] - walls[0]) / (large - small) * 1000:.3f} s")
        rows.append(f"| {kind} | " + " | ".join(cells) + " |")
    return rows


def _wall(measurements: dict[str, Any], size: int, kind: str) -> float | None:
    found = _by(measurements, size=size, input=kind, tool="tutela", format="json")
    return _median(found[0]) if found else None


def _targets(measurements: dict[str, Any]) -> list[str]:
    largest = max((m["size"] for m in measurements.values()), default=0)
    lines = [f"At the largest size measured, N = {largest:,}, all 7 frameworks:", ""]
    if largest < 100_000:
        lines[0] += " (the targets are set for N = 100,000)"
    for kind in INPUT_TITLES:
        for output in ("table", "json", "sarif"):
            found = _by(measurements, size=largest, input=kind, tool="tutela", format=output)
            if not found:
                continue
            wall, peak = _median(found[0]), _peak(found[0])
            fast = wall is not None and wall < TARGET_SECONDS
            small = peak < TARGET_MIB
            walls = [r["wall_s"] for r in found[0]["runs"] if r["exit_code"] is not None]
            spread = f" (runs {min(walls):.2f} to {max(walls):.2f})" if len(walls) > 1 else ""
            references = _references(found[0])
            speed = (
                f"; reference workload {statistics.median(references):.2f} s" if references else ""
            )
            lines.append(
                f"- {kind}, {output}: {wall if wall is not None else float('nan'):.2f} s{spread} "
                f"({'met' if fast else 'NOT met'}: < {TARGET_SECONDS:.0f} s), "
                f"peak {peak:,.0f} MiB ({'met' if small else 'NOT met'}: < 1 GiB); "
                + _speedup_target(measurements, largest, kind, output)
                + speed
            )
    return lines


def _speedup_target(measurements: dict[str, Any], size: int, kind: str, output: str) -> str:
    if kind not in CHECKOV_INPUTS:
        return "no Checkov comparison (Checkov cannot read it)"
    speedup = _speedup(measurements, size, kind, output)
    text = f"speed-up over Checkov {speedup} (target ≥ {TARGET_SPEEDUP:.0f}x)"
    smaller = [s for s in _checkov_sizes(measurements, kind) if s < size]
    if smaller:
        ratio = _throughput(measurements, max(smaller), size, kind, output)[2]
        text += f", throughput {max(smaller):,} → {size:,} {ratio}"
    return text


def _checkov_sizes(measurements: dict[str, Any], kind: str) -> list[int]:
    return sorted({m["size"] for m in _by(measurements, input=kind, tool="checkov")})


def _marginal_rate(
    measurements: dict[str, Any], small: int, large: int, **wanted: Any
) -> tuple[float | None, str]:
    """Resources per second between two sizes, start-up cancelled: (N2 - N1) / (t2 - t1).

    The relation is "=" for two finished medians, "<" when the larger run timed out (its time is
    then at least the limit), "" when there is nothing to say.
    """
    found = [_by(measurements, size=size, **wanted) for size in (small, large)]
    if not found[0] or not found[1] or found[0][0].get("failure") or found[1][0].get("failure"):
        return None, ""
    first, second = _median(found[0][0]), _median(found[1][0])
    relation = "="
    if second is None:
        second, relation = _limit(found[1][0]), "<"
    if first is None or second <= first:  # noise at small sizes: no rate to give
        return None, ""
    return (large - small) / (second - first), relation


def _throughput(
    measurements: dict[str, Any], small: int, large: int, kind: str, output: str
) -> tuple[str, str, str]:
    """Tutela's and Checkov's marginal rates between two sizes, and their ratio, as text."""
    fast, _ = _marginal_rate(measurements, small, large, input=kind, tool="tutela", format=output)
    slow, relation = _marginal_rate(measurements, small, large, input=kind, tool="checkov")
    fast_text = "n/a" if fast is None else f"{fast:,.0f}"
    slow_text = "n/a" if slow is None else ("< " if relation == "<" else "") + f"{slow:,.0f}"
    if fast is None or slow is None:
        return fast_text, slow_text, "n/a"
    return fast_text, slow_text, ("> " if relation == "<" else "") + f"{fast / slow:,.0f}x"


def _throughputs(measurements: dict[str, Any]) -> list[str]:
    """Both tools' throughput once start-up is set aside, side by side."""
    lines = [
        "Resources per second between consecutive sizes, (N2 - N1) / (t2 - t1): the rate at which",
        "each tool gets through more resources once its start-up (interpreter, imports, the",
        "catalogue or the check registry) is paid. At N = 1,000 start-up is most of either tool's",
        "wall time, so the wall-time speed-ups above understate the difference in throughput.",
        "",
        "| input | N | Tutela output | Tutela resources/s | Checkov resources/s | ratio |",
        "|---|---|---|---:|---:|---:|",
    ]
    for kind in CHECKOV_INPUTS:
        for small, large in itertools.pairwise(_checkov_sizes(measurements, kind)):
            for output in ("table", "json", "sarif"):
                fast, slow, ratio = _throughput(measurements, small, large, kind, output)
                lines.append(
                    f"| {kind} | {small:,} → {large:,} | {output} | {fast} | {slow} | {ratio} |"
                )
    return lines if len(lines) > 7 else []


def render(results: dict[str, Any]) -> str:
    measurements: dict[str, Any] = results.get("measurements", {})
    host = results.get("machine", {})
    out = [
        "# Benchmark: Tutela and Checkov on generated AI estates",
        "",
        "Generated by `bench/run.py` (see bench/README.md). Do not edit by hand.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {host.get('cpu', '?')}, {host.get('cores', '?')} cores; "
        f"RAM {host.get('ram_gib', '?')} GiB; {host.get('os', '?')}",
        f"- Python {host.get('python', '?')}; tutela {host.get('tutela', '?')}; "
        f"checkov {results.get('checkov_version', 'not run')}",
        f"- Date: {host.get('date', '?')}; network: {results.get('isolation', '?')}; "
        f"address-space limit per process: {results.get('memory_limit_gib', '?')} GiB",
        *_load(measurements),
        *(f"- {note}" for note in results.get("notes", [])),
        "",
        "## Commands",
        "",
        "Each measured as its own process: wall time, and peak memory, the larger of the peak",
        "resident set size `wait4` reports (the process, or the largest process it waited for)",
        "and the largest sum of the proportional set sizes of the process and the workers it",
        "forked, sampled every 50 ms (a forked worker shares its parent's pages but copies those",
        "it touches: only the sum counts that). Checkov ran with",
        "`BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE` and no network.",
        "",
        "```",
        *sorted({m["command"] for m in measurements.values()}),
        "```",
        "",
    ]
    out += _sources(measurements)
    out += _inputs(results.get("inputs", {}))
    not_run = results.get("checkov_not_run", {})
    for kind, title in INPUT_TITLES.items():
        if _by(measurements, input=kind):
            out += [f"## {title}", "", *_shapes(results.get("inputs", {}), kind)]
            out += [*_table(measurements, kind, not_run), ""]
    throughputs = _throughputs(measurements)
    if throughputs:
        out += ["## Throughput: Tutela and Checkov with start-up set aside", "", *throughputs, ""]
    out += ["## Targets", "", *goal_lines(measurements), ""]
    out += ["Earlier targets (every input and output < 5 s, < 1 GiB, ≥ 20x Checkov):", ""]
    out += [*_targets(measurements), ""]
    out += ["## Growth: Tutela's time per 1,000 resources", "", *growth_lines(measurements), ""]
    out += ["Per size (json output):", "", *_linearity(measurements), ""]
    out += _profile(results.get("profile"))
    out += _notes()
    return "\n".join(out) + "\n"


def _load(measurements: dict[str, Any]) -> list[str]:
    loads = [r["load"] for m in measurements.values() for r in m["runs"] if r.get("load")]
    lines = []
    if loads:
        low, high = min(loads), max(loads)
        lines.append(f"- 1-minute load average before the measured runs: {low:.2f} to {high:.2f}")
    references = [s for m in measurements.values() for s in _references(m)]
    if references:
        lines.append(
            f"- The machine's speed: the reference workload (bench/run.py `REFERENCE_CODE`, a "
            f"fixed pure-Python loop and 300,000 small objects, timed before each Tutela run) "
            f"took {min(references):.2f} to {max(references):.2f} s, median "
            f"{statistics.median(references):.2f} s. The same code's times move with it."
        )
    return lines


def _sources(measurements: dict[str, Any]) -> list[str]:
    """Which Tutela source each size was timed on: figures of different code do not compare."""
    by_digest: dict[str, set[int]] = {}
    for m in measurements.values():
        if m["tool"] == "tutela":
            by_digest.setdefault(m.get("source") or "unknown", set()).add(m["size"])
    if not by_digest:
        return []
    if len(by_digest) == 1:
        return [f"Tutela source digest (bench/run.py `source_digest`): {next(iter(by_digest))}", ""]
    lines = ["**Tutela's source changed between sizes; compare with care:**", ""]
    for digest, sizes in sorted(by_digest.items()):
        lines.append(f"- {digest}: N = {', '.join(f'{s:,}' for s in sorted(sizes))}")
    return [*lines, ""]


def _inputs(inputs: dict[str, Any]) -> list[str]:
    if not inputs:
        return []
    out = [
        "## Inputs (`bench/generate.py N --seed 42`)",
        "",
        "| N | resource groups | plan.json | plan-first-deploy.json | template.json | arg.json "
        "| plan actions |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for size in sorted(inputs, key=int):
        manifest = inputs[size]
        if "files" not in manifest:
            continue
        files = {kind: f"{f['bytes'] / 2**20:.1f} MiB" for kind, f in manifest["files"].items()}
        actions = ", ".join(f"{k} {v:,}" for k, v in sorted(manifest["plan_actions"].items()))
        out.append(
            f"| {int(size):,} | {manifest['resource_groups']:,} | {files['terraform']} "
            f"| {files.get('first-deploy', 'not generated')} | {files['arm']} | {files['arg']} "
            f"| {actions} |"
        )
    return [*out, ""]


LAYOUTS = {
    "compact": "compact (one record a line)",
    "pretty": "pretty-printed (two spaces, one value a line, as `jq .` prints it)",
}


def _shapes(inputs: dict[str, Any], kind: str) -> list[str]:
    """Each size's file of this input as generated: size, layout, actions, unknown values."""
    lines = []
    for size in sorted(inputs, key=int):
        shape = inputs[size].get("files", {}).get(kind)
        if shape is None:
            continue
        text = f"- N = {int(size):,}: {shape['name']} {shape['bytes'] / 2**20:.1f} MiB"
        if "layout" in shape:
            text += f", {LAYOUTS[shape['layout']]}; {shape['resources']:,} records"
        if "actions" in shape:
            total = sum(shape["actions"].values()) or 1
            shares = ", ".join(f"{action} {count / total:.1%}"
                               for action, count in sorted(shape["actions"].items()))  # fmt: skip
            text += (
                f" ({shares}); {shape['unknown_share']:.1%} of values unknown "
                f"({shape['unknown_leaves']:,} `true` in after_unknown, "
                f"{shape['known_leaves']:,} known in after)"
            )
        lines.append(text)
    return [*lines, ""] if lines else []


def _profile(profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return []
    out = [f"## Where the time goes: cProfile, N = {profile['size']:,}, top 15 by cumulative", ""]
    for kind in ("terraform", "first-deploy", "arg"):
        if kind in profile:
            out += [f"### {INPUT_TITLES[kind].split(' (')[0]}", "", "```", profile[kind], "```", ""]
    return out


def _notes() -> list[str]:
    return [
        "## Reading the numbers",
        "",
        "- N counts resources, not resource groups. The plan holds N minus the blob services",
        "  (azurerm implies them from their accounts) plus the resource groups; the template",
        "  holds the N resources of one resource group.",
        "- findings: Tutela's report findings (one per failing pair per mapped control per",
        "  framework); Checkov's failed checks. failing pairs: failing (check, resource) pairs,",
        "  the comparable count. The two tools run different checks: the counts differ by design.",
        "- Tutela's counts come from one extra, untimed run that wrote its report.",
        "- resources/s is N over the median wall time; a timed-out run gives an upper bound.",
        "- Checkov 3.3.30's plan parser finds each planned resource's configuration by a linear",
        "  scan of all of them (checkov/terraform/plan_parser.py, parse_tf_plan), so its time on",
        "  plans grows with the square of N; its ARM parser reads the JSON template with a YAML",
        "  loader (checkov/arm/parser/parser.py).",
        "- Tutela's json report holds every finding with its narrative and evidence: about 10.3",
        "  findings per resource here, some 1.7 GB of JSON at N = 100,000. It is written from",
        "  parts encoded once (a check's texts, a control's, a result's) and streamed, so it costs",
        "  time but not memory. table and sarif show one row per failing (check, resource).",
        "- The API's `POST /scan` (1,000 resources, one client and 8, SQLite and PostgreSQL) is",
        "  measured by `bench/api.py`, which writes [RESULTS-api.md](RESULTS-api.md).",
    ]
