"""The benchmark's runner and report: the machine's speed is recorded with each run and shown.

bench/ is not a package: its modules import each other by name, so the directory goes on the path.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import results_md  # noqa: E402
import run  # noqa: E402


def test_a_measured_run_times_the_reference_workload_first() -> None:
    measured = run.measure([sys.executable, "-c", "pass"], timeout=60, reference=True)

    assert measured.exit_code == 0
    assert measured.reference_s is not None
    assert 0 < measured.reference_s < 60
    assert run.measure([sys.executable, "-c", "pass"], timeout=60).reference_s is None


def _measurement(size: int, fmt: str, walls: list[float], references: list[float]) -> dict:
    m = run.Measurement(size, "terraform", "tutela", fmt, f"tutela scan plan.json --format {fmt}")
    m.runs = [
        run.Run(wall, 700.0, 0, 1.0, 700.0, reference)
        for wall, reference in zip(walls, references, strict=True)
    ]
    return asdict(m)


def test_results_show_the_reference_range_and_each_targets_runs_and_speed() -> None:
    measurements = {
        "100000/terraform/tutela/table": _measurement(
            100_000, "table", [4.2, 4.6, 5.3], [0.31, 0.33, 0.41]
        ),
        "100000/terraform/tutela/json": _measurement(100_000, "json", [5.6], [0.52]),
    }

    text = results_md.render({"measurements": measurements})

    assert "took 0.31 to 0.52 s, median 0.37 s" in text
    assert "- terraform, table: 4.60 s (runs 4.20 to 5.30) (met: < 5 s)" in text
    assert "reference workload 0.33 s" in text
    assert "- terraform, json: 5.60 s (NOT met: < 5 s)" in text
    assert "reference workload 0.52 s" in text


def test_results_without_reference_times_say_nothing_of_them() -> None:
    old = _measurement(100_000, "table", [4.2], [0.0])
    old["runs"][0].pop("reference_s")  # measured before the reference existed

    text = results_md.render({"measurements": {"100000/terraform/tutela/table": old}})

    assert "reference workload" not in text
    assert "- terraform, table: 4.20 s (met: < 5 s)" in text


def test_tutela_is_timed_in_rounds_of_every_input_and_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow minute falls on one run of each measurement, not on all runs of one."""
    for name in run.INPUTS.values():
        (tmp_path / name).write_text("{}")
    timed: list[str] = []

    def measure(command: list[str], timeout: float, **_: object) -> run.Run:
        timed.append(f"{Path(command[2]).name} {command[4]}")
        return run.Run(0.1, 50.0, 0)

    monkeypatch.setattr(run, "estate_files", lambda size, seed: tmp_path)
    (tmp_path / "manifest.json").write_bytes(b"{}")
    monkeypatch.setattr(run, "count_tutela", lambda path, wrap, timeout: (1, 1, 1))
    monkeypatch.setattr(run, "measure", measure)
    options = argparse.Namespace(seed=42, repeat=2, tutela_timeout=60, no_checkov=True)

    done = run.bench_size(60, options, [], {})

    one_round = [f"{name} {fmt}" for name in run.INPUTS.values() for fmt in run.FORMATS]
    assert timed == one_round * 2
    assert [len(m.runs) for m in done] == [2] * len(one_round)
