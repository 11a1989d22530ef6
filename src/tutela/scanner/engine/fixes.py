"""Apply a check's declared fix (catalog ``fix:``) to a resource, as deploying it would.

The catalogue states each remediation once, as data; the IaC outputs are rendered from it, and
this module applies it to the estate the scanner read, so a test can prove a fix: the failing
resource, fixed, passes its check. ``{"param": NAME}`` values take the given ``params``;
``{"resource": "id" | "name" | "location"}`` the resource's own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tutela.scanner.catalog.checks import AddedResource, Fix
from tutela.scanner.estate import SUBSCRIPTION_TYPE, Estate, Resource
from tutela.scanner.sources.relate import connect_endpoint

_TOP = {"sku", "identity", "kind", "tags", "properties"}


class FixError(ValueError):
    """A fix that cannot be applied as declared (a missing param, an unknown kind of resource)."""


def resolve(value: Any, resource: Resource, params: Mapping[str, Any]) -> Any:
    """The value with its params and resource references filled in."""
    if isinstance(value, dict):
        if set(value) == {"param"}:
            name = value["param"]
            if name not in params:
                raise FixError(f"the fix needs the param {name!r}")
            return params[name]
        if set(value) == {"resource"}:
            return {"id": resource.id, "name": resource.name, "location": resource.location}[
                value["resource"]
            ]
        return {key: resolve(item, resource, params) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, resource, params) for item in value]
    return value


def apply_fix(
    estate: Estate, resource: Resource, fix: Fix, params: Mapping[str, Any] | None = None
) -> None:
    """Change the resource (and its subscription's facts) in place as the fix declares."""
    if fix.manual:
        raise FixError("a manual fix changes no configuration")
    given = params or {}
    for change in fix.set:
        _set(resource, change.path, resolve(change.value, resource, given))
    for added in fix.add:
        _add(estate, resource, added, given)


def _set(resource: Resource, path: str, value: Any) -> None:
    """Set ``value`` at ``path``; a ``name[*]`` step sets it in every element of that list."""
    head, _, rest = path.partition(".")
    if head == "kind":
        resource.kind = value
        return
    if not rest:
        raise FixError(f"fix path {path!r} names no property")
    current = getattr(resource, head)
    root: dict[str, Any] = copy.deepcopy(current) if isinstance(current, dict) else {}
    _set_in(root, rest.split("."), value, path)
    setattr(resource, head, root)


def _set_in(node: dict[str, Any], steps: list[str], value: Any, path: str) -> None:
    step, *rest = steps
    name, each = step.removesuffix("[*]"), step.endswith("[*]")
    if not rest:
        if each:
            raise FixError(f"fix path {path!r} ends in a list")
        node[name] = value
        return
    if each:
        elements = node.get(name)
        if not isinstance(elements, list) or not elements:
            raise FixError(f"fix path {path!r}: {name} holds no list to change")
        for element in elements:
            if not isinstance(element, dict):
                raise FixError(f"fix path {path!r}: an element of {name} is not an object")
            _set_in(element, rest, value, path)
        return
    child = node.get(name)
    if not isinstance(child, dict):
        child = node[name] = {}
    _set_in(child, rest, value, path)


def _add(
    estate: Estate, resource: Resource, added: AddedResource, params: Mapping[str, Any]
) -> None:
    kind = added.type.lower()
    properties = resolve(added.properties, resource, params)
    name = added.name.replace("{name}", resource.name)
    if kind == "microsoft.insights/diagnosticsettings" and added.scope == "resource":
        setting = {
            "id": f"{resource.id}/providers/Microsoft.Insights/diagnosticSettings/{name}",
            "name": name,
            "type": added.type,
            "properties": properties,
        }
        resource.diagnostic_settings = [*(resource.diagnostic_settings or []), setting]
    elif kind in {"microsoft.security/pricings", "microsoft.authorization/policyassignments"}:
        subscription = (
            resource if resource.type == SUBSCRIPTION_TYPE else estate.subscription(resource)
        )
        if subscription is None:
            raise FixError(f"no subscription in the estate for {resource.id}")
        fact = {
            "id": f"{subscription.id}/providers/{added.type}/{name}",
            "name": name,
            "type": added.type,
            "properties": properties,
        }
        field = (
            "security_pricings" if kind == "microsoft.security/pricings" else "policy_assignments"
        )
        kept = [f for f in (getattr(subscription, field) or []) if f.get("name") != name]
        setattr(subscription, field, [*kept, fact])
    elif kind == "microsoft.network/privateendpoints" and added.scope == "resource_group":
        group = resource.id[: resource.id.lower().find("/providers/")]
        endpoint = Resource(
            id=f"{group}/providers/Microsoft.Network/privateEndpoints/{name}",
            type="microsoft.network/privateendpoints",
            name=name,
            properties=properties,
        )
        connect_endpoint(endpoint, {resource.key: resource})
    else:
        raise FixError(f"a fix cannot add {added.type} at {added.scope} scope")
