"""ARM scope honesty: resources deployed under an undecided condition are marked, linked
templates are listed as not evaluated (issue 20, point 4)."""

from __future__ import annotations

from typing import Any

import pytest

from tutela.scanner.sources import left_unevaluated, parse_document, reading_notes

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
SOURCE = "t.json"


def template(*resources: Any, **parameters: Any) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": parameters,
        "resources": list(resources),
    }


def account(name: str, **members: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": "2023-01-01",
        "name": name,
        "location": "westeurope",
        "properties": {"minimumTlsVersion": "TLS1_2"},
        **members,
    }


def deployment(name: str, properties: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.Resources/deployments",
        "apiVersion": "2022-09-01",
        "name": name,
        "properties": {"mode": "Incremental", **properties},
        **members,
    }


def conditions(document: dict[str, Any]) -> dict[str, str | None]:
    """resource name → the condition it is marked with (subscriptions aside)."""
    return {
        r.name: r.conditional
        for r in parse_document(document, SOURCE, "arm")
        if r.type != "microsoft.resources/subscriptions"
    }


UNDECIDED = "[parameters('deploy')]"
DEPLOY = {"deploy": {"type": "bool"}}  # no default value: undecidable offline


def test_a_copy_loop_of_unknown_length_is_marked_as_it_may_deploy_nothing() -> None:
    names = {"names": {"type": "array"}}  # no default value: its length is unknown offline
    unknown = {"name": "accounts", "count": "[length(parameters('names'))]"}
    known = {"name": "fixed", "count": 2}

    found = conditions(
        template(
            account("[format('st{0}', copyIndex())]", copy=unknown),
            account("[format('fixed{0}', copyIndex())]", copy=known),
            **names,
        )
    )

    assert found == {
        "st{copyIndex}": "copy count [length(parameters('names'))]",
        "fixed0": None,
        "fixed1": None,
    }


def test_a_resource_under_an_undecided_condition_is_deployed_and_marked() -> None:
    found = conditions(template(account("stmaybe", condition=UNDECIDED), **DEPLOY))
    assert found == {"stmaybe": UNDECIDED}


def test_a_decided_condition_marks_nothing_and_a_false_one_leaves_the_resource_out() -> None:
    on = {"on": {"type": "bool", "defaultValue": True}}
    found = conditions(
        template(
            account("styes", condition="[parameters('on')]"),
            account("stno", condition="[not(parameters('on'))]"),
            account("stliteral", condition=True),
            account("stplain"),
            **on,
        )
    )
    assert found == {"styes": None, "stliteral": None, "stplain": None}
    # not deployed with the parameters given: listed once, so the user sees what was not read
    assert left_unevaluated(SOURCE) == [
        {
            "reason": "condition_false",
            "type": "microsoft.storage/storageaccounts",
            "count": 1,
            "resources": [f"{SOURCE}: resources[1]"],
            "detail": "not deployed with the parameters given: its condition is false",
        }
    ]


def test_children_and_copies_inherit_their_parent_s_undecided_condition() -> None:
    blob = {"type": "blobServices", "apiVersion": "2023-01-01", "name": "default"}
    looped = account(
        "[concat('st', copyIndex())]",
        condition=UNDECIDED,
        copy={"name": "accounts", "count": 2},
        resources=[blob],
    )
    found = conditions(template(looped, **DEPLOY))
    assert found == {"st0": UNDECIDED, "st1": UNDECIDED, "default": UNDECIDED}


def test_a_nested_deployment_s_undecided_condition_marks_its_resources() -> None:
    inner = template(account("stinner"))
    nested = deployment("inner", {"template": inner}, condition=UNDECIDED)
    found = conditions(template(nested, account("stouter"), **DEPLOY))
    assert found == {"stinner": UNDECIDED, "stouter": None}


def test_the_outermost_undecided_condition_is_the_one_kept() -> None:
    inner = template(account("stinner", condition="[parameters('other')]"))
    nested = deployment("inner", {"template": inner}, condition=UNDECIDED)
    found = conditions(template(nested, **DEPLOY, other={"type": "bool"}))
    assert found == {"stinner": UNDECIDED}


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        ({"uri": "https://example.org/t/net.json"}, "https://example.org/t/net.json"),
        ({"relativePath": "modules/net.json"}, "modules/net.json"),
        (
            {
                "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Resources/"
                "templateSpecs/net/versions/1.0"
            },
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Resources/"
            "templateSpecs/net/versions/1.0 (a template spec)",
        ),
        (
            {"uri": "[uri(deployment().properties.templateLink.uri, 'net.json')]"},
            "given as an expression",
        ),
    ],
)
def test_a_linked_template_is_listed_as_not_evaluated_with_a_note(
    link: dict[str, Any], shown: str
) -> None:
    parse_document(template(deployment("net", {"templateLink": link})), SOURCE, "arm")

    assert left_unevaluated(SOURCE) == [
        {
            "reason": "linked_template",
            "type": "microsoft.resources/deployments",
            "count": 1,
            "resources": [f"{SOURCE}: resources[0]"],
            "detail": f"linked template {shown}: its resources are not evaluated",
        }
    ]
    assert reading_notes(SOURCE) == [
        f"linked template {shown} at resources[0]: its resources are not evaluated"
    ]


def test_a_linked_template_s_sas_token_and_credentials_are_never_shown() -> None:
    link = {
        "uri": "https://user:pw@example.org/net.json?sv=2022&sig=S3CRETsig%3D",
        "queryString": "sig=Q",
    }
    parse_document(template(deployment("net", {"templateLink": link})), SOURCE, "arm")

    said = repr(left_unevaluated(SOURCE)) + repr(reading_notes(SOURCE))
    assert "https://example.org/net.json?…" in said
    for secret in ("S3CRET", "sig=", "user", "pw@", "sig=Q"):
        assert secret not in said


def test_an_expression_nested_template_is_listed_as_not_evaluated() -> None:
    nested = deployment("inner", {"template": "[variables('inner')]"})
    parse_document(template(nested, account("stdata")), SOURCE, "arm")

    [entry] = left_unevaluated(SOURCE)
    assert entry["reason"] == "template_expression"
    assert entry["resources"] == [f"{SOURCE}: resources[0]"]


def test_a_copy_loop_lists_its_linked_template_once_and_another_reading_forgets_it() -> None:
    looped = deployment(
        "[concat('net', copyIndex())]",
        {"templateLink": {"relativePath": "net.json"}},
        copy={"name": "nets", "count": 3},
    )
    parse_document(template(looped), SOURCE, "arm")
    assert len(left_unevaluated(SOURCE)) == 1

    parse_document(template(account("stdata")), SOURCE, "arm")
    assert left_unevaluated(SOURCE) == []
