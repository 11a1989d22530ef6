"""The Terraform source: ``terraform show -json`` of a plan (or of a state) into resources.

``terraform_plan`` reads the document, ``terraform_refs`` builds ids and resolves references,
``terraform_map`` says how each azurerm attribute becomes an ARM property; resources of azurerm or
azapi types it does not know are skipped and counted (``unsupported_types``). A plan read from a
file comes decoded by ``terraform_decode``, without the parts none of them reads.

The plan declares the diagnostic settings and role assignments it creates, so every resource gets
those lists; Defender pricings and policy assignments are seen only when the plan has some.
"""

from __future__ import annotations

import functools
import gc
from typing import Any

import orjson

from tutela.scanner.estate import UNKNOWN, Resource
from tutela.scanner.sources.plan_skips import (
    forget_skipped,
    record_skipped,
    skipped_addresses,
    unsupported_types,
)
from tutela.scanner.sources.relate import relate
from tutela.scanner.sources.terraform_convert import Attr, Mapping
from tutela.scanner.sources.terraform_map import BLOB_SERVICE, MAPPINGS
from tutela.scanner.sources.terraform_plan import (
    PLACEHOLDER_SUBSCRIPTION,
    Instance,
    Plan,
    dig,
    read,
)
from tutela.scanner.sources.terraform_refs import InstanceRefs, Resolver

__all__ = [
    "PLACEHOLDER_SUBSCRIPTION",
    "forget_skipped",
    "resources_from_terraform",
    "skipped_addresses",
    "unsupported_types",
]

_PRICING = "azurerm_security_center_subscription_pricing"
_POLICY = ("azurerm_subscription_policy_assignment", "azurerm_management_group_policy_assignment")


def resources_from_terraform(document: Any, source: str) -> list[Resource]:
    collecting = gc.isenabled()
    gc.disable()  # many small acyclic containers: collecting while building them only costs time
    try:
        plan = Plan(document, source)
        resources = _Builder(plan).resources()
        record_skipped(source, plan.skipped, plan.skipped_at)
        return relate(
            resources,
            sees_diagnostics=True,
            sees_access=True,
            sees_security=plan.types[_PRICING] > 0,
            sees_policy=any(plan.types[t] for t in _POLICY),
            source=source,
        )
    finally:
        if collecting:
            gc.enable()


