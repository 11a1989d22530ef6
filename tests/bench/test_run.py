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
    options = argparse.Namespace(
        seed=42, repeat=2, tutela_timeout=60, no_checkov=True, no_tutela=False
    )

    done = run.bench_size(60, options, [], {})

    one_round = [f"{name} {fmt}" for name in run.INPUTS.values() for fmt in run.FORMATS]
    assert timed == one_round * 2
    assert [len(m.runs) for m in done] == [2] * len(one_round)


def test_no_tutela_times_checkov_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--no-tutela: Checkov can be timed on an idle machine apart from Tutela's rounds."""
    for name in run.INPUTS.values():
        (tmp_path / name).write_text("{}")
    (tmp_path / "manifest.json").write_bytes(b"{}")
    timed: list[str] = []

    def measure(command: list[str], timeout: float, **_: object) -> run.Run:
        timed.append(Path(command[0]).name)
        return run.Run(1.0, 50.0, 0)

    monkeypatch.setattr(run, "estate_files", lambda size, seed: tmp_path)
    monkeypatch.setattr(run, "measure", measure)
    monkeypatch.setattr(run, "count_checkov", lambda output: (3, 3, 9))
    options = argparse.Namespace(
        seed=42, repeat=2, checkov_once_from=10**6, checkov="checkov", timeout=60,
        no_checkov=False, no_tutela=True, checkov_max_size=0,
    )  # fmt: skip

    done = run.bench_size(60, options, [], {})

    assert [m.tool for m in done] == ["checkov"] * len(run.CHECKOV_FRAMEWORKS)
    assert timed == ["checkov"] * 2 * len(run.CHECKOV_FRAMEWORKS)


def test_nothing_to_time_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        run.main(["--no-checkov", "--no-tutela"])
    assert refused.value.code == 2
    assert "leave nothing to time" in capsys.readouterr().err


def _timed(size: int, kind: str, tool: str, fmt: str, wall: float | None) -> dict:
    """One measurement of a single run; ``wall`` None: it timed out at 600 s."""
    m = run.Measurement(size, kind, tool, fmt, f"{tool} {kind} {fmt}", timeout_s=600.0)
    m.runs = [run.Run(600.0 if wall is None else wall, 100.0, None if wall is None else 0)]
    return asdict(m)


def test_throughput_sets_start_up_aside_and_bounds_a_timed_out_checkov() -> None:
    """(N2 - N1) / (t2 - t1) for both tools; a Checkov timeout makes the ratio a lower bound."""
    walls = {
        ("arm", "tutela", "json"): (0.3, 0.7, 4.3),
        ("arm", "checkov", "json"): (4.0, 22.0, 202.0),
        ("terraform", "tutela", "json"): (0.3, 0.8, 5.3),
        ("terraform", "checkov", "json"): (7.0, 120.0, None),
    }
    measurements = {
        f"{size}/{kind}/{tool}/{fmt}": _timed(size, kind, tool, fmt, wall)
        for (kind, tool, fmt), times in walls.items()
        for size, wall in zip((1_000, 10_000, 100_000), times, strict=True)
    }

    text = results_md.render({"measurements": measurements})

    # ARM, 10,000 → 100,000: Tutela 90,000 / 3.6 s = 25,000/s; Checkov 90,000 / 180 s = 500/s.
    assert "| arm | 10,000 → 100,000 | json | 25,000 | 500 | 50x |" in text
    # ARM, 1,000 → 10,000: Tutela 9,000 / 0.4 s = 22,500/s; Checkov 9,000 / 18 s = 500/s.
    assert "| arm | 1,000 → 10,000 | json | 22,500 | 500 | 45x |" in text
    # The plan: Checkov timed out at 100,000, so it took more than 600 - 120 s for 90,000.
    assert "| terraform | 10,000 → 100,000 | json | 20,000 | < 188 | > 107x |" in text
    assert "- arm, json: 4.30 s (met: < 5 s)" in text
    assert "speed-up over Checkov 47.0x (target ≥ 20x), throughput 10,000 → 100,000 50x" in text
    # Tutela measured no table output here: nothing is made up for it.
    assert "| arm | 10,000 → 100,000 | table | n/a | 500 | n/a |" in text


def test_checkov_is_not_run_above_its_max_size_and_results_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in run.INPUTS.values():
        (tmp_path / name).write_text("{}")
    (tmp_path / "manifest.json").write_bytes(b"{}")
    timed: list[str] = []

    def measure(command: list[str], timeout: float, **_: object) -> run.Run:
        timed.append(Path(command[2]).name)
        return run.Run(1.0, 50.0, 0)

    monkeypatch.setattr(run, "estate_files", lambda size, seed: tmp_path)
    monkeypatch.setattr(run, "measure", measure)
    monkeypatch.setattr(run, "count_checkov", lambda output: (3, 3, 9))
    options = argparse.Namespace(
        seed=42, repeat=1, checkov_once_from=10**6, checkov="checkov", timeout=60,
        no_checkov=False, no_tutela=True, checkov_max_size=10_000,
    )  # fmt: skip
    results: dict = {"checkov_not_run": {"10000/first-deploy": "an earlier reason"}}

    small = run.bench_size(10_000, options, [], results)
    large = run.bench_size(100_000, options, [], results)

    assert [m.input for m in small] == ["terraform", "first-deploy", "arm"]
    assert timed == ["plan.json", "plan-first-deploy.json", "template.json"]
    assert large == []
    assert results["checkov_not_run"] == {
        f"100000/{kind}": "N above --checkov-max-size 10,000" for kind in run.CHECKOV_FRAMEWORKS
    }
    tutela = _timed(100_000, "first-deploy", "tutela", "table", 2.0)
    results["measurements"] = {"100000/first-deploy/tutela/table": tutela}
    text = results_md.render(results)
    assert (
        "| 100,000 | checkov | json | not run: N above --checkov-max-size 10,000 | | | | | | |"
        in text
    )


