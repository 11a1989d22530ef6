"""How a plan's report refers to a resource: its address, parsed, and expressions of its own
attributes (``azurerm_x.y["k"].id``) in the module that declares it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tutela.scanner.outputs.iac import hcl
from tutela.scanner.outputs.iac.hcl import Expr, template
from tutela.scanner.outputs.iac.items import RemediationItem
from tutela.scanner.outputs.iac.terraform_common import variable_name
from tutela.scanner.sources.terraform_map import MAPPINGS

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_KEY = r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]'
_ADDRESS = re.compile(
    rf"^(?P<modules>(?:module\.{_NAME}(?:{_KEY})?\.)*)(?P<type>{_NAME})\.(?P<name>{_NAME})(?P<key>{_KEY})?$"
)
_MODULE = re.compile(rf"module\.({_NAME})({_KEY})?\.")
PREFIX = "tutela_"  # of the variables: none of the configuration's own can be named so


@dataclass(frozen=True)
class Address:
    """A plan address: ``module.a["k"].azurerm_x.y[0]``."""

    modules: tuple[str, ...]
    tf_type: str
    name: str
    key: str  # the instance key as HCL ("[0]", '["k"]'), escaped; "" for none

    @property
    def ref(self) -> str:
        """The instance as an expression inside its own module."""
        return f"{self.tf_type}.{self.name}{self.key}"


def parse_address(address: str) -> Address | None:
    match = _ADDRESS.match(address)
    if match is None:
        return None
    modules = _MODULE.findall(match["modules"])
    key = match["key"] or ""
    if key.startswith('["'):
        try:
            key = f"[{hcl.string(json.loads(key[1:-1]))}]"
        except ValueError:  # not a key Terraform writes
            return None
    return Address(
        tuple(name for name, _ in modules),
        match["type"],
        match["name"],
        key,
    )


def own_id(address: Address | None, item: RemediationItem) -> Any:
    """The item's id as an expression: its address's id, and the child path for a child type."""
    if address is None:
        return item.resource
    mapping = MAPPINGS.get(address.tf_type)
    extra = item.resource_type.count("/") - (mapping.arm_type.count("/") if mapping else 0)
    own = Expr(f"{address.ref}.id")
    if extra <= 0:
        return own
    return template(own, "/" + "/".join(item.resource.split("/")[-2 * extra :]))


def added_name(name: str, address: Address | None, item: RemediationItem) -> Any:
    if "{name}" not in name:
        return name
    own: str | Expr = Expr(f"{address.ref}.name") if address else item.resource_name
    parts: list[str | Expr] = []
    for n, piece in enumerate(name.split("{name}")):
        parts += ([own] if n else []) + ([piece] if piece else [])
    return template(*parts)


def resolved(value: Any, address: Address | None, item: RemediationItem) -> Any:
    """Params → ``var.tutela_<param>``; ``{"resource": …}`` → the address's own attribute."""
    if isinstance(value, dict):
        if set(value) == {"param"}:
            return Expr(f"var.{PREFIX}{variable_name(value['param'])}")
        if set(value) == {"resource"}:
            if value["resource"] == "id":
                return own_id(address, item)
            return Expr(f"{address.ref}.{value['resource']}") if address else item.resource_name
        return {key: resolved(inner, address, item) for key, inner in value.items()}
    if isinstance(value, list):
        return [resolved(inner, address, item) for inner in value]
    return value