class _Builder:
    """Builds the resources of a plan's mapped instances."""

    __slots__ = ("plan", "resolver")

    def __init__(self, plan: Plan) -> None:
        self.plan, self.resolver = plan, Resolver(plan)

    def resources(self) -> list[Resource]:
        built: list[Resource] = []
        # Resources by id, for the instances that amend another: only a plan with some needs it.
        by_id: dict[str, Resource] | None = {} if self._has_merges() else None
        merges: list[Instance] = []
        for instance in self.plan.instances.values():
            mapping = instance.mapping
            if mapping is None:
                continue
            if mapping.placement == "merge":
                merges.append(instance)
                continue
            resource = self._resource(instance, mapping)
            if resource is None:
                continue
            built.append(resource)
            if by_id is not None:
                by_id.setdefault(resource.key, resource)
            if instance.tf_type == "azurerm_storage_account":
                built.append(self._blob_service(instance, resource))
            elif instance.tf_type == "azurerm_container_registry":
                built += _replications(instance, resource)
        for instance in merges:
            assert by_id is not None
            self._merge(instance, by_id)
        return built

    def _has_merges(self) -> bool:
        """Whether any instance only amends another (``placement == "merge"``)."""
        mappings = (MAPPINGS.get(tf_type) for tf_type in self.plan.types)
        return any(mapping is not None and mapping.placement == "merge" for mapping in mappings)

    def _resource(self, instance: Instance, mapping: Mapping) -> Resource | None:
        compiled = _compiled(mapping)
        arm_type = compiled.arm_type
        body: dict[str, Any] = {}
        if mapping.placement == "azapi":
            azapi_body = self._azapi_body(instance)
            if azapi_body is None:
                return None
            body = azapi_body
            arm_type = str(instance.values.get("type")).split("@")[0].lower()
        for steps, value in compiled.constants:
            _put(body, steps, value)
        self._apply(instance, compiled.rules, body)
        arm_id = self.resolver.arm_id(instance)
        properties = body.get("properties")
        tags = body.get("tags")
        subscription_id, resource_group = _placement(arm_id)
        # Positional: several times faster than keywords (estate.POSITIONAL_FIELDS).
        resource = Resource(
            arm_id,
            arm_type,
            self.resolver.name(instance),
            subscription_id,
            resource_group,
            body.get("location"),
            body.get("kind"),
            body.get("sku"),
            tags if isinstance(tags, dict) else {},
            body.get("identity"),
            properties if isinstance(properties, dict) else {},
        )
        resource.origin = f"{self.plan.source}: {instance.address}"
        return resource

    def _azapi_body(self, instance: Instance) -> dict[str, Any] | None:
        """The ARM body of an azapi_resource; None (counted) if known only after apply."""
        kind = instance.values.get("type")
        body = instance.values.get("body")
        if isinstance(body, str):
            try:
                body = orjson.loads(body)
            except orjson.JSONDecodeError:
                body = None
        if not isinstance(kind, str) or body is UNKNOWN or dig(body, "properties") is UNKNOWN:
            self.plan.skip("azapi_resource (type or body known only after apply)", instance.address)
            return None
        return dict(body) if isinstance(body, dict) else {}

    def _apply(self, instance: Instance, rules: list[_Rule], body: dict[str, Any]) -> None:
        """Write each attribute the instance sets into ``body``: the loop every resource runs
        once per attribute of its mapping, hence the fast paths (see ``_Rule``).

        Consecutive attributes often go into the same object (``properties``): the object the
        last write walked to is kept and used again for the same ``parents``. Only ``_put`` can
        replace an object on that walk (a write here only fills an empty member), so after it the
        next write walks again.
        """
        refs: InstanceRefs | None = None  # made on first need
        values: dict[Any, Any] = instance.values
        walked: tuple[str, ...] | None = None  # the parents of the last write, and their object
        walked_node: dict[str, Any] = body
        for rule in rules:
            key = rule.key
            if key is not None:  # one spelling, at most a block deep: most attributes
                if rule.block is None:
                    value: Any = values.get(key)
                else:
                    block = values.get(rule.block)  # in the plan, a list of one object
                    if type(block) is list and block and type(block[0]) is dict:
                        value = block[0].get(key)
                    else:
                        value = read(values, rule.sources[0])
                # unset (None, "" or []): one truth test rules out most values (see _unset)
                if not value and (value is None or type(value) is str or type(value) is list):
                    continue
                if value is UNKNOWN and rule.ref:
                    value = self.resolver.resolve(instance, rule.sources[0])
                    if _unset(value):
                        continue
            elif not rule.sources:
                value = values  # "*": the whole resource
            else:
                value = None
                for steps in rule.sources:  # the first set spelling; a known one before an unknown
                    found = read(values, steps)
                    if found is UNKNOWN and rule.ref:
                        found = self.resolver.resolve(instance, steps)
                    if _unset(found):
                        continue
                    value = found
                    if found is not UNKNOWN:
                        break
                if value is None:
                    continue
            convert = rule.convert
            # A conversion that only says the attribute is set (``credential``) runs on UNKNOWN too.
            if convert is not None and (value is not UNKNOWN or hasattr(convert, "on_unknown")):
                refs = refs or InstanceRefs(self.resolver, instance)
                value = convert(value, refs)
                if type(value) is dict or type(value) is list:
                    value = _pruned(value)
                elif value is None:
                    continue
            # _put inlined for its usual case: a new member of objects (made as needed)
            parents = rule.parents
            if parents is not None:
                node: Any
                if parents is walked:  # the same objects as the last write: found already
                    node = walked_node
                else:
                    node = body
                    for step in parents:
                        child = node.get(step)
                        if child is None:
                            child = node[step] = {}
                        elif type(child) is not dict:
                            break
                        node = child
                    else:
                        walked, walked_node = parents, node
                if parents is walked and node.get(rule.last) is None:
                    node[rule.last] = value
                    continue
            walked = None  # _put may replace any object: walk again
            _put(body, rule.target, value)

    def _blob_service(self, instance: Instance, account: Resource) -> Resource:
        """The account's blob service, with the soft-delete settings of its blob_properties."""
        body: dict[str, Any] = {}
        self._apply(instance, _compiled(BLOB_SERVICE).rules, body)
        service = Resource(  # positional, as in _resource
            f"{account.id}/blobServices/default",
            "microsoft.storage/storageaccounts/blobservices",
            "default",
            account.subscription_id,
            account.resource_group,
        )
        service.properties = body.get("properties") or {}
        service.origin = account.origin
        return service

    def _merge(self, instance: Instance, by_id: dict[str, Resource]) -> None:
        """Merge a resource that only amends another (a node pool, a customer-managed key)."""
        mapping = instance.mapping
        assert mapping is not None
        assert mapping.merge_at is not None
        target_id = self.resolver.resolve(instance, (mapping.parent or "",))
        target = by_id.get(target_id.lower()) if isinstance(target_id, str) else None
        if target is None:
            return  # amends a resource outside this plan
        part: dict[str, Any] = {}
        compiled = _compiled(mapping)
        for path, value in compiled.constants:
            _put(part, path, value)
        self._apply(instance, compiled.rules, part)
        steps = _steps(mapping.merge_at)
        holder: dict[str, Any] = {"properties": target.properties}
        appended = isinstance(read(holder, steps), list)  # a list (agent pools) gets one more
        _put(holder, steps, [part] if appended else part)
        target.properties = holder["properties"]


