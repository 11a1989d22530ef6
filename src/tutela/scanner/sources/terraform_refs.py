"""Ids and references: the ARM id of each plan instance, and what an unknown attribute names.

A plan knows no ids before apply, so ids are built from names the ARM way:
``/subscriptions/<subscription>/resourceGroups/<resource_group_name>/providers/<type>/<name>``.
An id the plan already knows (a state, an unchanged resource) is used as it is. A name known only
after apply becomes ``<address>`` (a GUID derived from the address for role assignments and
definitions).

An attribute naming another resource (a deployment's account, an endpoint's target, a diagnostic
setting's target) is usually unknown at plan time; it is resolved through the configuration's
``expressions.<attribute>.references`` to the resource at that address, following module
variables and outputs. A diagnostic setting with logs whose target resolves this way to a storage
account is taken to target its blob service: a storage account itself only has metrics.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson

from tutela.scanner.estate import UNKNOWN
from tutela.scanner.sources.terraform_decode import expressions_of
from tutela.scanner.sources.terraform_plan import (
    MODULE_STEP,
    Instance,
    Plan,
    dig,
    join_address,
    module_names,
    read,
)

_REFERENCE = re.compile(r"([\w-]+)\.([\w-]+)((?:\[[^\]]*\])?)(?:\.(\w+))?")
_STORAGE_ACCOUNT = re.compile(r"/providers/microsoft\.storage/storageaccounts/[^/]+$")


class Resolver:
    """Resolves references and builds ids for the instances of one plan."""

    __slots__ = ("plan",)

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    # --- references -----------------------------------------------------------------------------

    def resolve(self, instance: Instance, steps: tuple[str | int, ...]) -> Any:
        """The value at ``steps``; if unknown, the id (or value) its expression refers to."""
        value = read(instance.values, steps)
        if value is not UNKNOWN:
            return value
        resolved = instance.resolved
        if resolved is None:
            resolved = instance.resolved = {}
        elif steps in resolved:
            return resolved[steps]
        references = dig(read(expressions_of(instance.config), steps), "references")
        if isinstance(references, list):
            value = self._referenced(references, instance.module, instance.index, 0)
        resolved[steps] = value
        return value

    def _referenced(self, references: list[Any], module: str, index: Any, depth: int) -> Any:
        if depth > 16:  # a chain of variables and outputs this long is a cycle
            return UNKNOWN
        for reference in references:
            if not isinstance(reference, str):
                continue
            head, _, rest = reference.partition(".")
            if head == "var":
                found = self._variable(rest.split(".")[0], module, depth)
            elif head == "module":
                found = self._output(rest, module, depth)
            elif head == "data":
                found = self._data_value(rest, module)
            elif head in ("local", "each", "count", "path", "self", "terraform"):
                continue
            else:
                found = self._resource_value(reference, module, index)
            if found is not None:
                return found
        return UNKNOWN

    def _resource_value(self, reference: str, module: str, index: Any) -> Any:
        match = _REFERENCE.match(reference)
        if match is None:
            return None
        tf_type, name, key, attribute = match.groups()
        base = join_address(module, f"{tf_type}.{name}")
        target = self.plan.instances.get(base + key) if key else None
        if target is None and index is not None:  # for_each beside for_each: the same key
            target = self.plan.instances.get(f"{base}[{orjson.dumps(index).decode()}]")
        if target is None:
            candidates = self.plan.by_base.get(base, [])
            target = candidates[0] if len(candidates) == 1 else None
        if target is None:
            return None
        if target.mapping is not None and attribute in (None, target.mapping.id_attr):
            return self.arm_id(target)
        value = target.values.get(attribute or "id")
        # A nested attribute (identity[0].principal_id) is not followed: unknown, not a block.
        return value if isinstance(value, str | int | float | bool) else UNKNOWN

    def _data_value(self, reference: str, module: str) -> Any:
        match = _REFERENCE.match(reference)
        if match is None:
            return None
        tf_type, name, key, attribute = match.groups()
        values = self.plan.data.get(join_address(module, f"data.{tf_type}.{name}{key}"))
        if values is not None and values.get(attribute or "id") is not None:
            return values[attribute or "id"]
        if tf_type in ("azurerm_subscription", "azurerm_client_config"):
            guid = self.plan.default_subscription
            if attribute == "subscription_id":
                return guid
            if attribute in (None, "id"):
                return f"/subscriptions/{guid}"
        return UNKNOWN

    def _variable(self, name: str, module: str, depth: int) -> Any:
        steps = MODULE_STEP.findall(module)
        if not steps:
            return None  # a root variable: its value is already in the plan
        names = tuple(step[0] for step in steps)
        parent = ".".join(f"module.{n}{k}" for n, k in steps[:-1])
        calls = self.plan.config_modules.get(names[:-1], {}).get("module_calls")
        expression = dig(calls, names[-1], "expressions", name)
        if not isinstance(expression, dict):
            return None
        if "constant_value" in expression:
            return expression["constant_value"]
        references = expression.get("references")
        if not isinstance(references, list):
            return None
        return self._referenced(references, parent, None, depth + 1)

    def _output(self, reference: str, module: str, depth: int) -> Any:
        match = re.match(r"([\w-]+)((?:\[[^\]]*\])?)\.(\w+)", reference)
        if match is None:
            return None
        name, key, output = match.groups()
        child = join_address(module, f"module.{name}{key}")
        keyed = self.plan.module_keys.get(child, set())
        if not key and len(keyed) == 1:  # the one instance of a counted module
            child = next(iter(keyed))
        outputs = self.plan.config_modules.get((*module_names(module), name), {}).get("outputs")
        references = dig(outputs, output, "expression", "references")
        if not isinstance(references, list):
            return None
        return self._referenced(references, child, None, depth + 1)

    # --- ids ------------------------------------------------------------------------------------

    def arm_id(self, instance: Instance) -> str:
        if instance.arm_id is None:
            instance.arm_id = f"<{instance.address}>"  # while building: breaks reference cycles
            instance.arm_id = self._build_id(instance)
        return instance.arm_id

    def _build_id(self, instance: Instance) -> str:
        mapping = instance.mapping
        assert mapping is not None  # only mapped instances get ids built
        if mapping.placement == "merge":
            return self._parent(instance)  # it amends that resource and has no id of its own
        known = instance.values.get(mapping.id_attr) if mapping.id_attr else None
        if isinstance(known, str) and known.startswith("/"):
            return known
        name = self.name(instance)
        arm_type, placement = mapping.arm_type, mapping.placement
        subscription = f"/subscriptions/{self.plan.subscription(instance)}"
        if placement == "resource_group":
            return f"{subscription}/resourceGroups/{name}"
        if placement == "subscription":
            return f"{subscription}/providers/{arm_type}/{name}"
        if placement == "group":
            group = self.resolve(instance, ("resource_group_name",))
            group = group if isinstance(group, str) and group else "<unknown>"
            return f"{subscription}/resourceGroups/{group}/providers/{arm_type}/{name}"
        parent = self._parent(instance)
        if placement == "azapi":
            arm_type = str(instance.values.get("type", "")).split("@")[0]
        segments = arm_type.split("/")
        if placement == "child" or (placement == "azapi" and len(segments) > 2):
            return f"{parent}/{segments[-1]}/{name}"
        if placement == "sibling":
            cut = parent.lower().find("/providers/")
            group = parent[:cut] if cut > 0 else f"{subscription}/resourceGroups/<unknown>"
            return f"{group}/providers/{arm_type}/{name}"
        return f"{parent.rstrip('/')}/providers/{arm_type}/{name}"  # extension, azapi

    def name(self, instance: Instance) -> str:
        mapping = instance.mapping
        name = instance.values.get(mapping.name_attr if mapping else "name")
        if isinstance(name, str) and name:
            return name
        if mapping is not None and mapping.guid_name:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"terraform:{instance.address}"))
        return f"<{instance.address}>"

    def _parent(self, instance: Instance) -> str:
        mapping = instance.mapping
        assert mapping is not None
        assert mapping.parent is not None
        parent = self.resolve(instance, (mapping.parent,))
        if not isinstance(parent, str) or not parent:
            unknown = f"<{instance.address}: {mapping.parent}>"
            if mapping.placement != "child":
                return unknown
            parent_type = mapping.arm_type.rsplit("/", 1)[0]
            group = f"/subscriptions/{self.plan.subscription(instance)}/resourceGroups/<unknown>"
            return f"{group}/providers/{parent_type}/{unknown}"
        if instance.tf_type == "azurerm_monitor_diagnostic_setting":
            literal = instance.values.get("target_resource_id")
            logs = instance.values.get("enabled_log") or instance.values.get("log")
            if literal is UNKNOWN and logs and _STORAGE_ACCOUNT.search(parent.lower()):
                return f"{parent}/blobServices/default"
        return parent


class InstanceRefs:
    """What a conversion in the mapping table may ask about the instance it converts."""

    __slots__ = ("_instance", "_resolver")

    def __init__(self, resolver: Resolver, instance: Instance) -> None:
        self._resolver, self._instance = resolver, instance

    @property
    def subscription(self) -> str:  # looked up on demand: few conversions ask
        return self._resolver.plan.subscription(self._instance)

    def resolve(self, steps: tuple[str | int, ...]) -> Any:
        return self._resolver.resolve(self._instance, steps)
