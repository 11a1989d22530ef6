"""Terraform: ``terraform show -json`` of a plan (or of a state) into resources.

Reads ``resource_changes[*].change.after`` (deleted resources and data sources left out; values
``after_unknown`` flags become ``UNKNOWN``), or else ``planned_values`` / a state's ``values``.
``terraform_map`` says how each azurerm attribute becomes an ARM property; resources of azurerm or
azapi types it does not know are skipped and counted (``unsupported_types``).

A plan knows no ids before apply, so ids are built from names the ARM way:
``/subscriptions/<subscription>/resourceGroups/<resource_group_name>/providers/<type>/<name>``.
The subscription is the azurerm provider's literal ``subscription_id`` in the configuration, else
the ``subscription_id`` of a ``data.azurerm_client_config`` / ``data.azurerm_subscription`` the
plan read, else ``00000000-0000-0000-0000-000000000000``. An id the plan already knows (a state,
an unchanged resource) is used as it is. A name known only after apply becomes ``<address>``
(a GUID derived from the address for role assignments and definitions).

An attribute naming another resource (a deployment's account, an endpoint's target, a diagnostic
setting's target) is usually unknown at plan time; it is resolved through the configuration's
``expressions.<attribute>.references`` to the resource at that address, following module
variables and outputs. A diagnostic setting with logs whose target resolves this way to a storage
account is taken to target its blob service: a storage account itself only has metrics.

The plan declares the diagnostic settings and role assignments it creates, so every resource gets
those lists; Defender pricings and policy assignments are seen only when the plan has some.
"""

from __future__ import annotations

import functools
import gc
import itertools
import re
import uuid
from collections import Counter
from typing import Any

import orjson

from tutela.scanner.estate import UNKNOWN, Resource
from tutela.scanner.sources import SourceError
from tutela.scanner.sources.relate import relate
from tutela.scanner.sources.terraform_map import MAPPINGS, Attr, Mapping

PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
_PRICING = "azurerm_security_center_subscription_pricing"
_POLICY = ("azurerm_subscription_policy_assignment", "azurerm_management_group_policy_assignment")
_MODULE_STEP = re.compile(r"module\.([^.\[]+)((?:\[[^\]]*\])?)")
_REFERENCE = re.compile(r"([\w-]+)\.([\w-]+)((?:\[[^\]]*\])?)(?:\.(\w+))?")
_STORAGE_ACCOUNT = re.compile(r"/providers/microsoft\.storage/storageaccounts/[^/]+$")
_SKIPPED: dict[str, Counter[str]] = {}


def unsupported_types(source: str) -> dict[str, int]:
    """Resources of azurerm / azapi types not mapped, by type, in the last parse of ``source``."""
    return dict(_SKIPPED.get(source, {}))


def resources_from_terraform(document: Any, source: str) -> list[Resource]:
    collecting = gc.isenabled()
    gc.disable()  # many small acyclic containers: collecting while building them only costs time
    try:
        plan = _Plan(document, source)
        resources = plan.resources()
    finally:
        if collecting:
            gc.enable()
    _SKIPPED[source] = plan.skipped
    return relate(
        resources,
        sees_diagnostics=True,
        sees_access=True,
        sees_security=plan.types[_PRICING] > 0,
        sees_policy=any(plan.types[t] for t in _POLICY),
        source=source,
    )


class _Instance:
    """One resource instance of the plan, its values with unknowns marked."""

    __slots__ = ("address", "arm_id", "config", "index", "mapping", "module", "tf_type", "values")

    def __init__(self, address: str, tf_type: str, module: str, index: Any, values: Any) -> None:
        self.address, self.tf_type, self.module, self.index = address, tf_type, module, index
        self.values: dict[str, Any] = values if isinstance(values, dict) else {}
        self.mapping: Mapping | None = MAPPINGS.get(tf_type)
        self.config: dict[str, Any] = {}
        self.arm_id: str | None = None


