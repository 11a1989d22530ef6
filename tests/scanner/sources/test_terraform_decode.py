"""Reading a plan file: the fast decoder gives what parsing the whole document gives.

``read_estate`` decodes a file that starts like ``terraform show -json`` output with
``terraform_decode``, which leaves out what the reader never reads; anything it does not take is
parsed whole, so results and error messages are those of the generic path.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import sys
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from tests.scanner.sources.test_terraform import broken_plan
from tutela.scanner.estate import Resource
from tutela.scanner.sources import SourceError, load_json, parse_document, read_estate
from tutela.scanner.sources.terraform import unsupported_types
from tutela.scanner.sources.terraform_decode import decode_plan, expressions_of

FIXTURES = Path(__file__).parent / "fixtures"
BENCH = Path(__file__).resolve().parents[3] / "bench"
FIELDS = [field.name for field in dataclasses.fields(Resource)]
CHAT_SUB = "c0ffee00-1234-4abc-9def-0123456789ab"  # tf_plan_modules: from its client config


def _document(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _write(tmp_path: Path, document: Any, name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2))  # keeps "format_version" first
    return path


def _rows(resources: list[Resource]) -> list[tuple[Any, ...]]:
    return [tuple(getattr(resource, name) for name in FIELDS) for resource in resources]


def _generic(path: Path) -> list[Resource]:
    """The resources of the file parsed whole, as every other kind of file is."""
    return parse_document(load_json(path.read_bytes(), str(path)), str(path))


def _assert_read_as_whole(path: Path) -> None:
    fast = read_estate([path])
    skipped = unsupported_types(str(path))
    generic = _generic(path)
    assert _rows(list(fast)) == _rows(generic)
    assert skipped == unsupported_types(str(path))


# --- the same resources -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tf_plan_ai_landing_zone", "tf_plan_modules"])
def test_a_plan_file_is_decoded_fast_into_the_same_resources(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes((FIXTURES / f"{name}.json").read_bytes())
    assert decode_plan(path.read_bytes()) is not None
    _assert_read_as_whole(path)


@pytest.fixture(scope="module")
def generated_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(BENCH))  # bench/ is not a package
    try:
        import generate
    finally:
        sys.path.remove(str(BENCH))
    directory = tmp_path_factory.mktemp("estate")
    generate.generate(1000, 42, directory)
    return directory / "plan.json"


def test_a_generated_thousand_resource_plan_reads_the_same(generated_plan: Path) -> None:
    assert decode_plan(generated_plan.read_bytes()) is not None
    _assert_read_as_whole(generated_plan)
    assert len(read_estate([generated_plan])) > 800  # all but deleted and unmapped


def test_the_decoded_plan_leaves_out_what_the_reader_never_reads() -> None:
    decoded = decode_plan((FIXTURES / "tf_plan_ai_landing_zone.json").read_bytes())
    assert decoded is not None
    assert set(decoded) == {"resource_changes", "prior_state", "configuration"}
    for record in decoded["resource_changes"]:
        assert set(record) <= {"address", "type", "mode", "module_address", "index", "change"}
        assert set(record["change"]) == {"actions", "after", "after_unknown"}
    resources = decoded["configuration"]["root_module"]["resources"]
    assert all(isinstance(r["expressions"], msgspec.Raw) for r in resources), "not decoded yet"
    configuration = orjson.dumps([expressions_of(r) for r in resources]).decode()
    assert "constant_value" not in configuration
    assert '"references"' in configuration
    assert all(not isinstance(r["expressions"], msgspec.Raw) for r in resources), "decoded once"
    original = _document("tf_plan_ai_landing_zone")["configuration"]
    assert decoded["configuration"]["provider_config"] == original["provider_config"]


def test_expressions_of_an_unexpected_shape_read_as_the_generic_reader_reads_them() -> None:
    config = {"expressions": msgspec.Raw(b'{"tags": "not an expression", "n": [1, 2]}')}
    assert expressions_of(config) == {"tags": "not an expression", "n": [1, 2]}
    assert expressions_of({"expressions": {"a": {}}}) == {"a": {}}  # the generic reader's dict


def test_nested_blocks_keep_their_references_and_positions() -> None:
    expressions = {
        "name": {"constant_value": "pe"},
        "subnet_id": {"references": ["azurerm_subnet.s.id", "azurerm_subnet.s"]},
        "private_service_connection": [
            {"name": {"constant_value": "a"}},
            {"private_connection_resource_id": {"references": ["azurerm_x.y.id"]}},
        ],
    }
    resource = {"address": "azurerm_private_endpoint.pe", "expressions": expressions}
    document = {
        "format_version": "1.2",
        "resource_changes": [],
        "configuration": {"root_module": {"resources": [resource]}},
    }
    decoded = decode_plan(orjson.dumps(document))
    assert decoded is not None
    (kept,) = decoded["configuration"]["root_module"]["resources"]
    assert expressions_of(kept) == {
        "subnet_id": {"references": ["azurerm_subnet.s.id", "azurerm_subnet.s"]},
        "private_service_connection": [
            {},
            {"private_connection_resource_id": {"references": ["azurerm_x.y.id"]}},
        ],
    }


def test_prior_state_data_sources_are_read_in_child_modules_and_resources_skipped(
    tmp_path: Path,
) -> None:
    document = _document("tf_plan_modules")
    root = document["prior_state"]["values"]["root_module"]
    (client_config,) = root["resources"]
    client_config["address"] = "module.chat.data.azurerm_client_config.current"
    managed = {"address": "azurerm_resource_group.rg", "mode": "managed"}
    managed |= {"type": "azurerm_resource_group", "values": {"name": "rg-chat", "tags": {}}}
    root["resources"] = [managed]
    root["child_modules"] = [{"address": "module.chat", "resources": [client_config]}]
    path = _write(tmp_path, document)

    decoded = decode_plan(path.read_bytes())
    assert decoded is not None
    decoded_root = decoded["prior_state"]["values"]["root_module"]
    assert decoded_root["resources"][0]["values"] == {}  # never read: only checked an object
    assert decoded_root["child_modules"][0]["resources"][0]["values"]["subscription_id"] == (
        CHAT_SUB
    )
    _assert_read_as_whole(path)
    assert {resource.subscription_id for resource in read_estate([path])} == {CHAT_SUB}


def test_a_state_and_a_plan_not_starting_with_its_format_version_are_parsed_whole(
    tmp_path: Path,
) -> None:
    state = tmp_path / "tf_state.json"
    state.write_bytes((FIXTURES / "tf_state.json").read_bytes())
    assert decode_plan(state.read_bytes()) is None  # {"format_version": …, "values": …}
    _assert_read_as_whole(state)

    document = _document("tf_plan_modules")
    reordered = {"terraform_version": document.pop("terraform_version"), **document}
    path = _write(tmp_path, reordered)
    assert decode_plan(path.read_bytes()) is None
    _assert_read_as_whole(path)


def test_a_planned_values_only_document_is_parsed_whole(tmp_path: Path) -> None:
    values = {"name": "oai-x", "resource_group_name": "rg-x", "local_auth_enabled": True}
    record = {"address": "azurerm_cognitive_account.x", "mode": "managed"}
    record |= {"type": "azurerm_cognitive_account", "values": values}
    document = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [record]}}}
    path = _write(tmp_path, document)
    assert decode_plan(path.read_bytes()) is None
    _assert_read_as_whole(path)
    assert len(read_estate([path])) == 2  # the account and its subscription


# --- the same errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (broken_plan("resource_changes", {"a": 1}), "resource_changes is an object, not a list"),
        (broken_plan("resource_changes.2", "azurerm_x.y"), "resource_changes[2] is a string"),
        (
            broken_plan("resource_changes.3.change", "create"),
            "resource_changes[3] (azurerm_virtual_network.main) has no change object",
        ),
        (
            broken_plan("resource_changes.3.change", KeyError),
            "resource_changes[3] (azurerm_virtual_network.main) has no change object",
        ),
        (
            broken_plan("resource_changes.3.change.actions", "create"),
            "resource_changes[3].change.actions is not a list",
        ),
        (
            broken_plan("resource_changes.3.change.after", [1]),
            "resource_changes[3].change.after is a list",
        ),
        (broken_plan("resource_changes.2.address", 7), "resource_changes[2] has no address"),
        (
            broken_plan("prior_state.values.root_module.resources.0.values", 3),
            "prior_state.values.root_module.resources[0].values is not an object",
        ),
        (
            broken_plan("prior_state.values.root_module", []),
            "prior_state.values.root_module is a list, not an object",
        ),
    ],
)
def test_a_malformed_plan_file_gives_the_generic_error(
    document: Any, problem: str, tmp_path: Path
) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(SourceError) as generic:
        _generic(path)
    with pytest.raises(SourceError) as raised:
        read_estate([path])
    assert str(raised.value) == str(generic.value)
    assert problem in raised.value.problem


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"format_version": "1.2", "resource_changes": [', id="truncated"),
        pytest.param(b'{"format_version": "1.2", "resource_changes": []} x', id="trailing"),
        pytest.param(
            b'{"format_version": "1.2", "planned_values": "\xff", "resource_changes": []}',
            id="not UTF-8 where skipped",
        ),
        pytest.param(
            b'{"format_version": "1.2", "resource_changes": [{"address": "\xff"}]}',
            id="not UTF-8 where read",
        ),
        pytest.param(
            b'{"format_version": "1.2", "planned_values": [NaN], "resource_changes": []}',
            id="NaN where skipped",
        ),
    ],
)
def test_a_plan_file_that_is_not_json_is_refused_as_before(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(SourceError, match="not valid JSON"):
        read_estate([path])


def test_a_malformed_configuration_still_only_loses_reference_resolution(tmp_path: Path) -> None:
    document = _document("tf_plan_modules")
    document["configuration"] = {"root_module": ["not", "a", "module"], "provider_config": 3}
    path = _write(tmp_path, document)
    _assert_read_as_whole(path)


def test_reading_a_plan_leaves_garbage_collection_as_it_was(tmp_path: Path) -> None:
    path = _write(tmp_path, _document("tf_plan_modules"))
    assert gc.isenabled()
    read_estate([path])
    assert gc.isenabled()
    with pytest.raises(SourceError):
        read_estate([_write(tmp_path, broken_plan("resource_changes", {}), "bad.json")])
    assert gc.isenabled()
    gc.disable()
    try:
        read_estate([path])
        assert not gc.isenabled()
    finally:
        gc.enable()
