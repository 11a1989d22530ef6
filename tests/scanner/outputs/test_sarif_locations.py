"""SARIF results point at the line where the failing resource's object starts in its input file:
a real Terraform plan, Resource Graph export and ARM templates, scanned with the shipped
catalogue; and each rule links the check's documentation and names what it matches."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from tests.scanner.outputs.test_outputs import sarif_schema
from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Resource
from tutela.scanner.outputs import locations
from tutela.scanner.outputs.check_help import REPOSITORY
from tutela.scanner.outputs.failing import FailingRows, failing_checks
from tutela.scanner.outputs.locations import Location, locate, locate_failing
from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.sarif import artifact_uri, sarif_blocks
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import read_estate

FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures"
SCAN_TS = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def scanned_sarif(
    paths: list[Path], *, located: bool = True
) -> tuple[dict[str, Any], dict[str, Resource]]:
    """The SARIF of a scan of the files, and the scanned resources by id."""
    estate = read_estate(paths)
    catalog = load_catalog()
    assessment, report = run_scan(
        estate, [f.id for f in catalog.frameworks], scan_ts=SCAN_TS, record_passes=False
    )
    rows = FailingRows(assessment)
    locations = locate_failing(paths, rows) if located else None
    document = orjson.loads(
        b"".join(sarif_blocks(report.header, rows, locations=locations).chunks())
    )
    jsonschema.Draft4Validator(sarif_schema()).validate(document)
    return document, {resource.id: resource for resource in estate}


def declared_object(path: Path, line: int, column: int) -> tuple[str, Any]:
    """The text of the line a region starts on, and the JSON value that starts there."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    offset = sum(len(previous) for previous in lines[: line - 1]) + column - 1
    value, _ = json.JSONDecoder().raw_decode(text, offset)
    return lines[line - 1], value


def at_json_path(document: Any, path: str) -> Any:
    """``resources[2].properties.template.resources[0]`` read from the parsed document."""
    value = document
    for step in path.replace("[", ".[").split("."):
        if step:
            value = value[int(step[1:-1])] if step.startswith("[") else value[step]
    return value


def results_with_places(
    document: dict[str, Any], resources: dict[str, Resource]
) -> list[tuple[Resource, dict[str, Any]]]:
    """Each result on a resource declared in a file, and its physical location. A resource
    group the scan implied from its resources' ids is declared nowhere: its results stay on
    line 1."""
    found = []
    for result in document["runs"][0]["results"]:
        resource = resources[result["properties"]["resource"]]
        physical = result["locations"][0]["physicalLocation"]
        if str(resource.origin).endswith(": implied by its resources"):
            assert physical["region"] == {"startLine": 1}
        else:
            found.append((resource, physical))
    return found


def uri(path: Path) -> str:
    return artifact_uri(str(path), Path.cwd())


def test_every_result_on_a_real_plan_points_at_its_resource_changes_entry() -> None:
    plan = FIXTURES / "tf_plan_ai_landing_zone.json"
    document, resources = scanned_sarif([plan])
    placed = results_with_places(document, resources)
    assert len(placed) > 20  # the landing zone fails many checks on many resources
    addresses = set()
    for resource, physical in placed:
        assert physical["artifactLocation"]["uri"] == uri(plan)
        region = physical["region"]
        assert region["startLine"] > 1
        line, entry = declared_object(plan, region["startLine"], region["startColumn"])
        assert line.strip() == "{"
        address = str(resource.origin).split(": ", 1)[1]
        # The resource_changes entry (planned_values repeats the address without a change).
        assert entry["address"] == address
        assert "change" in entry
        addresses.add(address)
    assert "azurerm_cognitive_account.openai" in addresses


def test_module_and_for_each_addresses_are_found_with_their_escaped_keys() -> None:
    plan = FIXTURES / "tf_plan_modules.json"
    document, resources = scanned_sarif([plan])
    addresses = set()
    for resource, physical in results_with_places(document, resources):
        region = physical["region"]
        _, entry = declared_object(plan, region["startLine"], region["startColumn"])
        assert entry["address"] == str(resource.origin).split(": ", 1)[1]
        assert "change" in entry
        addresses.add(entry["address"])
    assert 'module.chat.azurerm_cognitive_deployment.models["gpt-4o"]' in addresses


def test_a_resource_graph_export_points_at_each_record() -> None:
    export = FIXTURES / "arg_export.json"
    document, resources = scanned_sarif([export])
    placed = results_with_places(document, resources)
    assert placed
    for resource, physical in placed:
        region = physical["region"]
        line, record = declared_object(export, region["startLine"], region["startColumn"])
        assert line.strip() == "{"
        assert record["id"] == resource.id
        record_path = str(resource.origin).split(": ", 1)[1]  # data[3]
        assert record == at_json_path(json.loads(export.read_text()), record_path)


