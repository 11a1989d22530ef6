"""Writing a plan instance's attributes into its ARM body: the fast paths keep ``_put``'s rules."""

from __future__ import annotations

from typing import Any

import pytest

from tutela.scanner.estate import Resource
from tutela.scanner.sources.terraform import resources_from_terraform
from tutela.scanner.sources.terraform_convert import A, M
from tutela.scanner.sources.terraform_map import MAPPINGS

TYPE = "azurerm_test_thing"


def _build(monkeypatch: pytest.MonkeyPatch, attrs: tuple[Any, ...], **after: Any) -> Resource:
    monkeypatch.setitem(MAPPINGS, TYPE, M("Microsoft.Test/things", "group", None, attrs))
    record = {
        "address": f"{TYPE}.this",
        "mode": "managed",
        "type": TYPE,
        "change": {
            "actions": ["create"],
            "after": {"name": "thing", "resource_group_name": "rg", **after},
            "after_unknown": {},
        },
    }
    document = {"format_version": "1.2", "resource_changes": [record]}
    [resource] = [r for r in resources_from_terraform(document, "plan.json") if r.name == "thing"]
    return resource


def test_false_zero_and_empty_objects_are_values_null_empty_text_and_lists_are_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = ("no", "zero", "empty", "null", "blank", "none")
    attrs = tuple(A(name, f"properties.{name}") for name in names)
    resource = _build(monkeypatch, attrs, no=False, zero=0, empty={}, null=None, blank="", none=[])
    assert resource.properties == {"no": False, "zero": 0, "empty": {}}


def test_writes_into_one_object_around_a_merge_all_land_in_the_merged_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attrs = (
        A("first", "properties.x.first"),
        A("whole", "properties.x"),  # an object where one is already: merged into a new one
        A("second", "properties.x.second"),
        A("third", "properties.third"),
        A("fourth", "properties.x.fourth"),
    )
    resource = _build(monkeypatch, attrs, first=1, whole={"k": "v"}, second=2, third=3, fourth=4)
    assert resource.properties == {
        "x": {"first": 1, "k": "v", "second": 2, "fourth": 4},
        "third": 3,
    }
    assert list(resource.properties["x"]) == ["first", "k", "second", "fourth"]