def _unset(value: Any) -> bool:
    """Whether the plan leaves the attribute unset: null, ``""`` or ``[]`` (a falsy ``false``, ``0``
    or ``{}`` is a value). Plan values are plain JSON types, so the type tests are exact."""
    return not value and (value is None or type(value) is str or type(value) is list)


def _replications(instance: Instance, registry: Resource) -> list[Resource]:
    """A Premium registry's replications, as ARM lists them: its home region's, then one per
    ``georeplications`` block (a plan declares them all there). Blocks known only after apply
    are one replication whose region is unknown; other tiers cannot replicate: none."""
    sku = registry.sku.get("name") if isinstance(registry.sku, dict) else None
    if not isinstance(sku, str) or sku.casefold() != "premium":
        return []
    blocks = instance.values.get("georeplications")
    if blocks is UNKNOWN:
        regions: list[Any] = [registry.location, UNKNOWN]
    else:
        regions = [registry.location]
        for block in blocks if isinstance(blocks, list) else ():
            regions.append(block.get("location") if isinstance(block, dict) else UNKNOWN)
    replicas = []
    for index, region in enumerate(regions):
        name = region if isinstance(region, str) and region else f"replication-{index}"
        replica = Resource(  # positional, as in _Builder._resource
            f"{registry.id}/replications/{name}",
            "microsoft.containerregistry/registries/replications",
            name,
            registry.subscription_id,
            registry.resource_group,
            region,
        )
        replica.origin = registry.origin
        replicas.append(replica)
    return replicas


# --- writing ARM bodies -------------------------------------------------------------------------


def _put(body: dict[str, Any], steps: tuple[str | int, ...], value: Any) -> None:
    """Set ``value`` at ``steps``: objects merge, lists extend, known beats unknown."""
    node: Any = body
    for index in range(len(steps) - 1):
        step = steps[index]
        child = node.get(step) if type(node) is dict else _child(node, step)
        if type(child) is not dict and type(child) is not list:
            child = [] if type(steps[index + 1]) is int else {}
            _set(node, step, child)
        node = child
    last = steps[-1]
    if type(node) is dict:
        existing = node.get(last)
        if existing is None:  # the usual case: a new member
            node[last] = value
            return
    else:
        existing = _child(node, last)
    if existing is not None:
        if value is UNKNOWN:
            return
        if type(existing) is dict and type(value) is dict:
            value = {**existing, **value}
        elif type(existing) is list and type(value) is list:
            value = existing + value
    _set(node, last, value)


