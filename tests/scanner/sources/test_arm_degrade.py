"""A construct the ARM reader cannot follow costs that declaration (with a note), never the file."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.scanner.estate import UNKNOWN
from tutela.scanner.outputs.locations import locate
from tutela.scanner.sources import SourceError, parse_document, read_estate, reading_notes
from tutela.scanner.sources.terraform import unsupported_types

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-template"
STORAGE = f"{RG}/providers/Microsoft.Storage/storageAccounts"
ASSIGNMENT = "1f1b2c3d-0000-4000-8000-000000000001"
READER = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/"
    "roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
)


def _template(*resources: Any) -> dict[str, Any]:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": list(resources)}


def _account(name: str = "stdata") -> dict[str, Any]:
    return {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": "2023-01-01",
        "name": name,
        "location": "westeurope",
        "properties": {"allowBlobPublicAccess": True},
    }


def _types(document: Any) -> list[str]:
    return [r.type for r in parse_document(document, "t.json", "arm")]


COMMENTED = """{
  // ARM reads JSON with comments
  "$schema": "<schema>",
  "contentVersion": "1.0.0.0",
  /* a block comment with "quotes", [brackets] and {braces},
     over two lines */
  "resources": [
    {
      "type": "Microsoft.Storage/storageAccounts", // the first account
      "name": "stfirst",
      "properties": {"note": "a // inside a string is text, /* so is this */"},
    },
    // the second: "its" line must still be found ] }
    {
      "type": "Microsoft.Storage/storageAccounts",
      "name": "stsecond",
      "properties": {},
    },
  ],
}
""".replace("<schema>", SCHEMA)


def test_a_template_with_comments_and_trailing_commas_is_read(tmp_path: Path) -> None:
    path = tmp_path / "main.json"
    path.write_text(COMMENTED)
    estate = read_estate([path])
    first = estate.get(f"{STORAGE}/stfirst")
    assert first is not None
    assert first.properties["note"] == "a // inside a string is text, /* so is this */"
    second = estate.get(f"{STORAGE}/stsecond")
    assert second is not None
    found = locate([path], [second])
    opening = COMMENTED.splitlines().index("    {", 12) + 1  # the second declaration's brace
    assert found[second.key].line == opening == 14
    assert found[second.key].column == 5


def test_a_file_that_is_still_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "main.json"
    path.write_text('{"resources": [ /* never closed ]}')
    with pytest.raises(SourceError, match="not valid JSON"):
        read_estate([path])


def _nested_expression() -> dict[str, Any]:
    return {
        "type": "Microsoft.Resources/deployments",
        "apiVersion": "2022-09-01",
        "name": "inner",
        "properties": {"mode": "Incremental", "template": "[variables('inner')]"},
    }


def test_a_nested_template_given_as_an_expression_is_one_note(tmp_path: Path) -> None:
    path = tmp_path / "main.json"
    path.write_text(json.dumps(_template(_account(), _nested_expression())))
    result = CliRunner().invoke(app, ["scan", str(path), "--format", "json", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert any(f["resource"] == f"{STORAGE}/stdata" for f in report["findings"])
    note = "nested template at resources[1] is an expression: its resources are not evaluated"
    assert result.stderr.count(note) == 1


def test_a_note_is_said_once_however_many_copies_share_it(tmp_path: Path) -> None:
    looped = {
        "type": "Microsoft.Storage/storageAccounts/blobServices",
        "name": "[concat('st', copyIndex())]",  # one segment where the type needs two
        "copy": {"name": "accounts", "count": 3},
    }
    path = tmp_path / "main.json"
    path.write_text(json.dumps(_template(_account(), looped)))
    result = CliRunner().invoke(app, ["scan", str(path), "--format", "json", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("resources[1]: its name has 1 segment(s)") == 1
    quiet = CliRunner().invoke(app, ["scan", str(path), "-q", "--fail-on", "none"])
    assert "resources[1]" not in quiet.stderr


def test_a_legacy_extension_role_assignment_is_related_to_its_account() -> None:
    legacy = {
        "type": "Microsoft.Storage/storageAccounts/providers/roleAssignments",
        "apiVersion": "2018-09-01-preview",
        "name": f"[concat('stdata', '/Microsoft.Authorization/', '{ASSIGNMENT}')]",
        "properties": {"roleDefinitionId": READER, "principalId": "p-1"},
    }
    resources = parse_document(_template(_account(), legacy), "t.json", "arm")
    account = next(r for r in resources if r.id == f"{STORAGE}/stdata")
    assert account.role_assignments is not None
    [assigned] = account.role_assignments
    expected = f"{STORAGE}/stdata/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT}"
    assert assigned["id"] == expected
    assert assigned["properties"]["scope"] == f"{STORAGE}/stdata"
    assert reading_notes("t.json") == []


def test_an_extension_whose_name_is_unknown_keeps_its_type_but_not_its_scope() -> None:
    legacy = {
        "type": "Microsoft.Storage/storageAccounts/providers/roleAssignments",
        "name": "[reference('somewhere').name]",
        "properties": {"roleDefinitionId": READER, "principalId": "p-1"},
    }
    resources = parse_document(_template(_account(), legacy), "t.json", "arm")
    [assignment] = [r for r in resources if r.type == "microsoft.authorization/roleassignments"]
    assert "{unknown name of resources[1]}" in assignment.id
    account = next(r for r in resources if r.id == f"{STORAGE}/stdata")
    assert account.role_assignments == []


def _deployment(template: Any) -> dict[str, Any]:
    return {"type": "Microsoft.Resources/deployments", "name": "d", "properties": template}


@pytest.mark.parametrize(
    ("declaration", "noted"),
    [
        ("acct", "resources[1] is not a resource declaration (an object): left out"),
        ({"name": "a"}, 'resources[1] has no "type" (a non-empty string): left out'),
        ({"type": "Microsoft.X/y"}, 'resources[1] has no "name"'),
        ({"type": "Microsoft.X/y", "name": 5}, 'resources[1] has no "name"'),
        ({"type": 5, "name": "a"}, 'resources[1] has no "type"'),
        (_account("b") | {"copy": [1]}, "resources[1].copy is not an object (name, count)"),
        (
            _account("b") | {"resources": {}},
            "resources[1].resources is not an array: its resources are left out",
        ),
        (
            _account("b") | {"resources": [{"type": "blobServices"}]},
            'resources[1].resources[0] has no "name"',
        ),
        (
            {"type": "Microsoft.X/y/z", "name": "a"},
            "resources[1]: its name has 1 segment(s) but its type needs 2: left out",
        ),
        (
            {"type": "storage", "name": "[reference('x')]"},
            "resources[1].type is not a resource type (Namespace/type): left out",
        ),
        (
            {"type": "Microsoft.Storage/storageAccounts/providers/locks", "name": "a/b"},
            "resources[1]: not named parent/Namespace/name: left out",
        ),
        (
            _deployment({"template": []}),
            "nested template at resources[1] is not an object: its resources are left out",
        ),
        (
            _deployment({"template": {}}),
            'resources[1].properties.template."resources" is missing',
        ),
        (
            _deployment({"template": {"resources": [], "variables": []}}),
            'resources[1].properties.template."variables" must be an object',
        ),
    ],
)
def test_a_construct_the_reader_cannot_follow_is_left_out_with_a_note(
    declaration: Any, noted: str
) -> None:
    types = _types(_template(_account(), copy.deepcopy(declaration)))
    assert "microsoft.storage/storageaccounts" in types  # the rest of the file is read
    [said] = reading_notes("t.json")
    assert said.startswith(noted)


def test_notes_are_those_of_the_last_parse() -> None:
    _types(_template(_account(), "acct"))
    assert reading_notes("t.json")
    _types(_template(_account()))
    assert reading_notes("t.json") == []


def test_parallel_reads_of_one_name_keep_their_own_notes() -> None:
    """The API reads every body as "body", in parallel threads: one request's notes never
    reach another's report."""
    noted = _template(_account(), _nested_expression())
    clean = _template(_account())
    barrier = threading.Barrier(2, timeout=10)
    seen: dict[str, list[str]] = {}

    def read(name: str, document: dict[str, Any]) -> None:
        if name == "clean":
            barrier.wait()  # after the noted body is parsed, before its notes are read
        parse_document(document, "body")
        if name == "noted":
            barrier.wait()
        seen[name] = reading_notes("body")

    threads = [
        threading.Thread(target=read, args=(name, document))
        for name, document in (("noted", noted), ("clean", clean))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert seen["clean"] == []
    assert seen["noted"] == [
        "nested template at resources[1] is an expression: its resources are not evaluated"
    ]


def test_a_plan_s_skipped_types_are_forgotten_when_another_document_of_its_name_is_read() -> None:
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "azurerm_linux_web_app.app",
                "mode": "managed",
                "type": "azurerm_linux_web_app",
                "change": {"actions": ["create"], "after": {"name": "app"}, "after_unknown": {}},
            }
        ],
    }
    parse_document(plan, "body")
    assert unsupported_types("body") == {"azurerm_linux_web_app": 1}
    parse_document(_template(_account()), "body")
    assert unsupported_types("body") == {}


