"""The benchmark's estate generator: seeded, and its three files describe one estate.

bench/ is not a package: its modules import each other by name, so the directory goes on the path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.sources import read_estate

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

SIZE = 60
FILES = ("arg.json", "plan.json", "template.json")
# Containers, not resources: the template is deployed into one resource group and declares none.
GROUP = "microsoft.resources/subscriptions/resourcegroups"
CONTAINERS = {"microsoft.resources/subscriptions", GROUP}


@pytest.fixture(scope="module")
def estate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("estate")
    generate.generate(SIZE, 7, directory)
    return directory


@pytest.fixture(scope="module")
def estates(estate_dir: Path) -> dict[str, Estate]:
    return {name: read_estate([estate_dir / name]) for name in FILES}


def digests(directory: Path) -> dict[str, str]:
    return {name: hashlib.sha256((directory / name).read_bytes()).hexdigest() for name in FILES}


def where(resource: Resource) -> str:
    """The id from its last ``/providers/``: the same wherever each format deploys it."""
    lowered = resource.id.lower()
    return lowered[lowered.rfind("/providers/") :]


def inventory(estate: Estate) -> set[tuple[str, str, str]]:
    return {(r.type, r.name, where(r)) for r in estate if r.type not in CONTAINERS}


def test_the_same_seed_writes_the_same_bytes(estate_dir: Path, tmp_path: Path) -> None:
    generate.generate(SIZE, 7, tmp_path / "again")
    generate.generate(SIZE, 8, tmp_path / "other")

    assert digests(tmp_path / "again") == digests(estate_dir)
    assert set(digests(tmp_path / "other").values()).isdisjoint(digests(estate_dir).values())


def test_the_manifest_counts_exactly_n_resources(estate_dir: Path) -> None:
    manifest = json.loads((estate_dir / "manifest.json").read_text())
    by_type = Counter(manifest["by_type"])

    assert sum(by_type.values()) - by_type["microsoft.resources/resourcegroups"] == SIZE
    assert by_type["microsoft.cognitiveservices/accounts/deployments"] > 0
    assert set(manifest["plan_actions"]) <= {"no-op", "update", "create"}


def test_each_file_is_the_kind_it_claims(estate_dir: Path) -> None:
    arg = json.loads((estate_dir / "arg.json").read_text())
    plan = json.loads((estate_dir / "plan.json").read_text())
    template = json.loads((estate_dir / "template.json").read_text())

    assert arg["count"] == len(arg["data"])
    assert {"format_version", "planned_values", "resource_changes", "configuration"} <= set(plan)
    created = [c for c in plan["resource_changes"] if c["change"]["actions"] == ["create"]]
    assert created
    assert all(c["change"]["after_unknown"].get("id") for c in created)
    assert "deploymentTemplate" in template["$schema"]
    assert len(template["resources"]) == SIZE


def test_the_three_files_hold_the_same_resources(estates: dict[str, Estate]) -> None:
    arg, plan, template = (inventory(estates[name]) for name in FILES)

    assert len(arg) > SIZE / 2  # diagnostic settings are facts, not resources
    assert plan == arg
    assert template == arg


def test_resource_groups_agree_where_both_declare_them(estates: dict[str, Estate]) -> None:
    def groups(estate: Estate) -> set[str]:
        return {r.name for r in estate if r.type == GROUP}

    assert groups(estates["plan.json"]) == groups(estates["arg.json"]) != set()


def verdicts(estate: Estate) -> dict[tuple[str, str], str]:
    results = evaluate_estate(estate, load_catalog().checks, as_of=dt.date(2025, 6, 2))
    return {(r.check.id, where(r.resource)): r.status for r in results
            if r.resource.type not in CONTAINERS}  # fmt: skip


def contradictions(one: Estate, other: Estate) -> dict[tuple[str, str], tuple[str, str]]:
    """Pairs one file passes and the other fails; a value only one can see may leave it unknown."""
    left, right = verdicts(one), verdicts(other)
    decided = {"pass", "fail"}
    return {
        key: (status, right[key])
        for key, status in left.items()
        if key in right and {status, right[key]} == decided
    }


def test_the_export_and_the_template_never_contradict(estates: dict[str, Estate]) -> None:
    arg = verdicts(estates["arg.json"])

    assert "fail" in arg.values()
    assert verdicts(estates["template.json"]).keys() == arg.keys()
    assert contradictions(estates["arg.json"], estates["template.json"]) == {}


def test_the_export_and_the_plan_never_contradict(estates: dict[str, Estate]) -> None:
    assert contradictions(estates["arg.json"], estates["plan.json"]) == {}


@pytest.mark.parametrize("name", FILES)
def test_a_scan_of_each_file_finds_something(estate_dir: Path, name: str) -> None:
    result = CliRunner().invoke(
        app, ["scan", str(estate_dir / name), "--format", "json", "--fail-on", "none"]
    )

    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["resources_scanned"] > SIZE / 2
    assert report["checks_failed"] > 0
    assert len({f["check_id"] for f in report["findings"]}) >= 10
    assert {f["framework"] for f in report["findings"]} == set(load_catalog().framework_ids)