class _Refs:
    """What a conversion in the mapping table may ask about the instance it converts."""

    __slots__ = ("_instance", "_plan", "subscription")

    def __init__(self, plan: _Plan, instance: _Instance) -> None:
        self._plan, self._instance = plan, instance
        self.subscription = plan.subscription(instance)

    def resolve(self, steps: tuple[str | int, ...]) -> Any:
        return self._plan.resolve(self._instance, steps)


class _Plan:
    def __init__(self, document: Any, source: str) -> None:
        self.source = source
        if not isinstance(document, dict):
            raise SourceError(
                source,
                f"expected the JSON object `terraform show -json` prints, got {_kind(document)}",
            )
        self.instances: dict[str, _Instance] = {}
        self.by_base: dict[str, list[_Instance]] = {}
        self.data: dict[str, dict[str, Any]] = {}
        self.types: Counter[str] = Counter()
        # "module.kv" → {"module.kv[0]"}: a module instance's address without its own key
        self.module_keys: dict[str, set[str]] = {}
        self.skipped: Counter[str] = Counter()
        self.config_modules: dict[tuple[str, ...], dict[str, Any]] = {}
        self.config_resources: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}
        self._read_resources(document)
        self._read_configuration(document.get("configuration"))
        self.provider_subscriptions = self._provider_subscriptions(document.get("configuration"))
        self.default_subscription = (
            self.provider_subscriptions.get("azurerm") or self._data_subscription()
        )

    def error(self, problem: str) -> SourceError:
        return SourceError(self.source, problem)

    # --- reading the document -------------------------------------------------------------------

    def _read_resources(self, document: dict[str, Any]) -> None:
        if document.get("resource_changes") is not None:
            self._read_changes(document["resource_changes"])
            prior = document.get("prior_state")
            if isinstance(prior, dict) and isinstance(prior.get("values"), dict):
                self._read_module(
                    prior["values"].get("root_module"),
                    "prior_state.values.root_module",
                    "",
                    data_only=True,
                )
            return
        for key in ("planned_values", "values"):
            if key in document:
                if not isinstance(document[key], dict):
                    raise self.error(f"{key} is not an object")
                self._read_module(document[key].get("root_module"), f"{key}.root_module", "")
                return
        if "format_version" not in document:
            raise self.error(
                "no resource_changes, planned_values or values: not `terraform show -json` output"
            )

    def _read_changes(self, changes: Any) -> None:
        if not isinstance(changes, list):
            raise self.error(f"resource_changes is {_kind(changes)}, not a list")
        for number, record in enumerate(changes):
            where = f"resource_changes[{number}]"
            address, tf_type = self._identify(record, where)
            change = record.get("change")
            if not isinstance(change, dict):
                raise self.error(f"{where} ({address}) has no change object")
            if not isinstance(change.get("actions"), list):
                raise self.error(f"{where}.change.actions is not a list")
            after = change.get("after")
            if after is None or change["actions"] == ["delete"]:
                continue  # deleted (or forgotten): not in the estate the plan leaves
            if not isinstance(after, dict):
                raise self.error(f"{where}.change.after is {_kind(after)}, not an object")
            values = _overlay(after, change.get("after_unknown"))
            module = record.get("module_address") or ""
            self._add(
                record.get("mode"), address, tf_type, str(module), record.get("index"), values
            )

    def _read_module(
        self, module: Any, where: str, address: str, *, data_only: bool = False
    ) -> None:
        if module is None:
            return
        if not isinstance(module, dict):
            raise self.error(f"{where} is {_kind(module)}, not an object")
        resources = module.get("resources")
        resources = [] if resources is None else resources
        if not isinstance(resources, list):
            raise self.error(f"{where}.resources is not a list")
        for number, record in enumerate(resources):
            resource_address, tf_type = self._identify(record, f"{where}.resources[{number}]")
            values = record.get("values")
            if values is not None and not isinstance(values, dict):
                raise self.error(f"{where}.resources[{number}].values is not an object")
            if not data_only or record.get("mode") == "data":
                self._add(
                    record.get("mode"),
                    resource_address,
                    tf_type,
                    address,
                    record.get("index"),
                    values,
                )
        children = module.get("child_modules")
        children = [] if children is None else children
        if not isinstance(children, list):
            raise self.error(f"{where}.child_modules is not a list")
        for number, child in enumerate(children):
            child_address = child.get("address", "") if isinstance(child, dict) else ""
            self._read_module(
                child, f"{where}.child_modules[{number}]", str(child_address), data_only=data_only
            )

    def _identify(self, record: Any, where: str) -> tuple[str, str]:
        if not isinstance(record, dict):
            raise self.error(f"{where} is {_kind(record)}, not an object")
        address, tf_type = record.get("address"), record.get("type")
        if not isinstance(address, str) or not address:
            raise self.error(f"{where} has no address")
        if not isinstance(tf_type, str) or not tf_type:
            raise self.error(f"{where} ({address}) has no type")
        return address, tf_type

    def _add(
        self, mode: Any, address: str, tf_type: str, module: str, index: Any, values: Any
    ) -> None:
        if mode == "data":
            self.data[address] = values if isinstance(values, dict) else {}
            return
        instance = _Instance(address, tf_type, module, index, values)
        if module and module not in self.module_keys.get(_unkeyed(module), ()):
            for match in _MODULE_STEP.finditer(module):  # each enclosing module instance
                prefix = module[: match.end()]
                self.module_keys.setdefault(_unkeyed(prefix), set()).add(prefix)
        self.instances[address] = instance
        self.by_base.setdefault(_base(address), []).append(instance)
        self.types[tf_type] += 1
        if instance.mapping is None and tf_type.startswith(("azurerm_", "azapi_")):
            self.skipped[tf_type] += 1

    def _read_configuration(self, configuration: Any) -> None:
        """Index the configuration's modules and resources; a malformed part is ignored."""
        if not isinstance(configuration, dict):
            return

        def walk(module: Any, path: tuple[str, ...]) -> None:
            if not isinstance(module, dict):
                return
            self.config_modules[path] = module
            for resource in module.get("resources") or []:
                if isinstance(resource, dict) and isinstance(resource.get("address"), str):
                    self.config_resources[(path, resource["address"])] = resource
            calls = module.get("module_calls")
            for name, call in calls.items() if isinstance(calls, dict) else ():
                if isinstance(call, dict):
                    walk(call.get("module"), (*path, name))

        walk(configuration.get("root_module"), ())
        for instance in self.instances.values():
            local = _base(instance.address)[len(instance.module) + 1 if instance.module else 0 :]
            instance.config = self.config_resources.get((_module_names(instance.module), local), {})

    def _provider_subscriptions(self, configuration: Any) -> dict[str, str]:
        providers = (
            configuration.get("provider_config") if isinstance(configuration, dict) else None
        )
        found: dict[str, str] = {}
        for key, provider in providers.items() if isinstance(providers, dict) else ():
            expressions = provider.get("expressions") if isinstance(provider, dict) else None
            literal = _dig(expressions, "subscription_id", "constant_value")
            if isinstance(literal, str) and literal:
                found[key] = literal
        return found

    def _data_subscription(self) -> str:
        for address, values in self.data.items():
            if "data.azurerm_client_config." in address or "data.azurerm_subscription." in address:
                guid = values.get("subscription_id")
                if isinstance(guid, str) and guid:
                    return guid
        return PLACEHOLDER_SUBSCRIPTION

    # --- references -----------------------------------------------------------------------------

    def subscription(self, instance: _Instance) -> str:
        key = instance.config.get("provider_config_key")
        return self.provider_subscriptions.get(str(key)) or self.default_subscription

    def resolve(self, instance: _Instance, steps: tuple[str | int, ...]) -> Any:
        """The value at ``steps``; if unknown, the id (or value) its expression refers to."""
        value = _read(instance.values, steps)
        if value is not UNKNOWN:
            return value
        references = _dig(_read(instance.config.get("expressions"), steps), "references")
        if not isinstance(references, list):
            return UNKNOWN
        return self._referenced(references, instance.module, instance.index, 0)

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
        base = _join(module, f"{tf_type}.{name}")
        target = self.instances.get(base + key) if key else None
        if target is None and index is not None:  # for_each beside for_each: the same key
            target = self.instances.get(f"{base}[{orjson.dumps(index).decode()}]")
        if target is None:
            candidates = self.by_base.get(base, [])
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
        values = self.data.get(_join(module, f"data.{tf_type}.{name}{key}"))
        if values is not None and values.get(attribute or "id") is not None:
            return values[attribute or "id"]
        if tf_type in ("azurerm_subscription", "azurerm_client_config"):
            guid = self.default_subscription
            if attribute == "subscription_id":
                return guid
            if attribute in (None, "id"):
                return f"/subscriptions/{guid}"
        return UNKNOWN

    def _variable(self, name: str, module: str, depth: int) -> Any:
        steps = _MODULE_STEP.findall(module)
        if not steps:
            return None  # a root variable: its value is already in the plan
        names = tuple(step[0] for step in steps)
        parent = ".".join(f"module.{n}{k}" for n, k in steps[:-1])
        calls = self.config_modules.get(names[:-1], {}).get("module_calls")
        expression = _dig(calls, names[-1], "expressions", name)
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
        child = _join(module, f"module.{name}{key}")
        keyed = self.module_keys.get(child, set())
        if not key and len(keyed) == 1:  # the one instance of a counted module
            child = next(iter(keyed))
        outputs = self.config_modules.get((*_module_names(module), name), {}).get("outputs")
        references = _dig(outputs, output, "expression", "references")
        if not isinstance(references, list):
            return None
        return self._referenced(references, child, None, depth + 1)

    # --- ids ------------------------------------------------------------------------------------

    def arm_id(self, instance: _Instance) -> str:
        if instance.arm_id is None:
            instance.arm_id = f"<{instance.address}>"  # while building: breaks reference cycles
            instance.arm_id = self._build_id(instance)
        return instance.arm_id

    def _build_id(self, instance: _Instance) -> str:
        mapping = instance.mapping
        assert mapping is not None  # only mapped instances get ids built
        if mapping.placement == "merge":
            return self._parent(instance)  # it amends that resource and has no id of its own
        known = instance.values.get(mapping.id_attr) if mapping.id_attr else None
        if isinstance(known, str) and known.startswith("/"):
            return known
        name = self._name(instance)
        arm_type, placement = mapping.arm_type, mapping.placement
        subscription = f"/subscriptions/{self.subscription(instance)}"
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

    def _name(self, instance: _Instance) -> str:
        mapping = instance.mapping
        name = instance.values.get(mapping.name_attr if mapping else "name")
        if isinstance(name, str) and name:
            return name
        if mapping is not None and mapping.guid_name:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"terraform:{instance.address}"))
        return f"<{instance.address}>"

    def _parent(self, instance: _Instance) -> str:
        mapping = instance.mapping
        assert mapping is not None
        assert mapping.parent is not None
        parent = self.resolve(instance, (mapping.parent,))
        if not isinstance(parent, str) or not parent:
            unknown = f"<{instance.address}: {mapping.parent}>"
            if mapping.placement != "child":
                return unknown
            parent_type = mapping.arm_type.rsplit("/", 1)[0]
            group = f"/subscriptions/{self.subscription(instance)}/resourceGroups/<unknown>"
            return f"{group}/providers/{parent_type}/{unknown}"
        if instance.tf_type == "azurerm_monitor_diagnostic_setting":
            literal = instance.values.get("target_resource_id")
            logs = instance.values.get("enabled_log") or instance.values.get("log")
            if literal is UNKNOWN and logs and _STORAGE_ACCOUNT.search(parent.lower()):
                return f"{parent}/blobServices/default"
        return parent

    # --- resources ------------------------------------------------------------------------------

    def resources(self) -> list[Resource]:
        built: list[Resource] = []
        by_id: dict[str, Resource] = {}
        merges: list[_Instance] = []
        for instance in self.instances.values():
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
            by_id.setdefault(resource.key, resource)
            if instance.tf_type == "azurerm_storage_account":
                built.append(_blob_service(resource))
        for instance in merges:
            self._merge(instance, by_id)
        return built

    def _resource(self, instance: _Instance, mapping: Mapping) -> Resource | None:
        body: dict[str, Any] = {}
        if mapping.placement == "azapi":
            azapi_body = self._azapi_body(instance)
            if azapi_body is None:
                return None
            body = azapi_body
        for path, value in mapping.constants.items():
            _put(body, _steps(path), value)
        self._apply(instance, mapping.attrs, body)
        arm_id = self.arm_id(instance)
        arm_type = mapping.arm_type
        if mapping.placement == "azapi":
            arm_type = str(instance.values.get("type")).split("@")[0]
        properties = body.get("properties")
        tags = body.get("tags")
        return Resource(
            id=arm_id,
            type=arm_type.lower(),
            name=self._name(instance),
            subscription_id=_segment_after(arm_id, "subscriptions"),
            resource_group=_segment_after(arm_id, "resourcegroups"),
            location=body.get("location"),
            kind=body.get("kind"),
            sku=body.get("sku"),
            tags=tags if isinstance(tags, dict) else {},
            identity=body.get("identity"),
            properties=properties if isinstance(properties, dict) else {},
            origin=f"{self.source}: {instance.address}",
        )

    def _azapi_body(self, instance: _Instance) -> dict[str, Any] | None:
        """The ARM body of an azapi_resource; None (counted) if known only after apply."""
        kind = instance.values.get("type")
        body = instance.values.get("body")
        if isinstance(body, str):
            try:
                body = orjson.loads(body)
            except orjson.JSONDecodeError:
                body = None
        if not isinstance(kind, str) or body is UNKNOWN or _dig(body, "properties") is UNKNOWN:
            self.skipped["azapi_resource (type or body known only after apply)"] += 1
            return None
        return dict(body) if isinstance(body, dict) else {}

    def _apply(self, instance: _Instance, attrs: tuple[Attr, ...], body: dict[str, Any]) -> None:
        refs: _Refs | None = None  # made on first need
        values: dict[Any, Any] = instance.values
        for attr, sources, target, convert in _compiled(attrs):
            if sources is None:
                value: Any = values
            else:
                value = None
                for steps in sources:  # the first set spelling; a known one before an unknown
                    found = values.get(steps[0]) if len(steps) == 1 else _read(values, steps)
                    if found is UNKNOWN and attr.ref:
                        found = self.resolve(instance, steps)
                    if found is None or found == "" or found == []:
                        continue
                    value = found
                    if found is not UNKNOWN:
                        break
                if value is None:
                    continue
            if convert is not None and value is not UNKNOWN:
                refs = refs or _Refs(self, instance)
                value = _pruned(convert(value, refs))
                if value is None:
                    continue
            _put(body, target, value)

    def _merge(self, instance: _Instance, by_id: dict[str, Resource]) -> None:
        """Merge a resource that only amends another (a node pool, a customer-managed key)."""
        mapping = instance.mapping
        assert mapping is not None
        assert mapping.merge_at is not None
        target_id = self.resolve(instance, (mapping.parent or "",))
        target = by_id.get(target_id.lower()) if isinstance(target_id, str) else None
        if target is None:
            return  # amends a resource outside this plan
        part: dict[str, Any] = {}
        for path, value in mapping.constants.items():
            _put(part, _steps(path), value)
        self._apply(instance, mapping.attrs, part)
        steps = _steps(mapping.merge_at)
        holder: dict[str, Any] = {"properties": target.properties}
        appended = isinstance(_read(holder, steps), list)  # a list (agent pools) gets one more
        _put(holder, steps, [part] if appended else part)
        target.properties = holder["properties"]


