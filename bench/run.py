"""Benchmark ``tutela scan`` against Checkov on generated AI estates; write bench/RESULTS.md.

    python bench/run.py --sizes 1000,10000,100000 --repeat 3

For each size: generate the estate (or reuse it), then time each scan as a separate process (wall
time; peak RSS from ``wait4``): ``--repeat`` rounds of Tutela, each on the Terraform plan, the plan
of a first deployment, the ARM template and the Resource Graph export in every output (table,
json, sarif), then Checkov on the two plans and the template (up to ``--checkov-max-size``).
Both tools run with no network (``unshare -rn`` when the kernel allows it, Checkov also with
``--skip-download`` and its own offline settings). Measurements are kept in
``bench/.data/results.json`` and merged, so sizes can be run separately; RESULTS.md is rendered
from all of them. ``--profile`` adds a cProfile of Tutela on the largest plans and export.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pstats
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from generate import GENERATOR  # noqa: E402
from results_md import checkov_version, machine, render  # noqa: E402

ROOT = BENCH.parent
DATA = BENCH / ".data"
CHECKOV_VENV = BENCH / ".venv-checkov"
CHECKOV_PIN = "checkov==3.3.30"
INPUTS = {
    "terraform": "plan.json",
    "first-deploy": "plan-first-deploy.json",
    "arm": "template.json",
    "arg": "arg.json",
}
FORMATS = ("table", "json", "sarif")  # table: the default, what a person runs
CHECKOV_FRAMEWORKS = {"terraform": "terraform_plan", "first-deploy": "terraform_plan", "arm": "arm"}
# Checkov offline: no platform mapping, no update check, no guideline download.
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
DEAD_PROXY = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}


@dataclass
class Run:
    wall_s: float
    peak_mib: float
    exit_code: int | None  # None: killed at the timeout
    load: float | None = None  # the 1-minute load average just before: other work skews times
    # The most memory the process and the workers it forked held at once: their proportional
    # set sizes (shared pages split between them), summed, sampled every SAMPLE_S. None: no
    # /proc here. ``peak_mib`` alone misses what a forked worker copies of its parent's pages.
    tree_peak_mib: float | None = None
    # This machine's speed just before the run: REFERENCE_CODE's time (see reference_seconds).
    reference_s: float | None = None


@dataclass
class Measurement:
    size: int
    input: str  # terraform, first-deploy, arm, arg
    tool: str  # tutela, checkov
    format: str  # json, sarif
    command: str
    runs: list[Run] = field(default_factory=list)
    timeout_s: float | None = None
    findings: int | None = None  # Tutela: findings (per control); Checkov: failed checks
    failed_pairs: int | None = None  # failing (check, resource) pairs, comparable across tools
    resources_seen: int | None = None
    failure: str | None = None  # why a run gave no result
    source: str | None = None  # digest of Tutela's source when measured (see source_digest)

    @property
    def key(self) -> str:
        return f"{self.size}/{self.input}/{self.tool}/{self.format}"


MEMORY_LIMIT = [0]  # bytes of address space a measured process may use; 0: no limit


def _limit_memory() -> None:
    if MEMORY_LIMIT[0]:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT[0], MEMORY_LIMIT[0]))


# A fixed pure-Python workload, timed in its own process before each Tutela run: a loop and a
# few hundred thousand small objects, what a scan is made of. A shared virtual machine's speed
# moves from one minute to the next (by a quarter and more here); this says how fast it was.
REFERENCE_CODE = """\
import time
started = time.perf_counter()
total = 0
for number in range(3_000_000):
    total += number
