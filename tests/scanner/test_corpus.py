"""The regression corpus: templates shaped as ``bicep build`` and Azure Verified Modules write
them (tests/scanner/corpus, written for Tutela), each read against its expectation file.

``<name>.expected.yaml`` beside ``<name>.json`` holds everything Tutela must read from the
template: the ``resources`` (short ids), the reading ``notes``, every applicable (resource,
check) pair's status (``results``: fail, pass or unknown), and, when given, the resources
marked ``conditional`` and the ``not_evaluated`` entries of the ``tutela scan`` JSON report. A
pair missing, extra or with another status fails the test, all differences listed, so a
regression either way shows. ``left_out`` names the pairs not asserted, each with its reason
(a result believed wrong, reported rather than encoded).

``python tests/scanner/test_corpus.py NAME`` prints what Tutela reads today in the file's
format, to compare with the expectation by eye; it never writes one.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import Estate
from tutela.scanner.outputs.report import input_notes
from tutela.scanner.sources import read_estate

CORPUS = Path(__file__).parent / "corpus"
# Model retirements and validation dates are read against this day, so the corpus never ages.
AS_OF = dt.date(2026, 7, 1)
_SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
_GROUP = f"{_SUBSCRIPTION}/resourceGroups/rg-template/providers/"
TEMPLATES = sorted(
    path for path in CORPUS.glob("*.json") if path.with_suffix(".expected.yaml").exists()
)


def short(resource_id: str) -> str:
    """An id without the placeholder subscription and resource group a template is read into."""
    if resource_id.startswith(_GROUP):
        return resource_id[len(_GROUP) :]
    if resource_id == _SUBSCRIPTION:
        return "(subscription)"
    return resource_id.removeprefix(_SUBSCRIPTION)


def read(path: Path) -> dict[str, Any]:
    """What Tutela reads from the template, in the expectation file's shape."""
    estate: Estate = read_estate([path])
    notes = input_notes(str(path))
    results: dict[str, dict[str, str]] = {}
    for result in evaluate_estate(estate, load_catalog().checks, as_of=AS_OF):
        results.setdefault(short(result.resource.id), {})[result.check.id] = result.status
    report = scan_report(path)
    return {
        "resources": sorted(short(resource.id) for resource in estate),
        "notes": notes,
        "results": {rid: dict(sorted(checks.items())) for rid, checks in sorted(results.items())},
        "conditional": sorted(_conditional(report)),
        "not_evaluated": [_unseen(entry, path) for entry in report.get("not_evaluated", [])],
        "report_pairs": _report_pairs(report),
    }