def _child(node: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return node[step] if isinstance(node, list) and step < len(node) else None
    return node.get(step) if isinstance(node, dict) else None


def _set(node: Any, step: str | int, value: Any) -> None:
    if type(step) is int:
        node.extend({} for _ in range(step + 1 - len(node)))
    node[step] = value


def _pruned(value: Any) -> Any:
    """The value without None members (a converter's blank fields are absent, not null).

    Loops rather than comprehensions: on Python 3.11 each comprehension is a call of its own,
    and this runs for every object or list a conversion makes."""
    if type(value) is dict:
        kept = {}
        for key, member in value.items():
            if member is not None:
                kept[key] = _pruned(member) if type(member) in _CONTAINERS else member
        return kept
    if type(value) is list:
        items = []
        for item in value:
            items.append(_pruned(item) if type(item) in _CONTAINERS else item)
        return items
    return value


_CONTAINERS = frozenset({dict, list})


@functools.lru_cache(maxsize=1024)
def _steps(path: str) -> tuple[str | int, ...]:
    return tuple(int(step) if step.isdigit() else step for step in path.split("."))


_Steps = tuple[str | int, ...]
_PARENTS: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple for equal parents: see _Rule


class _Rule:
    """One ``Attr`` compiled for ``_apply``: its paths split into steps once, not per instance.

    ``key`` is set when the attribute has one spelling of one or two names: ``key`` alone is a
    top-level attribute, ``block`` + ``key`` a member of a block (``network_acls.bypass``), read
    where the plan has it, in the block's first object; anything else (aliases, list indexes, an
    odd shape) is read by ``read`` from ``sources``, which is empty for ``*`` (the whole
    resource). ``parents`` are the names of the objects the target is in (``properties``,
    ``networkAcls``), None when the target indexes a list: only ``_put`` writes those. Rules with
    equal parents share one tuple, so ``_apply`` tells by ``is`` that it has just walked them.
    """

    __slots__ = ("block", "convert", "key", "last", "parents", "ref", "sources", "target")

    def __init__(self, attr: Attr) -> None:
        self.ref, self.convert = attr.ref, attr.convert
        paths = () if attr.source == "*" else (attr.source, *attr.aliases)
        self.sources: tuple[_Steps, ...] = tuple(_steps(path) for path in paths)
        names = self.sources[0] if len(self.sources) == 1 else ()
        plain = 0 < len(names) <= 2 and all(type(name) is str for name in names)
        self.key = str(names[-1]) if plain else None
        self.block = str(names[0]) if plain and len(names) == 2 else None
        self.target = _steps(attr.target)
        self.last = self.target[-1]
        parents = tuple(step for step in self.target[:-1] if type(step) is str)
        plain = len(parents) == len(self.target) - 1
        self.parents = _PARENTS.setdefault(parents, parents) if plain else None


class _Compiled:
    """A ``Mapping`` as each of its instances uses it: rules, constants, the lower-case type."""

    __slots__ = ("arm_type", "constants", "mapping", "rules")

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.rules = [_Rule(attr) for attr in mapping.attrs]
        self.constants = tuple((_steps(path), value) for path, value in mapping.constants.items())
        self.arm_type = mapping.arm_type.lower()


_COMPILED: dict[int, _Compiled] = {}


def _compiled(mapping: Mapping) -> _Compiled:
    found = _COMPILED.get(id(mapping))
    if found is None or found.mapping is not mapping:  # (an id is only unique while in use)
        found = _COMPILED[id(mapping)] = _Compiled(mapping)
    return found


def _placement(arm_id: str) -> tuple[str | None, str | None]:
    """The subscription and the resource group an id names (None for what it does not)."""
    parts = arm_id.split("/", 5)
    if len(parts) < 3 or parts[1].lower() != "subscriptions":
        return None, None
    group = (parts[4] or None) if len(parts) > 4 and parts[3].lower() == "resourcegroups" else None
    return parts[2] or None, group
