"""The server-memory benchmark: its insight cases, and how a run of some cases merges its rows.

bench/ is not a package: its modules import each other by name, so the directory goes on the path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import api_memory  # noqa: E402
from api_memory import Case  # noqa: E402
from api_memory_insights import INSIGHTS, insight_request, insights_cases  # noqa: E402
from api_memory_render import kept_rows, mib, render  # noqa: E402

MiB = 2**20
INSIGHT_CASES = ",".join(INSIGHTS)


def case(name: str, peak_mib: int) -> Case:
    return Case(
        name, f"GET {name}", "template", 31 * MiB, 200, 1.5, peak_mib * MiB, 119 * MiB,
        49_947, 558_478, 8 * MiB, 838 * MiB,
    )  # fmt: skip


def rows(text: str) -> dict[str, str]:
    return {
        line.split(" | ")[0][2:]: line
        for line in text.splitlines()
        if line.startswith("| ") and "**" in line
    }


def test_a_full_run_measures_every_insight() -> None:
    assert set(INSIGHTS) <= set(api_memory.CASES.split(","))


def test_each_insight_row_names_its_endpoint() -> None:
    assert insight_request("insights-scorecard").startswith("GET /report/{id}/scorecard ")
    assert insight_request("insights-roadmap").startswith("GET /report/{id}/roadmap ")
    assert insight_request("insights-auditor").startswith("GET /report/{id}/auditor-package ")
    assert insight_request("insights-auditor-pdf").startswith(
        "GET /report/{id}/auditor-package?format=pdf "
    )


def test_an_insights_small_answer_reads_in_kib_and_a_peak_in_mib() -> None:
    assert mib(3_668) == "3.6 KiB"
    assert mib(230_387_712) == "219.7 MiB"
    assert mib(None) == "—"


def test_a_run_of_the_insights_keeps_the_other_rows_and_when_they_were_measured(
    tmp_path: Path,
) -> None:
    results = tmp_path / "RESULTS-api-memory.md"
    full = [case("template", 498), case("report", 196)]
    results.write_text(render(full, 50_000, "python bench/api_memory.py", ([], [], [])))
    insights = [case(name, 300 + i) for i, name in enumerate(INSIGHTS)]

    kept = kept_rows(results, {c.name for c in insights})
    text = render(insights, 50_000, f"python bench/api_memory.py --cases {INSIGHT_CASES}", kept)

    assert list(rows(text)) == ["template", "report", *INSIGHTS]
    assert "- command: `python bench/api_memory.py` (the other rows)" in text
    assert f"- command: `python bench/api_memory.py --cases {INSIGHT_CASES}`" in text
    assert "Highest peak: **498.0 MiB**." in text


def test_an_insight_measured_again_replaces_its_row(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS-api-memory.md"
    first = [case("report", 196), *(case(name, 300) for name in INSIGHTS)]
    results.write_text(render(first, 50_000, "python bench/api_memory.py", ([], [], [])))

    again = [case("insights-roadmap", 900)]
    kept = kept_rows(results, {"insights-roadmap"})
    text = render(again, 50_000, "python bench/api_memory.py --cases insights-roadmap", kept)

    measured = rows(text)
    assert list(measured).count("insights-roadmap") == 1
    assert "**900.0 MiB**" in measured["insights-roadmap"]
    assert "**300.0 MiB**" in measured["insights-scorecard"]
    assert "Highest peak: **900.0 MiB**." in text


@pytest.fixture(scope="module")
def small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return api_memory.generate(60, tmp_path_factory.mktemp("estate")) / "template.json"


def test_each_insight_is_answered_by_a_real_server_for_a_saved_report(
    small_template: Path, tmp_path: Path
) -> None:
    wanted = ["insights-roadmap", "insights-auditor-pdf"]

    cases = insights_cases(small_template, tmp_path, "template of 60", wanted)

    assert [c.name for c in cases] == wanted
    resources = api_memory.counted(small_template)
    for measured in cases:
        assert measured.status == 200
        assert measured.resources == resources
        assert measured.findings > 0
        assert measured.plain_bytes is not None
        assert measured.plain_bytes > 0
        assert measured.idle_rss is not None
        assert measured.peak_rss >= measured.idle_rss
