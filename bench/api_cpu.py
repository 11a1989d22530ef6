"""CPU accounting from /proc: the server, this client, PostgreSQL and everything else."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> int:
    """utime + stime of a process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


def _busy_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


@dataclass
class CpuSample:
    wall: float
    busy: int
    total: int
    server: int
    client: float
    postgres: dict[int, int]


def cpu_sample(server_pid: int) -> CpuSample:
    busy, total = _busy_ticks()
    times = os.times()
    return CpuSample(
        wall=time.perf_counter(),
        busy=busy,
        total=total,
        server=_proc_cpu(server_pid),
        client=times.user + times.system,
        postgres={pid: _proc_cpu(pid) for pid in _postgres_pids()},
    )


def cpu_usage(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds used between two samples, by whom; ``capacity`` is cores x wall time."""
    busy = (after.busy - before.busy) / CLK_TCK
    server = (after.server - before.server) / CLK_TCK
    client = after.client - before.client
    postgres = (
        sum(ticks - before.postgres.get(pid, 0) for pid, ticks in after.postgres.items()) / CLK_TCK
    )
    wall = after.wall - before.wall
    return {
        "wall_s": wall,
        "capacity_s": (after.total - before.total) / CLK_TCK,
        "busy_s": busy,
        "server_s": server,
        "client_s": client,
        "postgres_s": postgres,
        "other_s": max(0.0, busy - server - client - postgres),
    }


def top_processes(server_pid: int, limit: int = 5) -> list[str]:
    """The processes using most CPU (``ps``: over their lifetime), the benchmark's left out."""
    done = subprocess.run(
        ["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu", "--no-headers"],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    own = {os.getpid(), server_pid}
    lines = []
    for line in done.stdout.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4 or int(parts[0]) in own or parts[3].startswith("ps "):
            continue
        if float(parts[1]) < 5.0:
            break
        lines.append(f"{parts[1]} % {parts[3][:110]}")
        if len(lines) == limit:
            break
    return lines
