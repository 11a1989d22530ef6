"""The benchmark's estate generator: seeded, and its four files describe one estate.

bench/ is not a package: its modules import each other by name, so the directory goes on the path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
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
FIRST_DEPLOY = "plan-first-deploy.json"
FILES = ("arg.json", "plan.json", "template.json", FIRST_DEPLOY)
# The three files as written before the first-deployment plan was added: it changed none of them.
DIGESTS = {
    "arg.json": "ff25790235abafda0d8057f9a8fe1b7c87f9974b95201af8f14d96e632357f8e",
    "plan.json": "cab6d1a28a6ea95da82863a745ee83936d50e3d52270cfac1e87ae08710b3378",
    "template.json": "4ef5bbf254f1caa5c47af5d2359400c45a9fd4816e2fabc0bbebf66108740fdc",
}
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


def test_the_first_deployment_plan_leaves_the_other_files_as_they_were(estate_dir: Path) -> None:
    assert {name: digests(estate_dir)[name] for name in DIGESTS} == DIGESTS


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


def test_the_four_files_hold_the_same_resources(estates: dict[str, Estate]) -> None:
    arg, plan, template, first_deploy = (inventory(estates[name]) for name in FILES)

    assert len(arg) > SIZE / 2  # diagnostic settings are facts, not resources
    assert plan == arg
    assert template == arg
    assert first_deploy == arg


def test_the_first_deployment_plan_names_the_resources_the_plan_does(
    estates: dict[str, Estate],
) -> None:
    def named(estate: Estate) -> Counter[tuple[str, str]]:
        return Counter((r.type, r.name) for r in estate)

    assert named(estates[FIRST_DEPLOY]) == named(estates["plan.json"])


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


def test_the_first_deployment_never_contradicts_the_plan_or_the_export(
    estates: dict[str, Estate],
) -> None:
    first_deploy = verdicts(estates[FIRST_DEPLOY])

    assert {"fail", "pass"} <= set(first_deploy.values())
    assert contradictions(estates["plan.json"], estates[FIRST_DEPLOY]) == {}
    assert contradictions(estates["arg.json"], estates[FIRST_DEPLOY]) == {}


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


# --- the plan of a first deployment -------------------------------------------------------------


@pytest.fixture(scope="module")
def first_deploy(estate_dir: Path) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((estate_dir / FIRST_DEPLOY).read_text())
    return plan


def test_every_resource_of_a_first_deployment_is_created(first_deploy: dict[str, Any]) -> None:
    changes = first_deploy["resource_changes"]

    assert len(changes) == len(first_deploy["planned_values"]["root_module"]["resources"])
    assert len(changes) == len(first_deploy["configuration"]["root_module"]["resources"])
    assert {tuple(c["change"]["actions"]) for c in changes} == {("create",)}
    assert all(c["change"]["before"] is None for c in changes)
    assert all(c["change"]["before_sensitive"] is False for c in changes)


def _known_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _known_strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _known_strings(item)]
    return [value] if isinstance(value, str) else []


def test_ids_and_references_to_them_are_unknown_and_names_known(
    first_deploy: dict[str, Any],
) -> None:
    estate_ids = re.compile(r"/resourceGroups/rg-(?!ai-shared|ai-network)|vault\.azure\.net/keys/")
    for record in first_deploy["resource_changes"]:
        after, unknown = record["change"]["after"], record["change"]["after_unknown"]
        assert "id" not in after, record["address"]
        assert unknown["id"] is True, record["address"]
        # nothing the plan creates has an id yet: no known value holds one
        assert not [s for s in _known_strings(after) if estate_ids.search(s)], record["address"]
        assert "resource_group_name" not in unknown  # a name: configured, so known
        assert after["name"]
        for identity in unknown.get("identity", []):
            assert identity["principal_id"] is identity["tenant_id"] is True
    by_type = {r["type"]: r["change"] for r in first_deploy["resource_changes"]}
    assert by_type["azurerm_cognitive_deployment"]["after_unknown"]["cognitive_account_id"] is True
    assert by_type["azurerm_key_vault"]["after_unknown"]["vault_uri"] is True


def test_keys_and_connection_strings_are_unknown_and_sensitive(
    first_deploy: dict[str, Any],
) -> None:
    storage = next(
        r for r in first_deploy["resource_changes"] if r["type"] == "azurerm_storage_account"
    )["change"]

    for name in ("primary_access_key", "primary_connection_string", "secondary_access_key"):
        assert storage["after_unknown"][name] is True
        assert storage["after_sensitive"][name] is True
        assert name not in storage["after"]
    assert storage["after_unknown"]["primary_blob_endpoint"] is True
    assert "primary_blob_endpoint" not in storage["after_sensitive"]
    # Terraform's shape: a known collection is marked, not left out
    assert storage["after_unknown"]["tags"] == {} == storage["after_sensitive"]["tags"]


def test_the_first_deployment_plan_is_printed_as_jq_prints_it(estate_dir: Path) -> None:
    text = (estate_dir / FIRST_DEPLOY).read_bytes()

    # orjson's two-space indentation is jq's layout (checked against jq 1.6 and below when the
    # machine has jq): one value a line, `"key": value`, `{}` and `[]` for empty containers.
    assert orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2) + b"\n" == text
    lines = text.decode().splitlines()
    assert len(lines) > 100 * SIZE
    assert all(re.fullmatch(r"( {2})*\S.*", line) for line in lines)
    assert '  "resource_changes": [' in lines
    if shutil.which("jq"):
        printed = subprocess.run(
            ["jq", ".", str(estate_dir / FIRST_DEPLOY)], capture_output=True, check=True
        )
        assert printed.stdout == text


def test_the_manifest_gives_each_inputs_shape(estate_dir: Path) -> None:
    manifest = json.loads((estate_dir / "manifest.json").read_text())
    files = manifest["files"]
    plan, first = files["terraform"], files["first-deploy"]

    assert {kind: f["bytes"] for kind, f in files.items()} == {
        kind: (estate_dir / f["name"]).stat().st_size for kind, f in files.items()
    }
    assert (plan["layout"], first["layout"]) == ("compact", "pretty")
    assert first["actions"] == {"create": first["resources"]}
    assert first["resources"] == plan["resources"]
    assert plan["actions"] == manifest["plan_actions"]
    assert first["unknown_share"] > 2 * plan["unknown_share"] > 0
    assert first["unknown_leaves"] > plan["unknown_leaves"]
    assert first["bytes"] > plan["bytes"]
