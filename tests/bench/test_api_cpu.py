"""The API benchmark's CPU accounting: the server is ``tutela serve`` and every process under it.

bench/ is not a package: its modules import each other by name, so the directory goes on the path.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from api_cpu import cpu_sample, cpu_usage, process_tree, top_processes, worker_usage  # noqa: E402

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

# A child that burns `burn` s of CPU, says so, then sleeps (or exits); its parent, which uses
# almost none, says when it waited for an exited child (its CPU then is the parent's cutime).
CHILD = """
import sys, time
while time.process_time() < {burn}: pass
print("burnt", flush=True)
if {stay}: time.sleep(60)
"""
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", {child!r}])
print(child.pid, flush=True)
if not {stay}:
    child.wait()
    print("reaped", flush=True)
time.sleep(60)
"""


@contextlib.contextmanager
def server_like(
    burn: float, stay: bool, marker: str = ""
) -> Iterator[tuple[int, int, Iterator[str]]]:
    """A parent process and its CPU-burning child: (parent pid, child pid, the lines they print)."""
    child = marker + CHILD.format(burn=burn, stay=stay)
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(child=child, stay=stay)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert parent.stdout is not None
    lines = iter(parent.stdout)
    child_pid = int(next(lines))
    try:
        yield parent.pid, child_pid, lines
    finally:
        for pid in (child_pid, parent.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        parent.wait(timeout=10)
        parent.stdout.close()


def test_the_cpu_of_a_child_of_the_server_is_the_server_s() -> None:
    with server_like(burn=0.4, stay=True) as (parent, child, lines):
        before = cpu_sample(parent)
        assert next(lines).strip() == "burnt"
        after = cpu_sample(parent)
        tree = process_tree(parent)
    usage = cpu_usage(before, after)
    assert usage["server_s"] >= 0.3  # the parent alone used a few ms
    assert tree == [parent, child]
    assert worker_usage(before, after, parent)[0] >= 0.3
    assert usage["other_s"] <= max(0.0, usage["busy_s"] - usage["server_s"])


def test_a_child_that_exited_during_a_phase_is_still_counted() -> None:
    with server_like(burn=0.4, stay=False) as (parent, _, lines):
        before = cpu_sample(parent)
        assert [next(lines).strip(), next(lines).strip()] == ["burnt", "reaped"]
        after = cpu_sample(parent)
        assert process_tree(parent) == [parent]
    assert cpu_usage(before, after)["server_s"] >= 0.3


def test_the_server_s_children_are_not_other_busy_processes() -> None:
    marker = "# tutela-bench-burner"
    with server_like(burn=3.0, stay=True, marker=marker) as (parent, _, _lines):
        time.sleep(0.5)  # burning: ps shows it near 100 %
        assert not any("tutela-bench-burner" in line for line in top_processes(parent))
