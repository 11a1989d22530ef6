"""CPU accounting from /proc: the server, this client, PostgreSQL and everything else.

The server is the ``tutela serve`` process and all its descendants (with ``TUTELA_WORKERS`` > 1,
uvicorn's worker processes under it); a descendant that exited and was waited for is still
counted, through its parent's ``cutime`` and ``cstime``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    """One process as /proc/<pid>/stat shows it."""

    ppid: int
    comm: str
    ticks: int  # utime + stime
    reaped: int  # cutime + cstime: its descendants that exited and were waited for


def _processes() -> dict[int, Proc]:
    """Every process on the machine, by pid (those gone while /proc is read are left out)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            head, tail = stat.rsplit(")", 1)
            fields = tail.split()
            table[int(entry.name)] = Proc(
                ppid=int(fields[1]),
                comm=head.split("(", 1)[1],
                ticks=int(fields[11]) + int(fields[12]),
                reaped=int(fields[13]) + int(fields[14]),
            )
    return table


def process_tree(root: int, table: dict[int, Proc] | None = None) -> list[int]:
    """``root`` and all its descendants that are alive (or not yet waited for), root first."""
    table = _processes() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, proc in table.items():
        children.setdefault(proc.ppid, []).append(pid)
    tree = [root] if root in table else []
    for pid in tree:  # grows while it is walked: breadth first
        tree += children.get(pid, [])
    return tree


def tree_ticks(root: int, table: dict[int, Proc] | None = None) -> dict[int, int]:
    """Clock ticks of ``root`` and of each descendant, each with its reaped descendants."""
    table = _processes() if table is None else table
    return {pid: table[pid].ticks + table[pid].reaped for pid in process_tree(root, table)}


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
    # ticks of each process of the server, its reaped descendants included
    server_processes: dict[int, int]


def cpu_sample(server_pid: int) -> CpuSample:
    busy, total = _busy_ticks()
    times = os.times()
    table = _processes()
    server = tree_ticks(server_pid, table)
    return CpuSample(
        wall=time.perf_counter(),
        busy=busy,
        total=total,
        server=sum(server.values()),
        client=times.user + times.system,
        postgres={pid: p.ticks for pid, p in table.items() if p.comm == "postgres"},
        server_processes=server,
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


def worker_usage(before: CpuSample, after: CpuSample, server_pid: int) -> list[float]:
    """CPU seconds each process under ``tutela serve`` (its workers) used, busiest first."""
    used = [
        (ticks - before.server_processes.get(pid, 0)) / CLK_TCK
        for pid, ticks in after.server_processes.items()
        if pid != server_pid
    ]
    return sorted(used, reverse=True)


def top_processes(server_pid: int, limit: int = 5) -> list[str]:
    """The processes using most CPU (``ps``: over their lifetime), the benchmark's left out."""
    done = subprocess.run(
        ["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu", "--no-headers"],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    own = {os.getpid(), *process_tree(server_pid)}
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