def _blob_service(account: Resource) -> Resource:
    return Resource(
        id=f"{account.id}/blobServices/default",
        type="microsoft.storage/storageaccounts/blobservices",
        name="default",
        subscription_id=account.subscription_id,
        resource_group=account.resource_group,
        origin=account.origin,
    )


# --- plain data helpers -------------------------------------------------------------------------


def _overlay(after: Any, unknown: Any) -> Any:
    """``after`` with every leaf ``after_unknown`` flags replaced by ``UNKNOWN``."""
    if unknown is True:
        return UNKNOWN
    if not unknown:
        return after
    if isinstance(unknown, dict):
        merged = dict(after) if isinstance(after, dict) else {}
        for key, flag in unknown.items():
            merged[key] = _overlay(merged.get(key), flag)
        return merged
    if isinstance(unknown, list):
        items = list(after) if isinstance(after, list) else []
        items += [None] * (len(unknown) - len(items))
        flags = unknown + [False] * (len(items) - len(unknown))
        return [_overlay(item, flag) for item, flag in zip(items, flags, strict=True)]
    return after


def _read(values: Any, steps: tuple[str | int, ...]) -> Any:
    """Follow ``steps``; a name steps into a block's first object. None when absent."""
    node = values
    for step in steps:
        if type(node) is dict:
            node = node.get(step)
            continue
        if node is UNKNOWN:
            return UNKNOWN
        if type(step) is int:
            node = node[step] if type(node) is list and step < len(node) else None
            continue
        if type(node) is list:
            node = node[0] if node else None
            if node is UNKNOWN:
                return UNKNOWN
        node = node.get(step) if type(node) is dict else None
    return node