made = [{"id": str(number), "n": number} for number in range(300_000)]
print(time.perf_counter() - started)
"""


def reference_seconds() -> float | None:
    """How long REFERENCE_CODE takes now (None if it could not run)."""
    done = subprocess.run(  # noqa: S603 -- our own fixed code
        [sys.executable, "-c", REFERENCE_CODE], capture_output=True, text=True, check=False
    )
    try:
        return round(float(done.stdout), 3)
    except ValueError:
        return None


def measure(
    command: list[str], timeout: float, stdout: Path | None = None, *, reference: bool = False
) -> Run:
    """Run one process; its wall time and peak RSS (``wait4``: the child and what it waited for).

    With ``reference``, the machine's speed is timed first (``reference_seconds``).
    """
    speed = reference_seconds() if reference else None
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    load = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 -- our own fixed commands
        command,
        stdout=out,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=ROOT,
        preexec_fn=_limit_memory,  # safe here: no other thread runs before the fork
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        os.killpg(process.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    sampler = _TreeMemory(process.pid)
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:  # interrupted: leave no scan running behind us
        os.killpg(process.pid, signal.SIGKILL)
        raise
    finally:
        timer.cancel()
        sampler.stop()
        if stdout:
            out.close()  # type: ignore[union-attr]
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    code = None if killed.is_set() else process.returncode
    peak = round(usage.ru_maxrss / 1024, 1)
    return Run(round(wall, 3), peak, code, load, sampler.peak_mib, speed)


SAMPLE_S = 0.05


class _TreeMemory(threading.Thread):
    """Samples the summed PSS of a process and its children (``/proc/PID/task/PID/children``:
    a scan's forked workers) until stopped; ``peak_mib`` is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.readable = pid, 0, Path("/proc/self/smaps_rollup").exists()
        self._stop_event = threading.Event()
        if self.readable:
            self.start()

    @property
    def peak_mib(self) -> float | None:
        return round(self.peak_kib / 1024, 1) if self.readable else None

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join()

    def run(self) -> None:
        while not self._stop_event.wait(SAMPLE_S):
            self.peak_kib = max(self.peak_kib, self._sample())

    def _sample(self) -> int:
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return 0
        return sum(_pss_kib(pid) for pid in [str(self.pid), *children])


def _pss_kib(pid: str) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # ended meanwhile
        return 0
    found = re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE)
    return int(found.group(1)) if found else 0


