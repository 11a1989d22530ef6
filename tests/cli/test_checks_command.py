"""``tutela checks list`` and ``tutela checks show``: the catalogue from the terminal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.scanner.catalog import load_catalog
from tutela.scanner.catalog.checks import finding_control_id

SEVERITY_ORDER = ["critical", "high", "medium", "low"]


def checks(*args: str) -> Any:
    return CliRunner().invoke(app, ["checks", *args])


def listed(*args: str) -> list[dict[str, Any]]:
    result = checks("list", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_the_table_lists_every_check_in_80_columns_with_ids_whole() -> None:
    result = checks("list")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    first_words = {line.split()[0] for line in lines if line.strip()}
    catalog = load_catalog()
    assert {check.id for check in catalog.checks} <= first_words  # never cut, never wrapped
    assert f"{len(catalog.checks)} check(s)" in result.stdout


def test_json_lists_every_check_most_severe_first() -> None:
    rows = listed()
    catalog = load_catalog()
    assert {row["id"] for row in rows} == {check.id for check in catalog.checks}
    order = [(SEVERITY_ORDER.index(row["severity"]), row["id"]) for row in rows]
    assert order == sorted(order)
    some = rows[0]
    check = catalog.check(some["id"])
    assert some["title"] == check.title
    assert some["resource_types"] == list(check.resource_types)
    mapped = {framework for framework, _, _ in catalog.controls_for_check(check.id)}
    assert set(some["frameworks"]) == mapped


def test_filters_by_severity_framework_and_resource_type() -> None:
    everything = listed()
    critical = listed("--severity", "critical")
    assert critical
    assert {row["severity"] for row in critical} == {"critical"}
    assert len(critical) == sum(row["severity"] == "critical" for row in everything)
    two = listed("--severity", "critical", "--severity", "HIGH")
    assert {row["severity"] for row in two} == {"critical", "high"}
    assert listed("--severity", "critical,high") == two

    sox = listed("--framework", "sox")
    assert sox
    assert all("sox" in row["frameworks"] for row in sox)
    assert len(sox) == sum("sox" in row["frameworks"] for row in everything)

    storage = listed("--resource-type", "microsoft.storage/storageaccounts")
    assert storage
    assert all("microsoft.storage/storageaccounts" in row["resource_types"] for row in storage)
    anything_storage = listed("--resource-type", "Microsoft.Storage/*")
    assert {row["id"] for row in storage} < {row["id"] for row in anything_storage}

    both = listed("--framework", "sox", "--severity", "critical")
    assert {row["id"] for row in both} == {row["id"] for row in sox} & {
        row["id"] for row in critical
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--framework", "hipaa"], "--framework: unknown framework(s) hipaa; valid ids: iso42001"),
        (["--severity", "urgent"], "--severity: unknown severity urgent; valid: critical, high"),
        (["--format", "yaml"], "yaml"),
    ],
)
def test_a_bad_filter_is_exit_2_and_one_line(args: list[str], message: str) -> None:
    result = checks("list", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_show_gives_every_field_and_the_controls_per_framework() -> None:
    catalog = load_catalog()
    check = catalog.check("AOAI-LOCAL-AUTH")

    result = checks("show", "aoai-local-auth")  # ids match without case

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # the text is wrapped at 80 columns
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    for value in (
        check.title,
        check.description,
        check.severity_reason,
        check.remediation,
        check.portal_steps,
        check.owner_role,
        *check.resource_types,
        *(reference.id for reference in check.references if reference.id),
    ):
        assert " ".join(value.split()) in text, value
    assert "properties.disableLocalAuth" in text  # the condition
    for controls in catalog.controls:
        for control in controls.controls:
            mapping = control.mapping_of(check.id)
            if mapping is not None:
                shown = finding_control_id(controls.control_prefix, control.id)
                assert f"{shown} ({mapping.strength})" in text


def test_show_as_json_holds_the_check_and_its_mapped_controls() -> None:
    catalog = load_catalog()
    evaluated = next(check for check in catalog.checks if check.evaluator is not None)

    result = checks("show", evaluated.id, "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["id"] == evaluated.id
    assert document["evaluator"] == evaluated.evaluator
    assert document["severity_reason"] == evaluated.severity_reason
    mapped = {framework for framework, _, _ in catalog.controls_for_check(evaluated.id)}
    assert set(document["controls"]) == mapped
    for entries in document["controls"].values():
        assert all({"control_id", "title", "strength"} <= set(entry) for entry in entries)


def test_an_unknown_id_is_one_line_exit_2_with_the_closest_ids() -> None:
    result = checks("show", "AOAI-LOCAL-AUTHS")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: no check AOAI-LOCAL-AUTHS (did you mean AOAI-LOCAL-AUTH")
    far = checks("show", "NOTHING-LIKE-IT")
    assert far.exit_code == 2
    assert far.output.strip() == "error: no check NOTHING-LIKE-IT"