def test_targets_mark_issue_22s_goals_met_or_not() -> None:
    measurements = {
        "100000/first-deploy/tutela/table": _timed(100_000, "first-deploy", "tutela", "table", 2.5),
        "100000/first-deploy/tutela/sarif": _timed(100_000, "first-deploy", "tutela", "sarif", 3.4),
        "100000/arm/tutela/table": _timed(100_000, "arm", "tutela", "table", 1.5),
        "100000/arm/tutela/sarif": _timed(100_000, "arm", "tutela", "sarif", 2.2),
        "100000/arg/tutela/table": _timed(100_000, "arg", "tutela", "table", 1.9),
    }
    measurements["100000/first-deploy/tutela/table"]["runs"][0]["peak_mib"] = 1100.0
    measurements["100000/arm/tutela/table"]["runs"][0]["reference_s"] = 0.44

    text = results_md.render({"measurements": measurements})

    assert (
        "- first-deploy, table: 2.50 s (met: < 3 s), peak 1,100 MiB (NOT met: < 1 GiB); "
        "reference workload n/a s" in text
    )
    assert "- first-deploy, sarif: 3.40 s (NOT met: < 3 s), peak 100 MiB (met: < 1 GiB)" in text
    assert "- arm, table: 1.50 s (met: < 2 s), peak 100 MiB; reference workload 0.44 s" in text
    assert "- arm, sarif: 2.20 s (NOT met: < 2 s)" in text
    assert "- arg, table: 1.90 s (met: < 2 s)" in text
    assert "- arg, sarif: not measured at N = 100,000" in text


def test_growth_is_checked_between_1k_10k_and_100k_per_input_and_output() -> None:
    walls = {"arm": (0.3, 0.66, 4.26), "arg": (0.3, 0.66, 6.0)}
    measurements = {
        f"{size}/{kind}/tutela/table": _timed(size, kind, "tutela", "table", wall)
        for kind, times in walls.items()
        for size, wall in zip((1_000, 10_000, 100_000), times, strict=True)
    }

    text = results_md.render({"measurements": measurements})

    # arm: 0.36 s / 9 = 0.04 s, then 3.6 s / 90 = 0.04 s per 1,000 resources
    assert "| arm | table | 0.0400 s | 0.0400 s | +0% | met |" in text
    # arg: 0.04 s, then 5.34 s / 90 = 0.0593 s: half as much again
    assert "| arg | table | 0.0400 s | 0.0593 s | +48% | NOT met |" in text
    assert "| arm | json | n/a | n/a | n/a | not measured |" in text


def test_each_inputs_shape_is_shown_beside_its_figures() -> None:
    shapes = {
        "terraform": {
            "name": "plan.json", "bytes": 335_000_000, "resources": 100_000, "layout": "compact",
            "actions": {"create": 17_660, "no-op": 79_010, "update": 3_330},
            "known_leaves": 1_200_000, "unknown_leaves": 36_000, "unknown_share": 0.0291,
        },
        "first-deploy": {
            "name": "plan-first-deploy.json", "bytes": 444_000_000, "resources": 100_000,
            "layout": "pretty", "actions": {"create": 100_000},
            "known_leaves": 950_000, "unknown_leaves": 560_000, "unknown_share": 0.3709,
        },
        "arm": {"name": "template.json", "bytes": 54_000_000, "resources": 100_000,
                "layout": "compact"},
        "arg": {"name": "arg.json", "bytes": 91_000_000},  # an older manifest: no shape
    }  # fmt: skip
    manifest = {"resource_groups": 5_927, "plan_actions": {"create": 17_660}, "files": shapes}
    measurements = {
        f"100000/{kind}/tutela/json": _timed(100_000, kind, "tutela", "json", 3.0)
        for kind in shapes
    }

    text = results_md.render({"measurements": measurements, "inputs": {"100000": manifest}})

    assert (
        "- N = 100,000: plan-first-deploy.json 423.4 MiB, pretty-printed (two spaces, one value "
        "a line, as `jq .` prints it); 100,000 records (create 100.0%); 37.1% of values unknown "
        "(560,000 `true` in after_unknown, 950,000 known in after)" in text
    )
    assert "plan.json 319.5 MiB, compact (one record a line); 100,000 records (create 17.7%, "
    assert "no-op 79.0%, update 3.3%); 2.9% of values unknown" in text
    assert (
        "- N = 100,000: template.json 51.5 MiB, compact (one record a line); 100,000 records\n"
        in text
    )
    assert "- N = 100,000: arg.json 86.8 MiB\n" in text
    assert (
        "| 100,000 | 5,927 | 319.5 MiB | 423.4 MiB | 51.5 MiB | 86.8 MiB | create 17,660 |" in text
    )
