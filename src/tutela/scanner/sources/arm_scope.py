"""ARM template functions of the deployment's scope: ``resourceGroup()``, ``subscription()``
and the resource-id builders, answered with the deployment's (placeholder) identifiers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutela.scanner.estate import UNKNOWN

if TYPE_CHECKING:
    from tutela.scanner.sources.arm_expressions import Evaluator


def resource_id(base: str, resource_type: str, names: list[str]) -> str:
    """``base/providers/Ns/t1/n1/t2/n2`` from ``Ns/t1/t2`` and ``[n1, n2]``."""
    namespace, *types = resource_type.split("/")
    pairs = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=False))
    return f"{base}/providers/{namespace}/{pairs}"


@dataclass(slots=True)
class Deployment:
    """Where a template is deployed; ``resource_group`` is None at subscription scope."""

    subscription_id: str
    resource_group: str | None
    location: Any = UNKNOWN

    @property
    def base(self) -> str:
        """The id every resource of this deployment sits under."""
        if self.resource_group is None:
            return f"/subscriptions/{self.subscription_id}"
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"


def _resource_group(ev: Evaluator, _values: list[Any]) -> Any:
    deployment = ev.deployment
    if deployment.resource_group is None:
        return UNKNOWN
    return {
        "id": deployment.base,
        "name": deployment.resource_group,
        "type": "Microsoft.Resources/resourceGroups",
        "location": deployment.location,
        "properties": {"provisioningState": "Succeeded"},
    }


def _subscription(ev: Evaluator, _values: list[Any]) -> Any:
    sub = ev.deployment.subscription_id
    return {"id": f"/subscriptions/{sub}", "subscriptionId": sub, "tenantId": UNKNOWN}


def _split_type(values: list[Any], most_before: int) -> tuple[list[str], str, list[str]] | None:
    """(scope arguments, resource type, names) of resourceId-like arguments; None if unusable."""
    if any(not isinstance(v, str) for v in values):
        return None
    at = next((i for i, v in enumerate(values) if "/" in v), None)
    if at is None or at > most_before:
        return None
    resource_type, names = values[at], values[at + 1 :]
    if len(names) != resource_type.count("/"):
        return None
    return values[:at], resource_type, names


def _resource_id(ev: Evaluator, values: list[Any]) -> Any:
    parts = _split_type(values, 2)
    if parts is None:
        return UNKNOWN
    before, resource_type, names = parts
    deployment = ev.deployment
    subscription, group = deployment.subscription_id, deployment.resource_group
    if len(before) == 2:
        subscription, group = before
    elif len(before) == 1:
        group = before[0]
    base = Deployment(subscription, group).base
    return resource_id(base, resource_type, names)


def _subscription_resource_id(ev: Evaluator, values: list[Any]) -> Any:
    parts = _split_type(values, 1)
    if parts is None:
        return UNKNOWN
    before, resource_type, names = parts
    subscription = before[0] if before else ev.deployment.subscription_id
    return resource_id(f"/subscriptions/{subscription}", resource_type, names)


def _tenant_resource_id(_ev: Evaluator, values: list[Any]) -> Any:
    parts = _split_type(values, 0)
    return UNKNOWN if parts is None else resource_id("", parts[1], parts[2])


def _extension_resource_id(_ev: Evaluator, values: list[Any]) -> Any:
    if not values or not isinstance(values[0], str):
        return UNKNOWN
    parts = _split_type(values[1:], 0)
    return UNKNOWN if parts is None else resource_id(values[0].rstrip("/"), parts[1], parts[2])


def _management_group_resource_id(_ev: Evaluator, values: list[Any]) -> Any:
    """Known when the management group is named; the current one is not known offline."""
    parts = _split_type(values, 1)
    if parts is None or not parts[0]:
        return UNKNOWN
    group = f"/providers/Microsoft.Management/managementGroups/{parts[0][0]}"
    return resource_id(group, parts[1], parts[2])


SCOPE_FUNCTIONS: dict[str, Callable[[Evaluator, list[Any]], Any]] = {
    "resourcegroup": _resource_group,
    "subscription": _subscription,
    "resourceid": _resource_id,
    "subscriptionresourceid": _subscription_resource_id,
    "tenantresourceid": _tenant_resource_id,
    "managementgroupresourceid": _management_group_resource_id,
    "extensionresourceid": _extension_resource_id,
}