def test_a_parameter_used_but_never_declared_is_noted_and_its_values_unknown() -> None:
    account = _account()
    account["properties"] = {"minimumTlsVersion": "[parameters('tlsVersion')]"}
    inner = {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"name": {"type": "string"}},
        "resources": [{**_account("[parameters('name')]"), "sku": "[parameters('sku')]"}],
    }
    nested = {
        "type": "Microsoft.Resources/deployments",
        "apiVersion": "2022-09-01",
        "name": "inner",
        "properties": {
            "mode": "Incremental",
            "expressionEvaluationOptions": {"scope": "inner"},
            "parameters": {"name": {"value": "stinner"}},
            "template": inner,
        },
    }

    resources = {r.name: r for r in parse_document(_template(account, nested), "t.json", "arm")}

    assert resources["stdata"].properties["minimumTlsVersion"] is UNKNOWN
    assert "stinner" in resources
    assert reading_notes("t.json") == [
        "parameter 'sku' is used but not declared in the nested template at resources[1]: unknown",
        "parameter 'tlsVersion' is used but not declared: unknown",
    ]


def test_a_declared_parameter_without_a_value_is_no_note() -> None:
    account = _account()
    account["properties"] = {"minimumTlsVersion": "[parameters('tlsVersion')]"}
    document = {**_template(account), "parameters": {"tlsVersion": {"type": "string"}}}

    parse_document(document, "t.json", "arm")

    assert reading_notes("t.json") == []
