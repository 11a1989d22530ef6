"""The ARM expression language: parsing, functions, parameters and variables, UNKNOWN."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tutela.scanner.estate import UNKNOWN, UnknownObject
from tutela.scanner.sources.arm_expressions import Deployment, Evaluator
from tutela.scanner.sources.arm_parse import ExpressionError, is_expression, literal, parse

SUB = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-ai"
DEPLOYMENT = Deployment(SUB, "rg-ai", "swedencentral")

TEMPLATE: dict[str, Any] = {
    "parameters": {
        "prefix": {"type": "string", "defaultValue": "contoso"},
        "accountName": {
            "type": "string",
            "defaultValue": "[concat(parameters('prefix'), '-aoai')]",
        },
        "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
        "subnetId": {"type": "string"},
        "models": {"type": "array", "defaultValue": [{"name": "gpt-4o"}, {"name": "o1"}]},
        "settings": {"type": "object", "defaultValue": {"network": {"acl": "Deny"}, "tier": 1}},
    },
    "variables": {
        "suffix": "[uniqueString(resourceGroup().id)]",
        "storageName": "[concat('st', variables('suffix'))]",
        "loopA": "[variables('loopB')]",
        "loopB": "[variables('loopA')]",
        "copy": [{"name": "names", "count": 2, "input": "[concat('n', copyIndex('names'))]"}],
    },
}


def _ev(template: dict[str, Any] | None = None, **supplied: Any) -> Evaluator:
    return Evaluator(TEMPLATE if template is None else template, DEPLOYMENT, supplied)


def _eval(text: str, ev: Evaluator | None = None) -> Any:
    return (ev or _ev()).resolve(text)


def test_a_string_is_an_expression_only_in_single_brackets() -> None:
    assert is_expression("[parameters('x')]")
    assert not is_expression("[[not an expression]")
    assert not is_expression("plain [text]")
    assert literal("[[escaped]") == "[escaped]"
    assert _eval("[[literal]") == "[literal]"
    assert _eval("plain") == "plain"
    assert _eval("[no closing bracket") == "[no closing bracket"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("['it''s']", "it's"),
        ("[42]", 42),
        ("[-1]", -1),
        ("[true()]", True),
        ("[false]", False),
        ("[null()]", None),
        ("[ concat( 'a' , 'b' ) ]", "ab"),
        ("[createArray(1, 2, 3)[1]]", 2),
        ('[json(\'{"a": {"b": [5]}}\').a.b[0]]', 5),
        ("[parameters('settings').network.acl]", "Deny"),
        ("[parameters('settings')['tier']]", 1),
        ("[parameters('SETTINGS').Network.ACL]", "Deny"),  # names compare without case
    ],
)
def test_literals_and_member_access(text: str, expected: Any) -> None:
    assert _eval(text) == expected


@pytest.mark.parametrize(
    "text",
    ["[concat('a']", "[concat('a',)]", "['unterminated]", "[1 2]", "[bare]", "[a.b.c]", "[]"],
)
def test_a_malformed_expression_is_unknown_not_an_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text)
    assert _eval(text) is UNKNOWN


def test_parameters_take_supplied_values_then_defaults_which_may_be_expressions() -> None:
    assert _eval("[parameters('accountName')]") == "contoso-aoai"
    assert _eval("[parameters('location')]") == "swedencentral"
    assert _eval("[parameters('accountName')]", _ev(prefix="fabrikam")) == "fabrikam-aoai"
    assert _eval("[parameters('accountName')]", _ev(accountName="given")) == "given"


def test_a_parameter_without_a_value_is_unknown_and_poisons_what_uses_it() -> None:
    assert _eval("[parameters('subnetId')]") is UNKNOWN
    assert _eval("[parameters('undeclared')]") is UNKNOWN
    assert _eval("[concat('x', parameters('subnetId'))]") is UNKNOWN
    assert _eval("[format('{0}-x', parameters('subnetId'))]") is UNKNOWN
    assert _eval("[toLower(parameters('subnetId'))]") is UNKNOWN


def test_for_naming_a_parameter_without_a_value_is_a_placeholder() -> None:
    naming = _ev().for_naming()
    assert naming.resolve("[concat(parameters('subnetId'), '/x')]") == "{subnetId}/x"
    assert naming.resolve("[parameters('undeclared')]") is UNKNOWN
    assert _eval("[parameters('subnetId')]") is UNKNOWN  # the plain evaluator is not affected


def test_variables_resolve_recursively_and_a_cycle_is_unknown() -> None:
    ev = _ev()
    name = _eval("[variables('storageName')]", ev.for_naming())
    assert re.fullmatch(r"st[a-z2-7]{13}", name)
    assert _eval("[variables('storageName')]", ev.for_naming()) == name  # memoised, same answer
    assert _eval("[variables('loopA')]", ev) is UNKNOWN
    assert _eval("[variables('missing')]", ev) is UNKNOWN
    assert _eval("[variables('names')]", ev) == ["n0", "n1"]  # a variable copy loop


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[concat('a', 1, true)]", "a1True"),
        ("[concat(createArray(1), createArray(2, 3))]", [1, 2, 3]),
        ("[format('{0}-{1}', 'a', 7)]", "a-7"),
        ("[format('vm{0:D3}', 7)]", "vm007"),
        ("[format('{{literal}} {0}', 'x')]", "{literal} x"),
        ("[toLower('AbC')]", "abc"),
        ("[toUpper('AbC')]", "ABC"),
        ("[replace('a-b', '-', '_')]", "a_b"),
        ("[split('a/b/c', '/')[2]]", "c"),
        ("[last(split('a/b/c', '/'))]", "c"),
        ("[equals('a', 'a')]", True),
        ("[not(equals(1, 2))]", True),
        ("[and(true(), equals(1, 1))]", True),
        ("[or(false(), false())]", False),
        ("[if(equals(1, 1), 'yes', 'no')]", "yes"),
        ("[bool('true')]", True),
        ("[int('5')]", 5),
        ("[string(5)]", "5"),
        ("[string(true())]", "True"),
        ("[length(parameters('models'))]", 2),
        ("[length('abc')]", 3),
        ("[empty(createArray())]", True),
        ("[empty('')]", True),
        ("[contains(createArray('a', 'b'), 'b')]", True),
        ("[contains('Hello', 'ell')]", True),
        ("[contains(parameters('settings'), 'TIER')]", True),
        (
            "[union(createObject('a', 1, 'n', createObject('x', 1)), "
            "createObject('n', createObject('y', 2)))]",
            {"a": 1, "n": {"x": 1, "y": 2}},
        ),
        ("[union(createArray(1, 2), createArray(2, 3))]", [1, 2, 3]),
        ("[createObject('k', 'v')]", {"k": "v"}),
        ("[coalesce(null(), 'b')]", "b"),
        ("[add(2, 3)]", 5),
        ("[greater(3, 2)]", True),
        ("[range(1, 3)]", [1, 2, 3]),
        ("[first(parameters('models')).name]", "gpt-4o"),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    assert _eval(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[reference('acct').endpoint]",  # runtime state
        "[listKeys('acct', '2024-10-01').key1]",
        "[utcNow()]",
        "[contoso.helper('x')]",  # a user-defined function
        "[noSuchFunction()]",
        "[add('a', 1)]",  # arguments ARM itself would reject
        "[createArray(1)[5]]",
        "[parameters('settings').absent]",
        "[equals(parameters('subnetId'), 'x')]",
        "[equals(createArray(parameters('subnetId')), createArray('x'))]",
        "[not(parameters('subnetId'))]",
        "[format('{0:N2}', 1)]",
        "[string(createArray(parameters('subnetId')))]",
    ],
)
def test_what_cannot_be_known_offline_is_unknown(text: str) -> None:
    assert _eval(text) is UNKNOWN


def test_logic_is_three_valued() -> None:
    unknown = "parameters('subnetId')"
    assert _eval(f"[and(false(), {unknown})]") is False
    assert _eval(f"[and(true(), {unknown})]") is UNKNOWN
    assert _eval(f"[or(true(), {unknown})]") is True
    assert _eval(f"[or(false(), {unknown})]") is UNKNOWN
    assert _eval(f"[if({unknown}, 'same', 'same')]") == "same"  # both branches agree
    assert _eval(f"[if({unknown}, 'a', 'b')]") is UNKNOWN
    assert _eval(f"[if(true(), 'a', {unknown})]") == "a"  # the other branch is not needed
    assert _eval(f"[length(createArray({unknown}, 2))]") == 2  # unknown inside, length known


def test_unique_string_and_guid_are_deterministic_stand_ins_for_naming_only() -> None:
    naming = _ev().for_naming()
    first = _eval("[uniqueString('a', 'b')]", naming)
    assert re.fullmatch(r"[a-z2-7]{13}", first)
    assert _eval("[uniqueString('a', 'b')]", naming) == first
    assert _eval("[uniqueString('a', 'c')]", naming) != first
    guid = _eval("[guid('scope', 'principal')]", naming)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", guid)
    assert _eval("[guid('scope', 'principal')]", naming) == guid
    # not Azure's algorithms: as a value (a tag, a property) they are unknown, never a guess
    assert _eval("[uniqueString('a', 'b')]") is UNKNOWN
    assert _eval("[guid('scope', 'principal')]") is UNKNOWN


def test_a_parameter_default_is_evaluated_for_naming_as_a_variable_is() -> None:
    """Bicep writes ``param name string = 'ais${uniqueString(resourceGroup().id)}'``: the name
    is the stand-in a variable of the same expression gives, its value elsewhere unknown."""
    text = "[format('foundry-{0}', uniqueString(resourceGroup().id))]"
    template = {
        "parameters": {"foundryName": {"type": "string", "defaultValue": text}},
        "variables": {"same": text},
    }
    naming = _ev(template).for_naming()
    name = _eval("[parameters('foundryName')]", naming)
    assert re.fullmatch(r"foundry-[a-z2-7]{13}", name)
    assert _eval("[variables('same')]", naming) == name
    assert _eval("[parameters('foundryName')]", _ev(template)) is UNKNOWN
    assert _eval("[parameters('foundryName')]", _ev(template, foundryName="given")) == "given"


def test_deployment_context_functions() -> None:
    assert _eval("[resourceGroup().name]") == "rg-ai"
    assert _eval("[resourceGroup().id]") == RG_ID
    assert _eval("[resourceGroup().location]") == "swedencentral"
    assert _eval("[subscription().subscriptionId]") == SUB
    assert _eval("[subscription().id]") == f"/subscriptions/{SUB}"
    assert _eval("[subscription().tenantId]") is UNKNOWN
    at_subscription = Evaluator({}, Deployment(SUB, None))
    assert _eval("[resourceGroup().location]", at_subscription) is UNKNOWN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[resourceId('Microsoft.CognitiveServices/accounts', 'a')]",
            f"{RG_ID}/providers/Microsoft.CognitiveServices/accounts/a",
        ),
        (
            "[resourceId('Microsoft.CognitiveServices/accounts/deployments', 'a', 'gpt')]",
            f"{RG_ID}/providers/Microsoft.CognitiveServices/accounts/a/deployments/gpt",
        ),
        (
            "[resourceId('rg-net', 'Microsoft.Network/virtualNetworks/subnets', 'v', 's')]",
            f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/"
            "Microsoft.Network/virtualNetworks/v/subnets/s",
        ),
        (
            "[resourceId('other-sub', 'rg-x', 'Microsoft.KeyVault/vaults', 'kv')]",
            "/subscriptions/other-sub/resourceGroups/rg-x/providers/Microsoft.KeyVault/vaults/kv",
        ),
        (
            "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]",
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/r1",
        ),
        (
            "[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'p1')]",
            "/providers/Microsoft.Authorization/policyDefinitions/p1",
        ),
        (
            "[extensionResourceId(resourceId('Microsoft.Storage/storageAccounts', 'st'), "
            "'Microsoft.Authorization/locks', 'nodelete')]",
            f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/st/providers/"
            "Microsoft.Authorization/locks/nodelete",
        ),
    ],
)
def test_resource_ids_are_built_as_arm_builds_them(text: str, expected: str) -> None:
    assert _eval(text) == expected


def test_a_resource_id_with_the_wrong_number_of_names_or_an_unknown_name_is_unknown() -> None:
    assert _eval("[resourceId('Microsoft.CognitiveServices/accounts/deployments', 'a')]") is UNKNOWN
    assert _eval("[resourceId('Microsoft.X/y', parameters('subnetId'))]") is UNKNOWN
    naming = _ev().for_naming()
    expected = f"{RG_ID}/providers/Microsoft.X/y/{{subnetId}}"
    assert naming.resolve("[resourceId('Microsoft.X/y', parameters('subnetId'))]") == expected


def test_copy_index_reads_the_loop_position() -> None:
    ev = _ev().in_loop("models", 1)
    assert _eval("[copyIndex()]", ev) == 1
    assert _eval("[copyIndex(10)]", ev) == 11
    assert _eval("[copyIndex('models')]", ev) == 1
    assert _eval("[parameters('models')[copyIndex()].name]", ev) == "o1"
    assert _eval("[copyIndex('otherLoop')]", ev) is UNKNOWN
    unknown = _ev().in_loop("models", None)
    assert _eval("[concat('d', copyIndex())]", unknown) is UNKNOWN
    assert unknown.for_naming().resolve("[concat('d', copyIndex())]") == "d{copyIndex}"
    assert _eval("[copyIndex()]") is UNKNOWN  # outside any loop


def test_resolve_walks_objects_and_expands_property_loops() -> None:
    value = {
        "a": ["[parameters('prefix')]", 1],
        "acl": {
            "defaultAction": "Deny",
            "copy": [
                {
                    "name": "ipRules",
                    "count": 2,
                    "input": {"value": "[concat('10.0.0.', copyIndex('ipRules'))]"},
                },
                {"name": "unknownRules", "count": "[parameters('subnetId')]", "input": {}},
            ],
        },
    }
    assert _ev().resolve(value) == {
        "a": ["contoso", 1],
        "acl": {
            "defaultAction": "Deny",
            "ipRules": [{"value": "10.0.0.0"}, {"value": "10.0.0.1"}],
            "unknownRules": UNKNOWN,
        },
    }


def test_resolve_shares_literal_parts_and_copies_only_what_holds_an_expression() -> None:
    literal = {"rules": [{"action": "Allow", "value": "10.0.0.0/24"}], "enabled": True}
    value = {"network": literal, "name": "[parameters('prefix')]", "tags": ["a", "b"]}
    before = repr(value)
    resolved = _ev().resolve(value)
    assert resolved == {**value, "name": "contoso"}
    assert resolved is not value
    assert resolved["network"] is literal
    assert resolved["tags"] is value["tags"]
    assert repr(value) == before, "the template is not changed"
    assert _ev().resolve(literal) is literal


def test_resolve_reads_resource_id_properties_for_naming() -> None:
    resolved = _ev().resolve(
        {"subnet": {"id": "[parameters('subnetId')]"}, "enabled": "[parameters('subnetId')]"}
    )
    assert resolved["subnet"]["id"] == "{subnetId}"
    assert resolved["enabled"] is UNKNOWN


def test_deep_nesting_does_not_crash() -> None:
    text = "[" + "concat(" * 2000 + "'a'" + ")" * 2000 + "]"
    assert _eval(text) in ("a", UNKNOWN)


def test_union_with_an_unknown_object_knows_the_known_keys_only() -> None:
    """``union(reference(…), {changes})``, the update-a-resource pattern: the changes' keys are
    known (nested objects merged), every other key of the result is unknown."""
    ev = _ev(
        {"parameters": {"current": {"type": "object"}}},
        current=UNKNOWN,
    )
    merged = ev.expression(
        "[union(parameters('current'), createObject('tls', 'TLS1_2', 'acls', "
        "createObject('defaultAction', 'Deny'), 'removed', null()))]"
    )
    assert isinstance(merged, UnknownObject)
    assert merged["tls"] == "TLS1_2"
    assert merged["removed"] is None
    assert isinstance(merged["acls"], UnknownObject)  # its other keys were the current's
    assert merged["acls"].get("defaultAction") == "Deny"
    assert merged["acls"].get("ipRules") is UNKNOWN
    assert merged.get("publicNetworkAccess") is UNKNOWN
    assert ev.expression("[union(parameters('current'), createObject('a', 1)).b]") is UNKNOWN
    assert ev.expression("[union(parameters('current'), createObject('a', 1)).a]") == 1


def test_union_after_a_known_object_an_unknown_one_may_replace_anything() -> None:
    ev = _ev({"parameters": {"current": {"type": "object"}}}, current=UNKNOWN)
    merged = ev.expression("[union(createObject('a', 1), parameters('current'))]")
    assert isinstance(merged, UnknownObject)
    assert merged.get("a") is UNKNOWN
    again = ev.expression(
        "[union(createObject('a', 1), parameters('current'), createObject('b', 2))]"
    )
    assert again.get("a") is UNKNOWN
    assert again.get("b") == 2
    partly = "union(parameters('current'), createObject('b', 2))"
    later = ev.expression(f"[union(createObject('a', 1, 'b', 1), {partly}, createObject('c', 3))]")
    assert later.get("a") is UNKNOWN  # the partly known object may have replaced it
    assert (later.get("b"), later.get("c")) == (2, 3)


@pytest.mark.parametrize(
    "text",
    [
        "[union(parameters('current'), parameters('current'))]",  # nothing known
        "[union(parameters('current'), createArray(1))]",  # arrays: unknown
        "[contains(union(parameters('current'), createObject('a', 1)), 'b')]",
        "[empty(union(parameters('current'), createObject('a', 1)))]",
        "[equals(union(parameters('current'), createObject('a', 1)), createObject('a', 1))]",
    ],
)
def test_a_partly_unknown_object_is_unknown_to_every_other_function(text: str) -> None:
    ev = _ev({"parameters": {"current": {"type": "object"}}}, current=UNKNOWN)
    assert ev.expression(text) is UNKNOWN