@cache
def scan_report(path: Path) -> dict[str, Any]:
    """The JSON report of ``tutela scan`` over the template, passes included."""
    outcome = CliRunner().invoke(
        app,
        [
            "scan",
            str(path),
            "--format",
            "json",
            "--include-passed",
            "--fail-on",
            "none",
            "--narrative",
            "none",
            "--quiet",
            "--jobs",
            "1",
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    report: dict[str, Any] = json.loads(outcome.stdout)
    return report


def _entries(report: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(resource, check, status, conditional) of every finding, unknown entry and pass."""
    found = [
        (entry["resource"], entry["check_id"], "fail", bool(entry.get("conditional")))
        for entry in report["findings"]
    ]
    found += (
        (entry["resource"], entry["check_id"], "unknown", bool(entry.get("conditional")))
        for entry in report["unknown"]
    )
    for entry in report.get("passed", []):
        found += (
            (item["resource"], entry["check_id"], "pass", bool(item.get("conditional")))
            for item in entry["resources"]
        )
    return found


def _conditional(report: dict[str, Any]) -> set[str]:
    return {short(rid) for rid, _, _, conditional in _entries(report) if conditional}


def _report_pairs(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(short(rid), check) for rid, check, _, _ in _entries(report)}


def _unseen(entry: dict[str, Any], path: Path) -> dict[str, Any]:
    """A ``not_evaluated`` entry with its resources named without the template's path."""
    listed = [
        short(item.removeprefix(f"{path}: ")) if isinstance(item, str) else item
        for item in entry.get("resources", [])
    ]
    return {**entry, "resources": listed}


def expected(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.with_suffix(".expected.yaml").read_text())
    return loaded


def differences(path: Path) -> list[str]:
    """Every way today's reading differs from the expectation, one line each."""
    want, got = expected(path), read(path)
    left_out = {(item["resource"], item["check"]) for item in want.get("left_out") or []}
    problems = [
        f"resource read, not expected: {rid}"
        for rid in got["resources"]
        if rid not in want["resources"]
    ]
    problems += (
        f"resource expected, not read: {rid}"
        for rid in want["resources"]
        if rid not in got["resources"]
    )
    if got["notes"] != (want.get("notes") or []):
        problems.append(f"notes: expected {want.get('notes') or []}, got {got['notes']}")
    wanted = {
        (rid, check): status
        for rid, checks in (want.get("results") or {}).items()
        for check, status in checks.items()
    }
    read_pairs = {
        (rid, check): status
        for rid, checks in got["results"].items()
        for check, status in checks.items()
    }
    for pair in sorted(wanted.keys() | read_pairs.keys()):
        if pair in left_out:
            continue
        rid, check = pair
        if pair not in read_pairs:
            problems.append(f"{check} on {rid}: expected {wanted[pair]}, not evaluated")
        elif pair not in wanted:
            problems.append(f"{check} on {rid}: got {read_pairs[pair]}, not expected")
        elif wanted[pair] != read_pairs[pair]:
            problems.append(f"{check} on {rid}: expected {wanted[pair]}, got {read_pairs[pair]}")
    # The report is of today (the CLI's date): its pairs, not their dated statuses, must agree.
    problems += (
        f"{check} on {rid}: in the report, not evaluated"
        for rid, check in sorted(got["report_pairs"] - read_pairs.keys())
    )
    if "conditional" in want and got["conditional"] != sorted(want["conditional"] or []):
        problems.append(f"conditional: expected {want['conditional']}, got {got['conditional']}")
    if "not_evaluated" in want:
        problems += _unseen_differences(want["not_evaluated"] or [], got["not_evaluated"])
    return problems


def _unseen_differences(want: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    """The ``not_evaluated`` entries compared on the keys each expected entry gives."""
    if len(want) != len(got):
        return [f"not_evaluated: expected {len(want)} entries, got {len(got)}: {got}"]
    return [
        f"not_evaluated[{at}]: expected {entry}, got {actual}"
        for at, (entry, actual) in enumerate(zip(want, got, strict=True))
        if any(actual.get(key) != value for key, value in entry.items())
    ]


@pytest.mark.parametrize("template", TEMPLATES, ids=[path.stem for path in TEMPLATES])
def test_the_template_reads_as_expected(template: Path) -> None:
    problems = differences(template)
    assert not problems, f"{template.name}:\n  " + "\n  ".join(problems)


def test_every_template_of_the_corpus_has_its_expectation() -> None:
    templates = {
        path.stem for path in CORPUS.glob("*.json") if not path.name.endswith(".parameters.json")
    }
    expectations = {path.name.removesuffix(".expected.yaml") for path in CORPUS.glob("*.yaml")}
    assert templates == expectations
    assert len(templates) >= 10


def test_each_template_says_what_it_exercises_and_was_written_for_tutela() -> None:
    for path in TEMPLATES:
        text = path.read_text()
        assert "Tutela corpus (written for Tutela)" in text, path.name


def _printed(path: Path) -> str:
    got = read(path)
    got.pop("report_pairs")
    lines = [f"# {path.name}", "resources:"]
    lines += (f"  - {rid}" for rid in got["resources"])
    lines.append("notes:" + ("" if got["notes"] else " []"))
    lines += (f"  - {json.dumps(text)}" for text in got["notes"])
    lines.append("results:")
    for rid, checks in got["results"].items():
        lines.append(f"  {rid}:")
        lines += (f"    {check}: {status}" for check, status in checks.items())
    lines.append(f"conditional: {json.dumps(got['conditional'])}")
    lines.append("not_evaluated:" + ("" if got["not_evaluated"] else " []"))
    lines += (f"  - {json.dumps(entry)}" for entry in got["not_evaluated"])
    return "\n".join(lines)


if __name__ == "__main__":  # print today's reading of the named templates
    for name in sys.argv[1:]:
        print(_printed(CORPUS / f"{name.removesuffix('.json')}.json"))