@pytest.mark.parametrize(
    "template", ["arm_ai_landing_zone.json", "arm_nested.json", "arm_symbolic.json"]
)
def test_an_arm_template_points_at_each_declaration(template: str) -> None:
    path = FIXTURES / template
    document, resources = scanned_sarif([path])
    placed = results_with_places(document, resources)
    assert placed
    parsed = json.loads(path.read_text())
    for resource, physical in placed:
        region = physical["region"]
        line, declaration = declared_object(path, region["startLine"], region["startColumn"])
        assert line.rstrip().endswith("{")  # "{", or a symbolic name's "hub": {
        declaration_path = str(resource.origin).split(": ", 1)[1]
        assert declaration == at_json_path(parsed, declaration_path)
        assert declaration["type"].lower().endswith(resource.type.rsplit("/", 1)[-1])


def test_several_inputs_each_result_names_its_own_file() -> None:
    plan, export = FIXTURES / "tf_plan_ai_landing_zone.json", FIXTURES / "arg_export.json"
    document, resources = scanned_sarif([plan, export])
    files = set()
    for resource, physical in results_with_places(document, resources):
        declared_in = plan if str(resource.origin).startswith(f"{plan}: ") else export
        assert physical["artifactLocation"]["uri"] == uri(declared_in)
        files.add(declared_in)
        region = physical["region"]
        _, value = declared_object(declared_in, region["startLine"], region["startColumn"])
        if declared_in == export:
            assert value["id"] == resource.id
        else:
            assert value["address"] == str(resource.origin).split(": ", 1)[1]
    assert files == {plan, export}


def test_without_locations_results_stay_on_line_1() -> None:
    document, _ = scanned_sarif([FIXTURES / "arm_nested.json"], located=False)
    for result in document["runs"][0]["results"]:
        assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


def test_a_one_line_plan_gets_the_column_in_utf16_units(tmp_path: Path) -> None:
    """`terraform show -json` prints one line: the column is what says where."""
    plan = json.loads((FIXTURES / "tf_plan_ai_landing_zone.json").read_text())
    plan["variables"]["owner"] = {"value": "Zoë 😀 «ops»"}  # before every resource on the line
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    document, resources = scanned_sarif([path])
    text = path.read_text(encoding="utf-8")
    utf16 = text.encode("utf-16-le")
    for resource, physical in results_with_places(document, resources):
        region = physical["region"]
        assert region["startLine"] == 1
        unit = region["startColumn"] - 1  # SARIF's default: UTF-16 code units
        at = len(utf16[: unit * 2].decode("utf-16-le"))
        entry, _ = json.JSONDecoder().raw_decode(text, at)
        assert entry["address"] == str(resource.origin).split(": ", 1)[1]


def test_a_referenced_id_is_not_taken_for_the_record(tmp_path: Path) -> None:
    """An id can stand in an earlier record (a private endpoint connection's endpoint): the
    record whose own id it is wins."""
    endpoint = (
        "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe-1"
    )
    records = [
        {
            "id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.CognitiveServices/"
            "accounts/oai",
            "name": "oai",
            "type": "microsoft.cognitiveservices/accounts",
            "properties": {
                "privateEndpointConnections": [
                    {"properties": {"privateEndpoint": {"id": endpoint}}}
                ]
            },
        },
        {"id": endpoint, "name": "pe-1", "type": "microsoft.network/privateendpoints"},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(records, indent=2))
    found = locate([path], read_estate([path]))
    _, record = declared_object(path, found[endpoint.lower()].line, found[endpoint.lower()].column)
    assert record["name"] == "pe-1"
    assert found[records[0]["id"].lower()] == Location(str(path), 2, 3)


def test_resources_from_elsewhere_or_missing_files_have_no_location(tmp_path: Path) -> None:
    live = Resource(id="/subscriptions/s1", type="microsoft.resources/subscriptions", name="s1")
    gone = Resource(id="/x", type="t", name="x", origin=f"{tmp_path / 'gone.json'}: azurerm_x.y")
    assert locate([tmp_path / "gone.json"], [live, gone]) == {}