def _put(body: dict[str, Any], steps: tuple[str | int, ...], value: Any) -> None:
    """Set ``value`` at ``steps``: objects merge, lists extend, known beats unknown."""
    node: Any = body
    for step, following in itertools.pairwise(steps):
        child = node.get(step) if type(node) is dict else _child(node, step)
        if type(child) is not dict and type(child) is not list:
            child = [] if type(following) is int else {}
            _set(node, step, child)
        node = child
    last = steps[-1]
    existing = node.get(last) if type(node) is dict else _child(node, last)
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
    """The value without None members (a converter's blank fields are absent, not null)."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


@functools.lru_cache(maxsize=1024)
def _steps(path: str) -> tuple[str | int, ...]:
    return tuple(int(step) if step.isdigit() else step for step in path.split("."))


_Steps = tuple[str | int, ...]
_COMPILED: dict[int, list[tuple[Attr, tuple[_Steps, ...] | None, _Steps, Any]]] = {}


def _compiled(attrs: tuple[Attr, ...]) -> list[tuple[Attr, tuple[_Steps, ...] | None, _Steps, Any]]:
    """Each attribute with its source paths (None: the whole resource), target path, conversion."""
    found = _COMPILED.get(id(attrs))  # the table's tuples live as long as the module
    if found is None:
        found = _COMPILED[id(attrs)] = [
            (
                attr,
                None
                if attr.source == "*"
                else tuple(_steps(p) for p in (attr.source, *attr.aliases)),
                _steps(attr.target),
                attr.convert,
            )
            for attr in attrs
        ]
    return found


def _dig(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _base(address: str) -> str:
    """The address without its own instance key: ``a.b["k"]`` → ``a.b``."""
    return address[: address.rfind("[")] if address.endswith("]") else address


def _unkeyed(module: str) -> str:
    """``module.a[0].module.b["x"]`` → ``module.a[0].module.b``: the last instance key off."""
    return _base(module)


def _module_names(module: str) -> tuple[str, ...]:
    return tuple(name for name, _key in _MODULE_STEP.findall(module))


def _join(module: str, local: str) -> str:
    return f"{module}.{local}" if module else local


def _segment_after(arm_id: str, name: str) -> str | None:
    """The subscription or resource group an id names (``name``: their lower-cased key)."""
    parts = arm_id.split("/", 5)
    if len(parts) < 3 or parts[1].lower() != "subscriptions":
        return None
    if name == "subscriptions":
        return parts[2] or None
    return (parts[4] or None) if len(parts) > 4 and parts[3].lower() == name else None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")
