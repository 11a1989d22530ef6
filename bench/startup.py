"""Time the start-up of ``tutela`` and of Checkov side by side; write bench/RESULTS-startup.md.

    python bench/startup.py --runs 20 [--compare /tmp/base/src] [--checkov PATH]

Each command runs ``--runs`` times as a separate process, the commands taking turns so that a
busy machine slows them alike: wall time (median, p95), CPU time (user + system, from
``wait4``; it is what a loaded machine disturbs least), then one ``python -X importtime`` run
each (the sum of every module's own import time, and how many modules). The interpreter's own
start-up is the floor. ``--compare SRC`` adds the Tutela of another source tree (``git archive
HEAD src | tar -x -C /tmp/base``) run the same way, so a change is measured before and after in
the same minute. Bytecode is written (``PYTHONDONTWRITEBYTECODE`` removed) and every command
runs once before timing, as an installed package has its ``.pyc`` files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS-startup.md"
TUTELA = Path(sys.executable).parent / "tutela"
# Checkov offline: no platform mapping, no update check (as in run.py).
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
# What a command with parameters imports before it runs: typer 0.29 parses every parameter
# through a pydantic TypeAdapter (typer/_coercion.py → typer/_adapters.py).
TYPER_FLOOR = "python -c 'import typer; from pydantic import TypeAdapter'"
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|")

SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000001"
STORAGE = {
    "name": "stone",
    "location": "westeurope",
    "kind": "StorageV2",
    "sku": {"name": "Standard_LRS"},
    "properties": {
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "supportsHttpsTrafficOnly": True,
    },
}


@dataclass
class Command:
    label: str
    argv: list[str]  # after the interpreter: a script and its arguments
    python: str = sys.executable
    env: dict[str, str] = field(default_factory=dict)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    imports_ms: float = 0.0
    modules: int = 0
    exit_code: int = 0


def one_resource_inputs(directory: Path) -> tuple[Path, Path]:
    """A Resource Graph export and an ARM template, each of one storage account."""
    resource_id = f"{SUBSCRIPTION}/resourceGroups/rg-one/providers/Microsoft.Storage/"
    arg = {
        "count": 1,
        "data": [
            {
                **STORAGE,
                "id": f"{resource_id}storageAccounts/stone",
                "type": "microsoft.storage/storageaccounts",
                "resourceGroup": "rg-one",
                "subscriptionId": SUBSCRIPTION.rsplit("/", 1)[1],
            }
        ],
    }
    arm = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {**STORAGE, "type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01"}
        ],
    }
    (directory / "arg.json").write_bytes(orjson.dumps(arg))
    (directory / "template.json").write_bytes(orjson.dumps(arm))
    return directory / "arg.json", directory / "template.json"


def tutela_commands(label: str, inputs: tuple[Path, Path], env: dict[str, str]) -> list[Command]:
    scan = ["--format", "table", "--output", "/dev/null", "--fail-on", "none"]
    launcher = [str(TUTELA)]
    return [
        Command(f"{label} --help", [*launcher, "--help"], env=env),
        Command(f"{label} version", [*launcher, "version"], env=env),
        Command(
            f"{label} scan (1-resource Resource Graph export)",
            [*launcher, "scan", str(inputs[0]), *scan],
            env=env,
        ),
        Command(
            f"{label} scan (1-resource ARM template)",
            [*launcher, "scan", str(inputs[1]), *scan],
            env=env,
        ),
    ]


def checkov_commands(binary: Path, template: Path) -> list[Command]:
    python = binary.parent / "python"
    scan = ["-f", str(template), "--framework", "arm", "--quiet", "--compact", "--skip-download"]
    return [
        Command("checkov --help", [str(binary), "--help"], str(python), CHECKOV_ENV),
        Command("checkov --version", [str(binary), "--version"], str(python), CHECKOV_ENV),
        Command(
            "checkov scan (1-resource ARM template)", [str(binary), *scan], str(python), CHECKOV_ENV
        ),
    ]


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


def run_once(command: Command, *flags: str) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), exit code and stderr of one run."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603
            [command.python, *flags, *command.argv],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=_environment(command.env),
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    return wall, usage.ru_utime + usage.ru_stime, process.returncode, text


def measure(commands: list[Command], runs: int) -> None:
    for command in commands:  # warm: bytecode written, files in the page cache
        run_once(command)
    for _ in range(runs):
        for command in commands:
            wall, cpu, command.exit_code, _ = run_once(command)
            command.wall.append(wall)
            command.cpu.append(cpu)
    for command in commands:
        _, _, _, stderr = run_once(command, "-X", "importtime")
        times = [int(m.group(1)) for m in _IMPORT_LINE.finditer(stderr)]
        command.imports_ms, command.modules = sum(times) / 1000, len(times)


def _ms(values: list[float], quantile: float) -> str:
    ordered = sorted(values)
    if quantile == 0.5:
        return f"{statistics.median(ordered) * 1000:.0f}"
    return f"{ordered[min(len(ordered) - 1, round(quantile * (len(ordered) - 1)))] * 1000:.0f}"


def machine() -> list[str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return [
        f"- machine: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        f"- load average when run (1, 5, 15 min): {load}",
        f"- Python {platform.python_version()}, Tutela {metadata.version('tutela')}, "
        f"typer {metadata.version('typer')}, rich {metadata.version('rich')}, "
        f"pydantic {metadata.version('pydantic')}",
    ]


def render(commands: list[Command], runs: int, checkov: str) -> str:
    rows = [
        f"| {c.label} | {_ms(c.wall, 0)} | {_ms(c.wall, 0.5)} | {_ms(c.wall, 0.95)} "
        f"| {_ms(c.cpu, 0.5)} "
        f"| {c.imports_ms:.0f} | {c.modules} | {c.exit_code} |"
        for c in commands
    ]
    return "\n".join(
        [
            "# Start-up: `tutela` and Checkov",
            "",
            "Written by `bench/startup.py`; do not edit by hand. Each command ran as a separate "
            f"process, {runs} times, the commands taking turns, after one warm-up run each. "
            "Wall and CPU (user + system) are milliseconds (the minimum is the run least "
            "disturbed by the machine's other work); imports is the sum of every "
            "module's own time in one `python -X importtime` run (it slows imports down, so it "
            "is larger than the share of the wall time imports really take), and modules their "
            "number. The interpreter rows are the floor: what any Python command costs here.",
            "",
            f"Measured {dt.date.today().isoformat()}:",
            *machine(),
            f"- Checkov: {checkov}",
            "",
            "| command | wall min | wall median | wall p95 | CPU median | imports | modules "
            "| exit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "The 1-resource inputs are one storage account, as a Resource Graph export and as an "
            "ARM template (Checkov does not read Resource Graph exports); each scan writes a "
            "table to /dev/null with `--fail-on none` (Checkov: `--framework arm --quiet "
            "--compact --skip-download`). `tutela --version` is not an option: the version "
            "is the `version` command. The row `import typer; from pydantic import TypeAdapter` "
            "is the floor of any command that takes options: typer 0.29 parses each one "
            "through a pydantic `TypeAdapter`, so typer and pydantic are imported before the "
            "command runs (`tutela --help` parses none).",
            "",
        ]
    )


def checkov_binary(given: str | None) -> Path | None:
    if given:
        return Path(given)
    beside = Path(sys.executable).parent / "checkov"
    for candidate in (BENCH / ".venv-checkov" / "bin" / "checkov", beside):
        if candidate.exists():
            return candidate
    found = shutil.which("checkov")
    return Path(found) if found else None


def _version(binary: Path) -> str:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    return done.stdout.strip() or "unknown"


def _shown(path: Path) -> Path:
    root = BENCH.parent
    return path.relative_to(root) if path.is_relative_to(root) else path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--compare", type=Path, help="another Tutela source tree (its src/)")
    parser.add_argument("--compare-label", help="how the table names it (default: its path)")
    parser.add_argument("--checkov", help="a checkov executable (default: bench/.venv-checkov's)")
    parser.add_argument("--no-checkov", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        inputs = one_resource_inputs(Path(scratch))
        commands = [
            Command("python -c pass", ["-c", "pass"]),
            Command("python -S -c pass", ["-S", "-c", "pass"]),
            Command("python -I -S -c pass", ["-I", "-S", "-c", "pass"]),
            Command(TYPER_FLOOR, ["-c", "import typer; from pydantic import TypeAdapter"]),
            *tutela_commands("tutela", inputs, {}),
        ]
        if options.compare is not None:
            compared = {"PYTHONPATH": str(options.compare.resolve())}
            label = options.compare_label or str(options.compare)
            commands += tutela_commands(f"tutela ({label})", inputs, compared)
        binary = None if options.no_checkov else checkov_binary(options.checkov)
        checkov = "not measured (none found: --checkov PATH, or run bench/run.py once)"
        if binary is not None:
            commands += checkov_commands(binary, inputs[1])
            checkov = f"{_version(binary)} ({_shown(binary)})"
        measure(commands, options.runs)
    text = render(commands, options.runs, checkov)
    options.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
