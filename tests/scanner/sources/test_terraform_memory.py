"""A plan read is freed as soon as its resources are built (no reference cycles), and taken apart
while it is read: a mapped file's pages given back, each change let go once its instance is made."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import orjson
import pytest

from tutela.scanner.estate import UNKNOWN
from tutela.scanner.sources import _read_document
from tutela.scanner.sources.terraform import resources_from_terraform
from tutela.scanner.sources.terraform_decode import DecodedPlan, decode_plan
from tutela.scanner.sources.terraform_plan import _overlay
from tutela.scanner.sources.terraform_refs import Resolver

FIXTURES = Path(__file__).parent / "fixtures"


def test_reading_a_plan_leaves_no_cyclic_garbage() -> None:
    # With the collector off (as the CLI runs), a plan held in a reference cycle would stay in
    # memory for the whole scan; with it on, its next pass would walk every object of the plan.
    document = orjson.loads((FIXTURES / "tf_plan_modules.json").read_bytes())
    resources_from_terraform(document, "warm-up.json")  # (first use compiles the mapping table)
    gc.collect()
    gc.disable()
    try:
        resources = resources_from_terraform(document, "plan.json")
        assert resources
        assert gc.collect() == 0
    finally:
        gc.enable()


# --- the decoded plan is taken apart as it is read -----------------------------------------------


def _mapping_rss_kib(path: Path) -> int | None:
    """The resident KiB of this process's mapping of ``path``; None when it maps no such file."""
    lines = Path("/proc/self/smaps").read_text().splitlines()
    for number, line in enumerate(lines):
        if line.endswith(str(path)):
            for detail in lines[number + 1 :]:
                if detail.startswith("Rss:"):
                    return int(detail.split()[1])
    return None


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's /proc/self/smaps")
def test_a_mapped_plan_gives_its_pages_back_and_keeps_only_its_configuration_slices(
    tmp_path: Path,
) -> None:
    document = orjson.loads((FIXTURES / "tf_plan_modules.json").read_bytes())
    changes = document["resource_changes"]
    document["resource_changes"] = changes * (4_000 // len(changes))  # a few megabytes
    path = tmp_path / "plan.json"
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    assert path.stat().st_size > 2**21

    decoded, kind = _read_document(path, str(path))
    assert kind == "terraform"
    assert isinstance(decoded, DecodedPlan)
    resident = _mapping_rss_kib(path)
    assert resident is not None, "the configuration's slices keep the map open"
    assert resident < 64, f"{resident} KiB of the file still resident after decoding"
    resources = decoded["configuration"]["root_module"]["module_calls"]
    assert resources  # (its expressions are read from the map when first needed)
    del decoded, resources
    assert _mapping_rss_kib(path) is None, "the map goes with the plan's last slice"


def test_a_decoded_plan_is_let_go_change_by_change_and_a_callers_document_is_left_alone() -> None:
    data = (FIXTURES / "tf_plan_modules.json").read_bytes()
    decoded = decode_plan(data)
    assert isinstance(decoded, DecodedPlan)
    owned = resources_from_terraform(decoded, "owned.json")
    assert decoded["resource_changes"]
    assert all(change is None for change in decoded["resource_changes"])

    document = orjson.loads(data)
    before = orjson.dumps(document)
    given = resources_from_terraform(document, "given.json")
    assert orjson.dumps(document) == before  # nothing written into a document it was given
    rows = [(r.id, r.type, r.properties, r.identity, r.tags) for r in owned]
    assert rows == [(r.id, r.type, r.properties, r.identity, r.tags) for r in given]


OVERLAYS = [
    ({"a": 1, "b": {"c": 2}}, {"b": {"d": True}, "e": False, "f": {}}),
    ({"l": [{"x": 1}, {"y": 2}]}, {"l": [False, {"z": True}, True]}),
    ({"l": [1, 2, 3]}, {"l": [True]}),
    ({"id": None, "blocks": []}, {"id": True, "blocks": [{"p": True}]}),
    ({"s": "text"}, {"s": {"k": True}}),
    ({}, {"missing": [True, False]}),
]


@pytest.mark.parametrize(("after", "unknown"), OVERLAYS)
def test_overlaying_in_place_marks_the_same_unknowns_as_overlaying_a_copy(
    after: dict[str, Any], unknown: dict[str, Any]
) -> None:
    pristine = orjson.dumps(after)
    copied = _overlay(after, unknown)
    assert orjson.dumps(after) == pristine  # a copy: the caller's values untouched
    in_place = _overlay(orjson.loads(pristine), unknown, owned=True)
    assert _shown(in_place) == _shown(copied)


def _shown(value: Any) -> Any:
    """UNKNOWN is never equal to itself: compared by a spelling."""
    if value is UNKNOWN:
        return "<unknown>"
    if isinstance(value, dict):
        return {key: _shown(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return value


def test_an_unknown_reference_is_resolved_once_per_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A role assignment's scope is asked for by its id (its parent) and by its mapping.
    document = orjson.loads((FIXTURES / "tf_plan_ai_landing_zone.json").read_bytes())
    asking: list[tuple[str, tuple[Any, ...]]] = []  # the resolve calls under way, innermost last
    followed: list[tuple[str, tuple[Any, ...]]] = []
    resolve, referenced = Resolver.resolve, Resolver._referenced

    def resolving(self: Resolver, instance: Any, steps: tuple[Any, ...]) -> Any:
        asking.append((instance.address, steps))
        try:
            return resolve(self, instance, steps)
        finally:
            asking.pop()

    def following(self: Resolver, references: list[Any], *args: Any) -> Any:
        if args[-1] == 0:  # (not a module variable's or output's own references)
            followed.append(asking[-1])
        return referenced(self, references, *args)

    monkeypatch.setattr(Resolver, "resolve", resolving)
    monkeypatch.setattr(Resolver, "_referenced", following)
    resources = resources_from_terraform(document, "plan.json")
    scopes = [f for f in followed if f[0].startswith("azurerm_role_assignment.")]
    assert scopes, "the fixture's role assignments have unknown scopes"
    assert any(r.type == "microsoft.authorization/roleassignments" for r in resources)
    assert len(followed) == len(set(followed))