def isolation() -> list[str]:
    """``unshare -rn`` (a new network namespace with no interfaces) when it works here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False)  # noqa: S603
    return [unshare, "-rn"] if probe.returncode == 0 else []


def checkov_binary(given: str | None) -> Path:
    """The Checkov to run: the one given, else bench/.venv-checkov's, created if missing."""
    if given:
        return Path(given)
    binary = CHECKOV_VENV / "bin" / "checkov"
    if not binary.exists():
        print(f"creating {CHECKOV_VENV} with {CHECKOV_PIN} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)  # noqa: S603
        pip = [str(CHECKOV_VENV / "bin" / "pip"), "install", "--quiet", CHECKOV_PIN]
        subprocess.run(pip, check=True)  # noqa: S603
    return binary


def estate_files(size: int, seed: int) -> Path:
    """Generate the estate of this size unless an identical one is already there."""
    directory = DATA / f"{size}-{seed}"
    manifest = directory / "manifest.json"
    if manifest.exists():
        known = orjson.loads(manifest.read_bytes())
        files = [directory / name for name in INPUTS.values()]
        wanted = (size, seed, GENERATOR)
        same = (known.get("size"), known.get("seed"), known.get("generator")) == wanted
        if same and all(f.exists() for f in files):
            return directory
    generate = [sys.executable, str(BENCH / "generate.py"), str(size), "--seed", str(seed)]
    subprocess.run([*generate, "--out", str(directory)], check=True)  # noqa: S603
    return directory


def tutela_command(path: Path, output_format: str, output: str = "/dev/null") -> list[str]:
    tutela = str(Path(sys.executable).parent / "tutela")
    return [tutela, "scan", str(path), "--format", output_format, "--output", output,
            "--fail-on", "none"]  # fmt: skip


def checkov_command(binary: Path, path: Path, framework: str) -> list[str]:
    return [str(binary), "-f", str(path), "--framework", framework, "--quiet", "--compact",
            "-o", "json", "--skip-download"]  # fmt: skip


def _shown(command: list[str]) -> str:
    """A command as RESULTS.md shows it: paths relative to the repository, no data directory."""
    words = []
    for word in command:
        if word.startswith(str(DATA)):
            word = "<dir>/" + Path(word).name
        elif word.startswith("/") and word != "/dev/null":  # an executable: its name will do
            word = Path(word).name
        words.append(word)
    return " ".join(words)


Counts = tuple[int | None, int | None, int | None]  # findings, failing pairs, resources seen


def count_tutela(path: Path, wrap: list[str], timeout: float) -> Counts:
    """An untimed scan that writes its report (it warms the caches, too): what it found."""
    report_path = path.parent / f"report-{path.stem}.json"
    run = measure([*wrap, *tutela_command(path, "json", str(report_path))], timeout)
    if run.exit_code != 0 or not report_path.exists():
        return None, None, None
    try:
        return _report_counts(report_path)
    finally:
        report_path.unlink()


def _report_counts(report_path: Path) -> Counts:
    """Read streaming: at 100,000 resources the report has a million findings (gigabytes).

    The top-level counts (indented two spaces) come before the findings; each finding has one
    ``control_id`` key, and a key's quotes cannot occur unescaped inside a string value.
    """
    with report_path.open("rb") as report:
        head = report.read(1 << 16)
        numbers: dict[bytes, int | None] = {}
        for key in (b"checks_failed", b"resources_scanned"):
            match = re.search(rb'\n  "%s": (\d+)' % key, head)
            numbers[key] = int(match.group(1)) if match else None
        report.seek(0)
        findings, carry, marker = 0, b"", b'"control_id":'
        while chunk := report.read(1 << 24):
            block = carry + chunk
            findings += block.count(marker)
            carry = block[-(len(marker) - 1) :]
    return findings, numbers[b"checks_failed"], numbers[b"resources_scanned"]


def count_checkov(output: Path) -> Counts:
    """Checkov's failed checks (each a failing check on one resource) and resources it read.

    From the ``summary`` that closes its JSON (one per framework), read from the end of the file:
    the failed checks before it can run to hundreds of megabytes.
    """
    try:
        with output.open("rb") as report:
            report.seek(max(0, output.stat().st_size - (1 << 16)))
            tail = report.read()
    except OSError:
        return None, None, None
    at = tail.rfind(b'"summary":')
    failed = re.search(rb'"failed": (\d+)', tail[at:]) if at >= 0 else None
    seen = re.search(rb'"resource_count": (\d+)', tail[at:]) if at >= 0 else None
    if failed is None or seen is None:
        return None, None, None
    return int(failed.group(1)), int(failed.group(1)), int(seen.group(1))


def source_digest() -> str:
    """A digest of Tutela's source files: measurements with different digests timed other code."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "tutela").rglob("*")):
        if path.suffix in (".py", ".yaml", ".json") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def bench_size(
    size: int, options: argparse.Namespace, wrap: list[str], results: dict[str, Any]
) -> list[Measurement]:
    """Tutela's runs in rounds, then Checkov's.

    Each round runs every input and output once, so the machine's speed, which moves from one
    minute to the next, falls on all of them alike rather than on whichever ran in a slow minute.
    """
    directory = estate_files(size, options.seed)
    manifest = orjson.loads((directory / "manifest.json").read_bytes())
    results.setdefault("inputs", {})[str(size)] = manifest
    timed: list[tuple[Measurement, list[str]]] = []
    for kind, name in ({} if options.no_tutela else INPUTS).items():
        path = directory / name
        counts = count_tutela(path, wrap, options.tutela_timeout)
        for output_format in FORMATS:
            command = tutela_command(path, output_format)
            shown = _shown(command)
            m = Measurement(
                size, kind, "tutela", output_format, shown, timeout_s=options.tutela_timeout
            )
            m.source = source_digest()
            m.findings, m.failed_pairs, m.resources_seen = counts
            timed.append((m, command))
    for _ in range(options.repeat):
        for m, command in timed:
            if m.failure:
                continue
            run = measure([*wrap, *command], options.tutela_timeout, reference=True)
            m.runs.append(run)
            if run.exit_code not in (0, None):  # --fail-on none: anything else is a crash
                m.failure = f"exit {run.exit_code} (out of memory?)"
    done = [m for m, _ in timed]
    for m in done:
        _report(m)
    if not options.no_checkov:
        not_run = results.setdefault("checkov_not_run", {})
        for kind in CHECKOV_FRAMEWORKS:
            if options.checkov_max_size and size > options.checkov_max_size:
                not_run[f"{size}/{kind}"] = (
                    f"N above --checkov-max-size {options.checkov_max_size:,}"
                )
                continue
            not_run.pop(f"{size}/{kind}", None)
            done.append(_bench_checkov(size, kind, directory / INPUTS[kind], options, wrap))
    return done


def _bench_checkov(
    size: int, kind: str, path: Path, options: argparse.Namespace, wrap: list[str]
) -> Measurement:
    command = checkov_command(options.checkov, path, CHECKOV_FRAMEWORKS[kind])
    m = Measurement(size, kind, "checkov", "json", _shown(command), timeout_s=options.timeout)
    repeat = 1 if size >= options.checkov_once_from else options.repeat
    output = path.parent / f"checkov-{kind}.json"
    for _ in range(repeat):
        run = measure([*wrap, *command], options.timeout, stdout=output)
        m.runs.append(run)
        if run.exit_code is None:
            break  # timed out: once is enough to know
        m.findings, m.failed_pairs, m.resources_seen = count_checkov(output)
        if m.findings is None:  # no report: it crashed (out of memory, most likely)
            m.failure = f"exit {run.exit_code} without a report"
            break
    output.unlink(missing_ok=True)
    _report(m)
    return m


def _report(m: Measurement) -> None:
    walls = [r.wall_s for r in m.runs]
    peak = max(r.peak_mib for r in m.runs)
    state = "timed out" if any(r.exit_code is None for r in m.runs) else m.failure or "ok"
    print(f"{m.key:<32} wall {statistics.median(walls):8.2f} s  peak {peak:7.0f} MiB  "
          f"findings {m.findings}  {state}", flush=True)  # fmt: skip


# The console script ends a scan with os._exit (no teardown): dump the profile just before it.
PROFILE_DRIVER = """\
import cProfile
import os
import sys

from tutela.cli.main import run

profile, out, leave = cProfile.Profile(), sys.argv.pop(1), os._exit


def dump_then_leave(code):
    profile.disable()
    profile.dump_stats(out)
    leave(code)


os._exit = dump_then_leave
profile.enable()
try:
    run()
finally:
    profile.disable()
    profile.dump_stats(out)
"""


def profile(size: int, seed: int, wrap: list[str]) -> dict[str, str]:
    """cProfile of ``tutela scan`` (json) on the plans and the export: top 15 by cumulative time."""
    directory = estate_files(size, seed)
    driver = DATA / "profile_driver.py"
    driver.write_text(PROFILE_DRIVER)
    tables = {}
    for kind in ("terraform", "first-deploy", "arg"):
        stats = DATA / f"profile-{size}-{kind}.prof"
        stats.unlink(missing_ok=True)
        arguments = tutela_command(directory / INPUTS[kind], "json")[1:]
        command = [*wrap, sys.executable, str(driver), str(stats), *arguments]
        subprocess.run(command, check=False, capture_output=True, preexec_fn=_limit_memory)  # noqa: S603
        tables[kind] = _top(stats, 15) if stats.exists() else "the profiled run failed"
    return tables


_CLI_FRAMES = ("/click/", "/typer/", "profile_driver", "builtins.exec")


def _top(stats_path: Path, count: int) -> str:
    """The top functions by cumulative time, below the CLI's own frames, and by own time."""
    stats = pstats.Stats(str(stats_path))
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{line}({function})" if line else function
        if any(frame in where for frame in _CLI_FRAMES):
            continue
        for marker in ("site-packages/", "/src/", "/lib/python3"):
            where = where.split(marker, 1)[-1]
        rows.append((cumulative, own, calls, where))
    total = stats.total_tt  # type: ignore[attr-defined]
    lines = [f"total {total:.2f} s under cProfile", ""]
    for title, key in (("cumulative", 0), ("own time", 1)):
        lines += [f"by {title}:", f"{'cumulative s':>12} {'own s':>8} {'calls':>10}  function"]
        for row in sorted(rows, key=lambda r: r[key], reverse=True)[:count]:
            lines.append(f"{row[0]:12.2f} {row[1]:8.2f} {row[2]:10,}  {row[3]}")
        lines.append("")
    return "\n".join(lines).rstrip()


def load_results() -> dict[str, Any]:
    path = DATA / "results.json"
    return orjson.loads(path.read_bytes()) if path.exists() else {"measurements": {}}


def save_results(results: dict[str, Any]) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--checkov", help="a checkov executable (default: bench/.venv-checkov's)")
    parser.add_argument("--no-checkov", action="store_true", help="time Tutela only")
    parser.add_argument(
        "--no-tutela",
        action="store_true",
        help="time Checkov only (Tutela's earlier measurements are kept)",
    )
    parser.add_argument("--timeout", type=float, default=1200, help="Checkov's limit per run, s")
    parser.add_argument("--tutela-timeout", type=float, default=600)
    parser.add_argument(
        "--checkov-once-from",
        type=int,
        default=100_000,
        help="from this size on, run Checkov once instead of --repeat times",
    )
    parser.add_argument(
        "--checkov-max-size",
        type=int,
        default=0,
        help="run Checkov only up to this size (RESULTS.md says where it was not run; earlier "
        "measurements are kept); 0 for no limit",
    )
    parser.add_argument(
        "--memory-limit-gib",
        type=float,
        default=12,
        help="address space each measured process may use (keeps a huge run from taking the "
        "machine down); 0 for none",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size")
    parser.add_argument("--render-only", action="store_true", help="rewrite RESULTS.md only")
    parser.add_argument(
        "--note", action="append", default=[], help="a line for RESULTS.md (kept; repeatable)"
    )
    options = parser.parse_args(argv)
    if options.no_checkov and options.no_tutela:
        parser.error("--no-checkov and --no-tutela leave nothing to time")
    sizes = [int(s) for s in options.sizes.split(",") if s.strip()]
    results = load_results()
    results["notes"] = [*results.get("notes", []), *options.note]
    wrap = isolation()
    MEMORY_LIMIT[0] = int(options.memory_limit_gib * 2**30)
    results["memory_limit_gib"] = options.memory_limit_gib
    if not options.render_only:
        if not options.no_checkov:
            options.checkov = checkov_binary(options.checkov)
            results["checkov_version"] = checkov_version(options.checkov)
        results["isolation"] = " ".join(Path(w).name for w in wrap) or "proxy to 127.0.0.1:9"
        os.environ.update(CHECKOV_ENV)
        if not wrap:
            os.environ.update(DEAD_PROXY)
        for size in sizes:
            for m in bench_size(size, options, wrap, results):
                results["measurements"][m.key] = asdict(m)
            save_results(results)
        if options.profile:
            results["profile"] = {"size": max(sizes), **profile(max(sizes), options.seed, wrap)}
        results["machine"] = machine()
        save_results(results)
    (BENCH / "RESULTS.md").write_text(render(results), encoding="utf-8")
    print(f"wrote {BENCH / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
