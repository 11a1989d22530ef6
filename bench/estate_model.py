"""The resource kinds of a generated AI estate, each rendered two ways: ARM and azurerm.

A ``Node`` is one resource with its settings already drawn. ``arm`` gives the ARM shape (``sku``,
``kind``, ``identity``, ``properties``) that both the Resource Graph export and the ARM template
are written from; ``tf`` gives the azurerm attributes the Terraform plan is written from. Both may
hold a ``Ref`` (another node's id or name) or a ``Computed`` value (known once deployed): the
writers decide what each becomes in their format, so the three files describe one estate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Placement = Literal["group", "child", "extension", "subscription", "container"]

LOG_ANALYTICS = "/providers/Microsoft.OperationalInsights/workspaces/law-ai-platform"
APP_INSIGHTS = "/providers/Microsoft.Insights/components/appi-ai-platform"
SUBNET = "/providers/Microsoft.Network/virtualNetworks/vnet-ai/subnets/snet-private-endpoints"


class Ref:
    """Another node's ARM id (``attr="id"``) or name, as each format spells a reference.

    Deliberately not a dataclass: orjson would serialise a dataclass itself instead of asking
    the writer's ``default`` how this format spells it.
    """

    __slots__ = ("attr", "node")

    def __init__(self, node: Node, attr: str = "id") -> None:
        self.node, self.attr = node, attr


class Computed:
    """A value the provider computes: known in a plan only for resources that already exist."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass(eq=False, slots=True)
class Node:
    """One resource of the estate, its settings drawn."""

    kind: Kind
    name: str
    label: str  # the Terraform resource label, unique in the plan
    ctx: Estate = field(repr=False)
    group: Node | None = field(repr=False)  # the resource group; None for a group itself
    parent: Node | None = field(default=None, repr=False)  # a child's parent, an extension's target
    settings: dict[str, Any] = field(default_factory=dict, repr=False)
    action: str = "no-op"  # the Terraform plan action: no-op, update or create

    @property
    def address(self) -> str:
        return f"{self.kind.tf_type}.{self.label}"


@dataclass(slots=True)
class Estate:
    """What every node of one generated estate shares."""

    subscription: str
    tenant: str
    location: str
    nodes: list[Node] = field(default_factory=list, repr=False)

    @property
    def sub_id(self) -> str:
        return f"/subscriptions/{self.subscription}"

    def group_id(self, group: Node) -> str:
        return f"{self.sub_id}/resourceGroups/{group.name}"


@dataclass(frozen=True, slots=True)
class Kind:
    key: str
    arm_type: str  # the full ARM type, e.g. Microsoft.CognitiveServices/accounts/deployments
    tf_type: str
    api_version: str
    arm: Callable[[Node, bool], dict[str, Any]]  # (node, live) → sku/kind/identity/properties
    tf: Callable[[Node], dict[str, Any]]
    placement: Placement = "group"


def arm_id(node: Node) -> str:
    """The ARM id of a node as deployed to the estate's subscription."""
    kind, ctx = node.kind, node.ctx
    if kind.placement == "container":
        return ctx.group_id(node)
    if kind.placement == "subscription":
        return f"{ctx.sub_id}/providers/{kind.arm_type}/{node.name}"
    if kind.placement == "group":
        assert node.group is not None
        return f"{ctx.group_id(node.group)}/providers/{kind.arm_type}/{node.name}"
    assert node.parent is not None
    if kind.placement == "child":
        return f"{arm_id(node.parent)}/{kind.arm_type.rsplit('/', 1)[1]}/{node.name}"
    return f"{arm_id(node.parent)}/providers/{kind.arm_type}/{node.name}"


def identity_arm(on: bool, live: bool, node: Node) -> dict[str, Any] | None:
    if not on:
        return None
    identity: dict[str, Any] = {"type": "SystemAssigned"}
    if live:
        identity |= {"principalId": node.settings["principal"], "tenantId": node.ctx.tenant}
    return identity


def identity_tf(on: bool, node: Node) -> list[dict[str, Any]]:
    if not on:
        return []
    principal, tenant = Computed(node.settings["principal"]), Computed(node.ctx.tenant)
    return [
        {
            "type": "SystemAssigned",
            "identity_ids": [],
            "principal_id": principal,
            "tenant_id": tenant,
        }
    ]


def enabled(on: bool) -> str:
    return "Enabled" if on else "Disabled"


def key_url(node: Node) -> str:
    return (
        f"https://{node.settings['vault']}.vault.azure.net/keys/cmk/{node.settings['key_version']}"
    )


def tf_common(node: Node) -> dict[str, Any]:
    assert node.group is not None
    return {
        "name": node.name,
        "location": node.settings["location"],
        "resource_group_name": Ref(node.group, "name"),
        "tags": node.settings.get("tags", {}),
    }


def shared_id(node: Node, suffix: str) -> str:
    """The id of a shared platform resource (Log Analytics, App Insights) outside the estate."""
    return f"{node.ctx.sub_id}/resourceGroups/rg-ai-shared{suffix}"


def subnet_id(node: Node) -> str:
    return f"{node.ctx.sub_id}/resourceGroups/rg-ai-network{SUBNET}"
