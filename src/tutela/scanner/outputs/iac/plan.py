"""The deployment plan the ARM and Bicep renderers share: the catalogue's fixes, grouped by
where they deploy.

One ``Change`` per resource a fix touches on a live estate: the properties its fixes set (merged,
to be unioned with the resource's current state when deployed) and the resources they add beside
it (diagnostic settings on it, private endpoints in its group); one per subscription for the
Defender pricings and policy assignments fixes add there. Items that cannot be deployed from
here are kept to be listed: those of an IaC report (a template's placeholder subscription, a
plan's addresses: they are fixed in their source), manual fixes, and checks with no fix.

Values keep the catalogue's markers: ``{"param": NAME}`` is a template parameter,
``{"current": "location"}`` the resource's current location (read when deploying).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import AddedResource, CheckSpec, Fix
from tutela.scanner.outputs.iac.api_versions import api_version
from tutela.scanner.outputs.iac.items import RemediationItem, in_source_reason, is_deployed

# The nested deployments' own API version: the template mechanism, not a type a fix touches
# (so not in api_versions.py); the stable version Bicep's docs and AVM modules use.
DEPLOYMENTS_API_VERSION: Final = "2022-09-01"
TOP_LEVEL: Final = ("location", "sku", "kind", "identity", "tags")  # carried from the current
# A param's template type where it is not a string (the catalogue names params, not types).
PARAM_TYPES: Final = {
    "allowed_ip_rules": "array",
    "allowed_fqdns": "array",
    "admin_group_object_ids": "array",
    "authorized_ip_ranges": "array",
    "retention_days": "int",
    "user_assigned_identities": "object",
}

# /subscriptions/s[/resourceGroups/g][/providers/Ns/type/name[/type/name…]], one provider only
_ID: Final = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)(?:/resourceGroups/(?P<group>[^/]+))?"
    r"(?:/providers/(?P<ns>[^/]+)/(?P<rest>[^/]+/[^/]+(?:/[^/]+/[^/]+)*))?$",
    re.IGNORECASE,
)


@dataclass
class Remedy:
    """One (check, resource) a change remediates: what its metadata and comments name."""

    check_id: str
    title: str
    resource: str
    controls: list[str]
    note: str | None = None


@dataclass
class Addition:
    """A resource a fix adds: at ``scope`` "resource" (an extension on the change's resource),
    "resource_group" (beside it) or "subscription"."""

    type: str
    name: str
    scope: str
    api_version: str
    properties: dict[str, Any]


@dataclass
class Change:
    """One nested deployment: an existing resource redeclared with its fixes merged in, and
    the resources fixes add at it; or (``resource_id`` of a subscription) subscription facts."""

    subscription_id: str
    resource_group: str | None
    resource_id: str
    type: str = ""  # the resource's ARM type as its id spells it; "" for a subscription
    names: list[str] = field(default_factory=list)
    api_version: str = ""
    changes: dict[str, Any] = field(default_factory=dict)  # top-level key → value to merge
    additions: list[Addition] = field(default_factory=list)
    remedies: list[Remedy] = field(default_factory=list)

    @property
    def redeclares(self) -> bool:
        """Whether the resource itself is redeclared (a fix sets some of its properties)."""
        return bool(self.changes)

    @property
    def reads_current(self) -> bool:
        """Whether the deployment reads the resource's current state (to merge or locate)."""
        return self.redeclares or any(a.scope == "resource_group" for a in self.additions)


@dataclass
class Listed:
    """A (check, resource) the template does not deploy, with what to do instead."""

    remedy: Remedy
    reason: str
    origin: str = ""  # "<file>: <address>" of an IaC report's resource
    settings: list[str] = field(default_factory=list)  # "path = value", "add Type name"
    portal_steps: str = ""


@dataclass
class Plan:
    """What a remediation template deploys, the params it needs, and what it only lists."""

    changes: list[Change]
    params: dict[str, str]  # name → what it is
    in_source: list[Listed]
    manual: list[Listed]
    unscripted: list[str]  # checks without a fix


def build_plan(
    items: Sequence[RemediationItem], catalog: Catalog, *, source: str | None = None
) -> Plan:
    """The report's items as nested deployments (live estates) or listings."""
    checks = {check.id: check for check in catalog.checks}
    plan = Plan([], {}, [], [], [])
    by_key: dict[str, Change] = {}
    for item in items:
        check = checks.get(item.check_id)
        if check is None or check.fix is None:
            if item.check_id not in plan.unscripted:
                plan.unscripted.append(item.check_id)
            continue
        fix, remedy = check.fix, _remedy(item, check)
        if fix.manual:
            plan.manual.append(
                Listed(remedy, f"Manual: {fix.manual}", item.origin, [], _steps(check))
            )
            continue
        where = _ID.match(item.resource)
        if source is None and where is None and item.resource.startswith("/"):
            # a live resource outside any subscription's groups (a management group's)
            unfit = "Not a resource a subscription deployment can redeclare: use the portal."
        elif not is_deployed(item, source):  # an IaC report's: fixed in its source
            plan.in_source.append(
                Listed(remedy, in_source_reason(item, source), item.origin, _settings(fix))
            )
            continue
        else:
            unfit = _undeployable(fix, where) if where else "Not an ARM id this template reads."
        if unfit:
            plan.manual.append(Listed(remedy, unfit, item.origin, _settings(fix), _steps(check)))
            continue
        assert where is not None
        _place(plan, by_key, item, fix, remedy, where)
        for name, about in fix.params.items():
            plan.params.setdefault(name, about)
    return plan


def _remedy(item: RemediationItem, check: CheckSpec) -> Remedy:
    note = check.fix.note if check.fix is not None else None
    return Remedy(check.id, check.title, item.resource, list(item.controls), note)


def _steps(check: CheckSpec) -> str:
    return " ".join(check.portal_steps.split())


def _undeployable(fix: Fix, where: re.Match[str]) -> str:
    """Why this template cannot deploy the fix here ("" when it can)."""
    if any("[*]" in change.path for change in fix.set):
        return "A change applies to every element of a list: not deployable as a template."
    if fix.set and not where["ns"]:
        return "A subscription's own properties are not set by a deployment."
    for added in fix.add:
        if added.scope != "subscription" and not where["group"]:
            return f"{added.type} is added in a resource group: this resource is in none."
    return ""


def _place(
    plan: Plan,
    by_key: dict[str, Change],
    item: RemediationItem,
    fix: Fix,
    remedy: Remedy,
    where: re.Match[str],
) -> None:
    resource = item.resource
    own = {"id": resource, "name": item.resource_name or resource.rsplit("/", 1)[-1]}
    placed: set[int] = set()
    if fix.set or any(a.scope != "subscription" for a in fix.add):
        change = by_key.get(resource.lower())
        if change is None:
            rest = where["rest"] or ""
            parts = rest.split("/")
            type_ = "/".join([where["ns"], *parts[0::2]]) if where["ns"] else ""
            change = by_key[resource.lower()] = Change(
                where["sub"], where["group"], resource, type_, parts[1::2] if type_ else []
            )
            plan.changes.append(change)
        reads = fix.set or any(a.scope == "resource_group" for a in fix.add)
        if reads and not change.api_version:
            change.api_version = api_version(change.type)
        for step in fix.set:
            _merge_path(change.changes, step.path, _resolved(step.value, own))
        for added in fix.add:
            if added.scope != "subscription":
                _add(change, added, own)
        change.remedies.append(remedy)
        placed.add(id(change))
    for added in fix.add:
        if added.scope != "subscription":
            continue
        key = f"/subscriptions/{where['sub']}".lower()
        change = by_key.get(key)
        if change is None:
            change = by_key[key] = Change(where["sub"], None, f"/subscriptions/{where['sub']}")
            plan.changes.append(change)
        _add(change, added, own)
        if id(change) not in placed:
            change.remedies.append(remedy)
            placed.add(id(change))


def _add(change: Change, added: AddedResource, own: dict[str, str]) -> None:
    """Add the resource, merged with one another fix adds under the same name (each PUT
    replaces it: the AI pricing with and without prompt evidence carries what both ask for)."""
    name = added.name.replace("{name}", own["name"])
    properties = _resolved(added.properties, own)
    for existing in change.additions:
        if (existing.type.lower(), existing.name) == (added.type.lower(), name):
            existing.properties = merge(existing.properties, properties)
            return
    change.additions.append(
        Addition(added.type, name, added.scope, api_version(added.type), properties)
    )


def _merge_path(root: dict[str, Any], path: str, value: Any) -> None:
    *steps, last = path.split(".")
    node = root
    for step in steps:
        child = node.get(step)
        if not isinstance(child, dict) or is_marker(child):
            child = node[step] = {}
        node = child
    node[last] = value


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` merged into ``base`` (nested objects merged, markers and arrays replaced)."""
    out = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and not is_marker(value):
            out[key] = merge(old, value)
        else:
            out[key] = value
    return out


def is_marker(value: Any) -> bool:
    """``{"param": …}`` or ``{"current": …}``: a value the template fills in."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("param", "current")


def _resolved(value: Any, own: dict[str, str]) -> Any:
    """``{"resource": "id" | "name"}`` filled from the item; its location read when deploying."""
    if isinstance(value, dict):
        if set(value) == {"resource"}:
            if value["resource"] == "location":
                return {"current": "location"}
            return own.get(value["resource"], "")
        return {key: _resolved(inner, own) for key, inner in value.items()}
    if isinstance(value, list):
        return [_resolved(inner, own) for inner in value]
    return value


def _settings(fix: Fix) -> list[str]:
    """What a fix sets and adds, as lines for whoever fixes the source."""
    lines = [f"{change.path} = {_shown(change.value)}" for change in fix.set]
    for added in fix.add:
        lines.append(
            f"add {added.type} {added.name!r} at {added.scope} scope: {_shown(added.properties)}"
        )
    return lines


def _shown(value: Any) -> str:
    def marked(inner: Any) -> Any:
        if isinstance(inner, dict):
            if set(inner) == {"param"}:
                return f"<{inner['param']}>"
            if set(inner) == {"resource"}:
                return f"<the resource's {inner['resource']}>"
            return {key: marked(v) for key, v in inner.items()}
        if isinstance(inner, list):
            return [marked(v) for v in inner]
        return inner

    return json.dumps(marked(value), ensure_ascii=False)


def param_type(name: str) -> str:
    """A fix param's template type."""
    return PARAM_TYPES.get(name, "string")


def identifier(name: str) -> str:
    """A param's name as a template/Bicep identifier (catalogue names are already so)."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"p_{cleaned}"