def test_each_rule_links_its_documentation_and_names_what_it_matches() -> None:
    document, _ = scanned_sarif([FIXTURES / "tf_plan_ai_landing_zone.json"])
    rules = {rule["id"]: rule for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    for rule in rules.values():
        assert rule["helpUri"].startswith(f"{REPOSITORY}/blob/main/src/tutela/scanner/catalog/")
        assert rule["helpUri"] in rule["help"]["markdown"]
    local_auth = rules["AOAI-LOCAL-AUTH"]
    assert local_auth["helpUri"].endswith("CHECKS.md#:~:text=AOAI%2DLOCAL%2DAUTH")
    references = local_auth["properties"]["references"]
    assert {"kind": "checkov", "id": "CKV_AZURE_236"} in references
    policy = next(r for r in references if r["kind"] == "azure_policy")
    assert policy["id"] == "71ef260a-8f18-47b7-abcb-62d0673d94dc"  # from the catalogue
    assert "Checkov: CKV_AZURE_236" in local_auth["help"]["text"]
    assert f"Azure Policy: {policy['title']} ({policy['id']})" in local_auth["help"]["markdown"]


def test_a_report_read_back_gets_its_references_from_the_shipped_catalogue(
    report: dict[str, Any],
) -> None:
    document = orjson.loads(
        dumps(orjson.loads(b"".join(sarif_blocks(report, failing_checks(report)).chunks())))
    )
    rule = document["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["id"] == "AOAI-LOCAL-AUTH"
    assert {"kind": "checkov", "id": "CKV_AZURE_236"} in rule["properties"]["references"]


@pytest.mark.parametrize("indent", [True, False])
def test_lines_and_columns_are_json_numbers_indented_or_not(indent: bool) -> None:
    plan = FIXTURES / "tf_plan_modules.json"
    estate = read_estate([plan])
    assessment, report = run_scan(
        estate, ["iso42001", "dora"], scan_ts=SCAN_TS, record_passes=False
    )
    rows = FailingRows(assessment)
    blocks = sarif_blocks(
        report.header, rows, indent=indent, locations=locate_failing([plan], rows)
    )
    document = orjson.loads(b"".join(blocks.chunks()))
    jsonschema.Draft4Validator(sarif_schema()).validate(document)
    regions = [
        result["locations"][0]["physicalLocation"]["region"]
        for result in document["runs"][0]["results"]
    ]
    located = [region for region in regions if "startColumn" in region]
    assert located
    for region in located:
        assert type(region["startLine"]) is int
        assert type(region["startColumn"]) is int


def test_a_file_changed_since_the_scan_gives_no_location_and_no_error(tmp_path: Path) -> None:
    path = tmp_path / "template.json"
    source = (FIXTURES / "arm_nested.json").read_text()
    path.write_text(source)
    resources = list(read_estate([path]))
    path.write_text(source[: len(source) // 2])  # cut short, as by a concurrent write
    found = locate([path], resources)
    assert len(found) < len([r for r in resources if "implied" not in str(r.origin)])


def test_a_long_template_is_walked_once_not_once_per_declaration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each declaration is skipped over once in all, not once per declaration after it."""
    count = 300
    declarations = [
        {"type": "Microsoft.KeyVault/vaults", "name": f"kv{i}", "properties": {"a": [i]}}
        for i in range(count)
    ]
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"resources": declarations}, indent=2))
    skips = 0
    skip = locations._skip

    def counted(data: Any, at: int) -> int:
        nonlocal skips
        skips += 1
        return skip(data, at)

    monkeypatch.setattr(locations, "_skip", counted)
    resources = [
        Resource(
            id=f"/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv{i}",
            type="microsoft.keyvault/vaults",
            name=f"kv{i}",
            origin=f"{path}: resources[{i}]",
        )
        for i in reversed(range(count))
    ]
    found = locations.locate([path], resources)
    lines = [found[resource.key] for resource in reversed(resources)]
    assert lines == [Location(str(path), 3 + 9 * i, 5) for i in range(count)]
    assert skips < 2 * count


def _skip_token_by_token(data: bytes, at: int) -> int:
    """How ``_skip`` found a value's end before it took the text between brackets at once."""
    pattern = re.compile(rb'"(?:[^"\\]|\\.)*"|' + locations._COMMENT + rb"|[\[\]{}]", re.DOTALL)
    depth = 0
    for match in pattern.finditer(data, at):
        byte = data[match.start()]
        if byte in b"[{":
            depth += 1
        elif byte in b"]}":
            depth -= 1
            if not depth:
                return match.end()
    return len(data)


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": [1, {"b": "x]}"}], "c": "\\"}"} , 2',
        b"[1, /* ] } */ 2, // ]\n 3] tail",
        b'{"a": "unterminated ] }',
        b'{"a": 1 / 2, "b": [/ ]]}',
        b'{"a": "\\\\"}, "b": ["}"]}',
        b'{"a": /* unterminated ] comment',
        b"[[[]]",
        b"{}",
    ],
)
def test_skipping_a_value_sees_brackets_as_before(text: bytes) -> None:
    assert locations._skip(text, 0) == _skip_token_by_token(text, 0)
