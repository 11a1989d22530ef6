"""The Terraform plan: an estate written as ``terraform show -json`` prints a plan.

Each node with an azurerm type is one root-module resource in ``planned_values``,
``resource_changes`` and ``configuration``. A created resource's computed attributes (its id, its
identity's principal) and any reference to another created resource are unknown: absent from
``after`` and flagged in ``after_unknown``, as Terraform writes them; ``configuration`` keeps each
reference's ``references`` so a reader can resolve it. An updated resource had other tags before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from estate_model import Computed, Estate, Node, Ref, arm_id

AZURERM = "registry.terraform.io/hashicorp/azurerm"
TIMESTAMP = "2025-06-02T08:00:00Z"  # fixed: the same seed writes the same bytes
TAIL = {"timestamp": TIMESTAMP, "applyable": True, "complete": True, "errored": False}
_UNKNOWN: Any = object()


def planned_attributes(node: Node) -> dict[str, Any]:
    values = node.kind.tf(node)
    values.setdefault("id", Computed(arm_id(node)))
    return values


def _reference_known(ref: Ref, first_deploy: bool) -> bool:
    """A name is configured, so known; an id only once the resource exists (never on a first
    deployment, when nothing does)."""
    if ref.attr == "name":
        return True
    target = ref.node.parent if ref.node.kind.tf_type == "" else ref.node  # a blob service
    assert target is not None
    return not first_deploy and target.action != "create"


def _split(value: Any, created: bool, first_deploy: bool) -> tuple[Any, Any]:
    """(the known value, or _UNKNOWN; its after_unknown mark, or False)."""
    if isinstance(value, Ref):
        if _reference_known(value, first_deploy):
            return (arm_id(value.node) if value.attr == "id" else value.node.name), False
        return _UNKNOWN, True
    if isinstance(value, Computed):
        return (_UNKNOWN, True) if created else (value.value, False)
    if isinstance(value, dict):
        known, unknown = split_attributes(value, created, first_deploy=first_deploy)
        return known, unknown or False
    if isinstance(value, list) and value and isinstance(value[0], dict):
        pairs = [_split(item, created, first_deploy) for item in value]
        marks = [mark for _, mark in pairs]
        return [known for known, _ in pairs], marks if any(marks) else False
    return value, False


def split_attributes(
    values: dict[str, Any], created: bool, *, first_deploy: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(``after``: the known attributes; ``after_unknown``: the unknown ones, marked).

    ``first_deploy``: every resource is being created, so every reference to an id is unknown.
    """
    after: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for key, value in values.items():
        known, mark = _split(value, created, first_deploy)
        if known is not _UNKNOWN:
            after[key] = known
        if mark:
            unknown[key] = mark
    return after, unknown


def _expression(value: Any) -> Any:
    if isinstance(value, Ref):
        target = value.node.parent if value.node.kind.tf_type == "" else value.node
        assert target is not None
        attr = value.attr if target is value.node else "id"
        return {"references": [f"{target.address}.{attr}", target.address]}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [expressions(block) for block in value]
    return {"constant_value": value}


def expressions(values: dict[str, Any]) -> dict[str, Any]:
    """The configuration's expressions: what was written, not what the provider computes."""
    return {
        key: _expression(value)
        for key, value in values.items()
        if value is not None and value != [] and not isinstance(value, Computed)
    }


def _before(node: Node, after: dict[str, Any]) -> dict[str, Any] | None:
    if node.action == "create":
        return None
    if node.action == "no-op":
        return after
    tags = dict(after.get("tags") or {})
    if tags.pop("cost-center", None) is None:
        tags["cost-center"] = "CC-0000"
    return after | {"tags": tags}


def record_head(node: Node) -> dict[str, Any]:
    return {
        "address": node.address,
        "mode": "managed",
        "type": node.kind.tf_type,
        "name": node.label,
        "provider_name": AZURERM,
    }


@dataclass
class PlanShape:
    """What a written plan holds, counted as it is written (the manifest reports it)."""

    actions: Counter[str] = field(default_factory=Counter)
    known_leaves: int = 0  # values given in ``after`` (nulls not counted)
    unknown_leaves: int = 0  # ``true`` marks in ``after_unknown``

    def count(self, change: dict[str, Any]) -> None:
        self.actions[change["actions"][0]] += 1
        self.known_leaves += known_leaves(change["after"])
        self.unknown_leaves += unknown_leaves(change["after_unknown"])

    def summary(self, layout: str) -> dict[str, Any]:
        leaves = self.known_leaves + self.unknown_leaves
        return {
            "resources": self.actions.total(),
            "actions": dict(sorted(self.actions.items())),
            "known_leaves": self.known_leaves,
            "unknown_leaves": self.unknown_leaves,
            "unknown_share": round(self.unknown_leaves / leaves, 4) if leaves else 0.0,
            "layout": layout,
        }


def known_leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(known_leaves(item) for item in value.values())
    if isinstance(value, list):
        return sum(known_leaves(item) for item in value)
    return 0 if value is None else 1


def unknown_leaves(mark: Any) -> int:
    if mark is True:
        return 1
    if isinstance(mark, dict):
        return sum(unknown_leaves(item) for item in mark.values())
    if isinstance(mark, list):
        return sum(unknown_leaves(item) for item in mark)
    return 0


def _planned(node: Node) -> bytes:
    after, _ = split_attributes(planned_attributes(node), node.action == "create")
    planned = record_head(node) | {"schema_version": 0, "values": after, "sensitive_values": {}}
    return orjson.dumps(planned)


def _change(node: Node, shape: PlanShape) -> bytes:
    after, unknown = split_attributes(planned_attributes(node), node.action == "create")
    before = _before(node, after)
    change = {
        "actions": [node.action],
        "before": before,
        "after": after,
        "after_unknown": unknown,
        "before_sensitive": False if before is None else {},
        "after_sensitive": {},
    }
    shape.count(change)
    return orjson.dumps(record_head(node) | {"change": change})


def configured_record(node: Node) -> dict[str, Any]:
    head = record_head(node)
    del head["provider_name"]
    return head | {
        "provider_config_key": "azurerm",
        "expressions": expressions(node.kind.tf(node)),
        "schema_version": 0,
    }


def provider_config(estate: Estate) -> dict[str, Any]:
    return {
        "azurerm": {
            "name": "azurerm",
            "full_name": AZURERM,
            "version_constraint": "~> 4.0",
            "expressions": {
                "features": [{}],
                "subscription_id": {"constant_value": estate.subscription},
            },
        }
    }


def _section(out: IO[bytes], nodes: list[Node], render: Any) -> None:
    first = True
    for node in nodes:
        if not first:
            out.write(b",\n")
        out.write(render(node))
        first = False


def write_plan(estate: Estate, out: IO[bytes]) -> PlanShape:
    """Write the plan, streaming each of its three lists of resources in turn."""
    nodes = [node for node in estate.nodes if node.kind.tf_type]
    shape = PlanShape()
    out.write(b'{"format_version": "1.2", "terraform_version": "1.9.8",\n')
    out.write(b'"planned_values": {"root_module": {"resources": [\n')
    _section(out, nodes, _planned)
    out.write(b'\n]}},\n"resource_changes": [\n')
    _section(out, nodes, lambda node: _change(node, shape))
    provider = orjson.dumps(provider_config(estate))
    out.write(b'\n],\n"configuration": {"provider_config": ' + provider)
    out.write(b', "root_module": {"resources": [\n')
    _section(out, nodes, lambda node: orjson.dumps(configured_record(node)))
    out.write(b"\n]}},\n" + orjson.dumps(TAIL)[1:] + b"\n")
    return shape
