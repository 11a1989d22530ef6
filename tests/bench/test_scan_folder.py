"""bench/scan_folder.py: Tutela over a folder, one line per file and a summary.

bench/ is not a package: its modules import each other by name, so the directory goes on the path.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import scan_folder  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "scanner" / "corpus"
FIXTURES = Path(__file__).resolve().parents[1] / "scanner" / "sources" / "fixtures"
AS_OF = "2026-07-01"  # the date the corpus expectations are read on
TEMPLATE = (
    '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"'
)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert scan_folder.main([*args, "--as-of", AS_OF]) == 0
    return capsys.readouterr().out


def _expectations() -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted(CORPUS.glob("*.expected.yaml"))]


def test_over_the_corpus_it_counts_what_the_expectations_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = json.loads(_run(capsys, str(CORPUS), "--format", "json"))
    summary, expected = run["summary"], _expectations()
    statuses = [
        status for e in expected for checks in e["results"].values() for status in checks.values()
    ]
    assert (summary["files"], summary["read"], summary["refused"], summary["not_inputs"]) == (
        len(expected) + 1,  # and one parameters file
        len(expected),
        0,
        1,
    )
    # The resources each input holds: the subscription a template only implies is not one.
    assert summary["resources"] == sum(
        len([r for r in e["resources"] if r != "(subscription)"]) for e in expected
    )
    # The scan counts what its report counts: the expectations' pairs but six of general-purpose
    # resources outside any AI workload, whose checks (geo-redundancy, blob soft delete, registry
    # retention) evidence no framework's control there (catalog/README.md, AI scope).
    assert (
        statuses.count("fail") - summary["failed"],
        statuses.count("pass") - summary["passed"],
        statuses.count("unknown") - summary["unknown"],
    ) == (3, 3, 0)
    assert summary["notes"] == sum(len(e["notes"]) for e in expected)
    assert summary["not_evaluated"] == sum(
        entry["count"] for e in expected for entry in e.get("not_evaluated") or []
    )
    parameters = next(f for f in run["files"] if f["file"].endswith(".parameters.json"))
    assert (parameters["outcome"], parameters["reason"]) == (
        "not an input",
        "a deployment parameters file",
    )
    linked = next(f for f in run["files"] if f["file"] == "09-linked-templates.json")
    assert (linked["notes"] and len(linked["notes"]), linked["not_evaluated"]) == (2, 2)
    unknown = Counter(
        check
        for e in expected
        for checks in e["results"].values()
        for check, status in checks.items()
        if status == "unknown"
    )
    assert summary["most_unknown_checks"]
    assert all(unknown[check] == n for check, n in summary["most_unknown_checks"])
    assert [n for _, n in summary["most_unknown_checks"]] == [n for _, n in unknown.most_common(5)]
    assert all("<path>" in text for text, _ in summary["most_noted_constructs"])


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A folder of a template, a plan and an export, JSON of no known kind, and files the
    reader refuses."""
    shutil.copy(CORPUS / "05-storage-conditions.json", tmp_path / "storage.json")
    shutil.copy(FIXTURES / "tf_plan_modules.json", tmp_path / "plan.json")
    shutil.copy(FIXTURES / "arg_export.json", tmp_path / "export.json")
    (tmp_path / "package.json").write_text('{"name": "web", "version": "1.0.0"}')
    (tmp_path / "broken.json").write_text(TEMPLATE + ', "resources": [')
    (tmp_path / "empty.json").write_text("  \n")
    nested = tmp_path / "infra" / "params"
    nested.mkdir(parents=True)
    (nested / "main.parameters.json").write_text(
        '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
        'deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": {}}'
    )
    (tmp_path / "infra" / "odd.json").write_text(
        TEMPLATE + ', "contentVersion": "1.0.0.0", "resources": "none"}'
    )
    hidden = tmp_path / ".cache"
    hidden.mkdir()
    (hidden / "ignored.json").write_text("[")
    return tmp_path


