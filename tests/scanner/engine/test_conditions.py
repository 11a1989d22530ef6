"""The condition language: operators, case folding, three-valued logic, count and relations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scanner.engine.cases import make_resource
from tutela.scanner.engine.conditions import ConditionError, Context, compile_condition
from tutela.scanner.estate import UNKNOWN, Estate, UnknownObject

ACCOUNT = "microsoft.cognitiveservices/accounts"


def decide(condition: dict[str, Any], **resource: Any) -> bool | None:
    target = make_resource({"type": ACCOUNT, **resource})
    for name, value in resource.items():  # as given: the case reader makes plain dicts
        if isinstance(value, UnknownObject):
            setattr(target, name, value)
    return compile_condition(condition)(Context(target, Estate([target])), target)


def test_strings_compare_without_case_and_booleans_accept_strings() -> None:
    assert decide({"field": "properties.a", "equals": "Disabled"}, properties={"a": "disabled"})
    assert decide({"field": "properties.b", "equals": True}, properties={"b": "True"})
    assert decide({"field": "properties.a", "in": ["x", "Disabled"]}, properties={"a": "DISABLED"})
    assert decide({"field": "properties.a", "notIn": ["x"]}, properties={"a": "y"})
    assert decide({"field": "properties.a", "like": "tls1_*"}, properties={"a": "TLS1_2"})


def test_absent_takes_the_default_or_is_unknown() -> None:
    rule = {"field": "properties.publicNetworkAccess", "equals": "Disabled", "default": "Enabled"}
    assert decide(rule, properties={}) is False
    assert decide({"field": "properties.x", "equals": 1}, properties={}) is None
    assert decide({"field": "properties.x", "exists": False}, properties={}) is True
    assert (
        decide({"field": "properties.x", "equals": 1, "default": 0}, properties={"x": UNKNOWN})
        is None
    )


@pytest.mark.parametrize("depth", ["properties.a", "properties.n.a", "properties.n.m.a"])
def test_a_partly_known_object_gives_its_known_keys_and_unknown_for_the_rest(depth: str) -> None:
    # union(<unknown current state>, {the fix}) in a template: the fix is known, the rest is not
    nested: Any = UnknownObject({"a": "Disabled"})
    for step in reversed(depth.split(".")[1:-1]):
        nested = UnknownObject({step: nested})
    assert decide({"field": depth, "equals": "Disabled"}, properties=nested) is True
    assert decide({"field": depth, "equals": "Enabled"}, properties=nested) is False
    other = depth.rsplit(".", 1)[0] + ".b"
    assert decide({"field": other, "equals": 1, "default": 1}, properties=nested) is None
    assert decide({"field": "properties.z.a", "exists": True}, properties=nested) is None
    assert decide({"field": "tags.owner", "exists": True}, tags=UnknownObject({"Owner": "x"}))


def test_three_valued_combinators() -> None:
    unknown = {"field": "properties.u", "equals": 1}
    yes = {"field": "properties.t", "equals": 1}
    no = {"field": "properties.f", "equals": 1}
    props = {"t": 1, "f": 0}
    assert decide({"allOf": [unknown, no]}, properties=props) is False
    assert decide({"allOf": [unknown, yes]}, properties=props) is None
    assert decide({"anyOf": [unknown, yes]}, properties=props) is True
    assert decide({"anyOf": [unknown, no]}, properties=props) is None
    assert decide({"not": unknown}, properties=props) is None
    assert decide({"not": no}, properties=props) is True


def test_numbers_compare_and_refuse_non_numbers() -> None:
    assert decide({"field": "properties.n", "greaterOrEquals": 2}, properties={"n": "3"})
    assert decide({"field": "properties.n", "less": 2}, properties={"n": "abc"}) is False
    with pytest.raises(ConditionError):
        compile_condition({"field": "properties.n", "less": "two"})


def test_count_with_where_and_the_element_itself() -> None:
    rules = {"ipRules": [{"value": "10.0.0.0/8"}, {"value": "0.0.0.0/0"}], "fqdns": ["a.example"]}
    open_rule = {
        "count": {
            "field": "properties.ipRules",
            "where": {"field": "value", "equals": "0.0.0.0/0"},
        },
        "equals": 0,
    }
    assert decide(open_rule, properties=rules) is False
    assert decide(open_rule, properties={}) is True  # an absent list counts as empty
    element = {
        "count": {"field": "properties.fqdns", "where": {"field": "@", "equals": "A.example"}},
        "equals": 1,
    }
    assert decide(element, properties=rules) is True
    undecided = {
        "count": {"field": "properties.ipRules", "where": {"field": "value", "equals": "x"}},
        "equals": 0,
    }
    assert decide(undecided, properties={"ipRules": [{"value": UNKNOWN}]}) is None


def test_tags_match_without_case_and_related_facts_can_be_invisible() -> None:
    assert decide({"field": "tags.model-owner", "exists": True}, tags={"Model-Owner": "risk@bank"})
    logs = {"count": {"field": "diagnosticSettings"}, "greater": 0}
    assert decide(logs) is None
    assert decide(logs, diagnostic_settings=[]) is False


def test_parent_fields_are_read_from_the_parent_resource() -> None:
    parent = make_resource(
        {"type": ACCOUNT, "name": "acct", "properties": {"disableLocalAuth": True}}
    )
    child = make_resource(
        {"type": f"{ACCOUNT}/deployments", "id": f"{parent.id}/deployments/gpt", "name": "gpt"}
    )
    rule = compile_condition({"field": "parent.properties.disableLocalAuth", "equals": True})
    assert rule(Context(child, Estate([parent, child])), child) is True
    assert rule(Context(child, Estate([child])), child) is None


def test_malformed_conditions_are_refused() -> None:
    for bad in ({"field": "properties.a"}, {"field": "nowhere.a", "equals": 1}, {"bogus": 1}, [1]):
        with pytest.raises(ConditionError):
            compile_condition(bad)