def test_a_mixed_folder_gives_each_file_its_outcome(
    mixed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = json.loads(_run(capsys, str(mixed), "--format", "json"))
    outcomes = {f["file"]: (f["outcome"], f["reason"]) for f in run["files"]}
    assert outcomes == {
        "broken.json": ("refused", outcomes["broken.json"][1]),
        "empty.json": ("refused", "the file is empty"),
        "infra/odd.json": ("refused", '"resources" must be an array (or, in 2.0, an object)'),
        "infra/params/main.parameters.json": ("not an input", "a deployment parameters file"),
        "package.json": ("not an input", "JSON of no kind Tutela reads"),
        "plan.json": ("read", ""),
        "export.json": ("read", ""),
        "storage.json": ("read", ""),
    }
    kinds = {f["file"]: f["kind"] for f in run["files"] if f["outcome"] == "read"}
    assert kinds == {"export.json": "arg", "plan.json": "terraform", "storage.json": "arm"}
    assert outcomes["broken.json"][1].startswith("not valid JSON")
    summary = run["summary"]
    assert (summary["files"], summary["read"], summary["refused"], summary["not_inputs"]) == (
        8,
        3,
        3,
        2,
    )
    read = [f for f in run["files"] if f["outcome"] == "read"]
    assert summary["resources"] == sum(f["resources"] for f in read)
    assert summary["failed"] == sum(f["failed"] for f in read)
    assert all(f["resources"] > 0 and f["failed"] > 0 for f in read)
    storage = next(f for f in run["files"] if f["file"] == "storage.json")
    expected = yaml.safe_load((CORPUS / "05-storage-conditions.expected.yaml").read_text())
    assert storage["resources"] == len(expected["resources"]) - 1  # not the implied subscription
    # Less the geo-redundancy and blob soft-delete pairs, which count for no framework here.
    assert (storage["failed"], storage["passed"], storage["unknown"]) == (10, 7, 1)
    assert [file for file, _ in summary["refusals"]] == [
        "broken.json",
        "empty.json",
        "infra/odd.json",
    ]


def test_several_processes_give_the_same_results(mixed: Path) -> None:
    as_of = dt.date.fromisoformat(AS_OF)
    alone = scan_folder.scan_folder(mixed, as_of=as_of)
    shared = scan_folder.scan_folder(mixed, jobs=2, as_of=as_of)
    for result in (*alone, *shared):
        result.seconds = 0.0
    assert alone == shared


def test_the_table_and_markdown_name_each_refusal(
    mixed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = _run(capsys, str(mixed))
    assert "refused: empty.json: the file is empty" in table
    assert "8 files: 3 read, 3 refused, 2 not an input" in table
    markdown = _run(capsys, str(mixed), "--format", "markdown")
    assert markdown.startswith("| file | outcome | kind |")
    assert "| empty.json | refused: the file is empty |" in markdown
    assert "- 8 files: 3 read, 3 refused, 2 not an input" in markdown


def test_a_note_is_counted_by_its_construct_not_its_place() -> None:
    assert scan_folder.construct(
        "linked template given as an expression at resources[1]: its resources are not evaluated"
    ) == scan_folder.construct(
        "linked template given as an expression at resources.net.properties.template."
        "resources[4]: its resources are not evaluated"
    )
    assert scan_folder.construct(
        "2 resources of unsupported types skipped (2 azurerm_subnet)"
    ) == scan_folder.construct("7 resources of unsupported types skipped (7 azurerm_subnet)")


def test_it_refuses_a_path_that_is_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        scan_folder.main([str(tmp_path / "missing")])
    assert stopped.value.code == 2


def test_a_linked_template_s_query_string_never_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = "https://st.example.invalid/t/net.json?sv=2022-11-02&sr=b&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D"
    (tmp_path / "main.json").write_text(
        TEMPLATE + ', "contentVersion": "1.0.0.0", "resources": [{"type": '
        '"Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "net", '
        f'"properties": {{"mode": "Incremental", "templateLink": {{"uri": "{link}"}}}}}}]}}'
    )
    for output in ("json", "table", "markdown"):
        shown = _run(capsys, str(tmp_path), "--format", output)
        assert "net.json" in shown or output != "json"
        assert "sig=" not in shown
        assert "c2VjcmV0" not in shown
