"""A ``terraform show -json`` document read: its resource instances, data and configuration.

Reads ``resource_changes[*].change.after`` (deleted resources and data sources left out; values
``after_unknown`` flags become ``UNKNOWN``), or else ``planned_values`` / a state's ``values``.
The subscription is the azurerm provider's literal ``subscription_id`` in the configuration, else
the ``subscription_id`` of a ``data.azurerm_client_config`` / ``data.azurerm_subscription`` the
plan read, else ``00000000-0000-0000-0000-000000000000``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from tutela.scanner.estate import UNKNOWN
from tutela.scanner.sources import SourceError
from tutela.scanner.sources.terraform_convert import Mapping
from tutela.scanner.sources.terraform_decode import DecodedPlan
from tutela.scanner.sources.terraform_map import MAPPINGS

PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
SKIPPED_LISTED = 20  # addresses kept per type skipped (a report's ``not_evaluated`` lists them)
MODULE_STEP = re.compile(r"module\.([^.\[]+)((?:\[[^\]]*\])?)")


class Instance:
    """One resource instance of the plan, its values with unknowns marked."""

    __slots__ = (
        "address",
        "arm_id",
        "base",
        "config",
        "index",
        "mapping",
        "module",
        "resolved",
        "tf_type",
        "values",
    )

    def __init__(self, address: str, tf_type: str, module: str, index: Any, values: Any) -> None:
        self.address, self.tf_type, self.module, self.index = address, tf_type, module, index
        # base_address(address), spelled out: this runs once per instance of the plan
        self.base = address[: address.rfind("[")] if address.endswith("]") else address
        self.values: dict[str, Any] = values if isinstance(values, dict) else {}
        self.mapping: Mapping | None = MAPPINGS.get(tf_type)
        self.config: dict[str, Any] = {}
        self.arm_id: str | None = None
        # An unknown attribute's steps → what its reference resolved to (terraform_refs): a
        # parent's id is asked for by the id and again by the attribute's mapping.
        self.resolved: dict[tuple[str | int, ...], Any] | None = None


class Plan:
    """The document's resource instances, data sources and configuration, indexed."""

    def __init__(self, document: Any, source: str) -> None:
        self.source = source
        if not isinstance(document, dict):
            raise SourceError(
                source,
                f"expected the JSON object `terraform show -json` prints, got {_kind(document)}",
            )
        self.instances: dict[str, Instance] = {}
        self.by_base: dict[str, list[Instance]] = {}
        self.data: dict[str, dict[str, Any]] = {}
        self.types: Counter[str] = Counter()
        # "module.kv" → {"module.kv[0]"}: a module instance's address without its own key
        self.module_keys: dict[str, set[str]] = {}
        self.skipped: Counter[str] = Counter()
        # The first addresses skipped of each type (a report lists at most that many).
        self.skipped_at: dict[str, list[str]] = {}
        self.config_modules: dict[tuple[str, ...], dict[str, Any]] = {}
        # a configuration module's path of module names → its resources by (local) address
        self.config_resources: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
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
            self._read_changes(document["resource_changes"], type(document) is DecodedPlan)
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

    def _read_changes(self, changes: Any, owned: bool) -> None:
        """Each change's values after it, unknowns marked. An ``owned`` document's (see
        ``DecodedPlan``) are marked in place and each change is let go once read: the decoded
        plan shrinks as its instances grow, rather than both being whole at once."""
        if not isinstance(changes, list):
            raise self.error(f"resource_changes is {_kind(changes)}, not a list")
        for number, record in enumerate(changes):
            if owned:
                changes[number] = None
            # _identify's tests on the usual well-formed record, inlined: once per resource
            address = record.get("address") if type(record) is dict else None
            tf_type = record.get("type") if address else None
            if type(address) is not str or type(tf_type) is not str or not tf_type:
                address, tf_type = self._identify(record, "resource_changes", number)
            change = record.get("change")
            if type(change) is not dict:
                raise self.error(f"resource_changes[{number}] ({address}) has no change object")
            actions = change.get("actions")
            if type(actions) is not list:
                raise self.error(f"resource_changes[{number}].change.actions is not a list")
            after = change.get("after")
            if after is None or (len(actions) == 1 and actions[0] == "delete"):
                continue  # deleted (or forgotten): not in the estate the plan leaves
            if type(after) is not dict:
                raise self.error(
                    f"resource_changes[{number}].change.after is {_kind(after)}, not an object"
                )
            unknown = change.get("after_unknown")  # usually {}: nothing to overlay
            values = _overlay(after, unknown, owned) if unknown else after
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
            resource_address, tf_type = self._identify(record, f"{where}.resources", number)
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

    def _identify(self, record: Any, where: str, number: int) -> tuple[str, str]:
        """The record's address and type; ``where[number]`` names it in an error."""
        if type(record) is not dict:
            raise self.error(f"{where}[{number}] is {_kind(record)}, not an object")
        address, tf_type = record.get("address"), record.get("type")
        if type(address) is not str or not address:
            raise self.error(f"{where}[{number}] has no address")
        if type(tf_type) is not str or not tf_type:
            raise self.error(f"{where}[{number}] ({address}) has no type")
        return address, tf_type

    def _add(
        self, mode: Any, address: str, tf_type: str, module: str, index: Any, values: Any
    ) -> None:
        if mode == "data":
            self.data[address] = values if isinstance(values, dict) else {}
            return
        instance = Instance(address, tf_type, module, index, values)
        if module and module not in self.module_keys.get(_unkeyed(module), ()):
            for match in MODULE_STEP.finditer(module):  # each enclosing module instance
                prefix = module[: match.end()]
                self.module_keys.setdefault(_unkeyed(prefix), set()).add(prefix)
        self.instances[address] = instance
        base = instance.base
        same = self.by_base.get(base)
        if same is None:
            self.by_base[base] = [instance]
        else:
            same.append(instance)
        self.types[tf_type] += 1
        if instance.mapping is None and tf_type.startswith(("azurerm_", "azapi_")):
            self.skip(tf_type, address)

    def skip(self, kind: str, address: str) -> None:
        """Count a resource the scan does not read, and keep its address among the first."""
        self.skipped[kind] += 1
        addresses = self.skipped_at.setdefault(kind, [])
        if len(addresses) < SKIPPED_LISTED:
            addresses.append(address)

    def _read_configuration(self, configuration: Any) -> None:
        """Index the configuration's modules and resources; a malformed part is ignored."""
        if not isinstance(configuration, dict):
            return
        self._read_config_module(configuration.get("root_module"), ())
        in_module: dict[str, dict[str, dict[str, Any]]] = {}  # module address → its resources
        for instance in self.instances.values():
            module = instance.module
            resources = in_module.get(module)
            if resources is None:
                resources = self.config_resources.get(module_names(module), {})
                in_module[module] = resources
            local = instance.base[len(module) + 1 :] if module else instance.base
            found = resources.get(local)
            instance.config = {} if found is None else found

    def _read_config_module(self, module: Any, path: tuple[str, ...]) -> None:
        # (A method, not a function nested in _read_configuration: a nested function calling
        # itself is a reference cycle, which would keep the whole plan alive until the next
        # garbage collection rather than free it once read.)
        if not isinstance(module, dict):
            return
        self.config_modules[path] = module
        resources = self.config_resources.setdefault(path, {})
        for resource in module.get("resources") or []:
            if isinstance(resource, dict) and isinstance(resource.get("address"), str):
                resources[resource["address"]] = resource
        calls = module.get("module_calls")
        for name, call in calls.items() if isinstance(calls, dict) else ():
            if isinstance(call, dict):
                self._read_config_module(call.get("module"), (*path, name))

    def _provider_subscriptions(self, configuration: Any) -> dict[str, str]:
        providers = (
            configuration.get("provider_config") if isinstance(configuration, dict) else None
        )
        found: dict[str, str] = {}
        for key, provider in providers.items() if isinstance(providers, dict) else ():
            expressions = provider.get("expressions") if isinstance(provider, dict) else None
            literal = dig(expressions, "subscription_id", "constant_value")
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

    def subscription(self, instance: Instance) -> str:
        key = instance.config.get("provider_config_key")
        return self.provider_subscriptions.get(str(key)) or self.default_subscription


# --- plain data helpers -------------------------------------------------------------------------


def _overlay(after: Any, unknown: Any, owned: bool = False) -> Any:
    """``after`` with every leaf ``after_unknown`` flags replaced by ``UNKNOWN``.

    A flag of ``true`` (most of them: an attribute known only after apply) is written without a
    call of its own; a falsy flag keeps the value (an absent one becomes ``None``), a nested
    flag recurses. ``owned`` (a ``DecodedPlan``'s values): written into ``after``'s own objects
    and lists rather than into copies of them.
    """
    if unknown is True:
        return UNKNOWN
    if not unknown:
        return after
    if isinstance(unknown, dict):
        if type(after) is dict and owned:
            merged = after
        else:
            merged = dict(after) if isinstance(after, dict) else {}
        for key, flag in unknown.items():
            if flag is True:
                merged[key] = UNKNOWN
            elif not flag:
                if key not in merged:
                    merged[key] = None
            else:
                merged[key] = _overlay(merged.get(key), flag, owned)
        return merged
    if isinstance(unknown, list):
        if type(after) is list and owned:
            items = after
        else:
            items = list(after) if isinstance(after, list) else []
        if len(items) < len(unknown):
            items += [None] * (len(unknown) - len(items))
        for index, flag in enumerate(unknown):
            if flag:  # (a falsy flag keeps the item)
                items[index] = _overlay(items[index], flag, owned)
        return items
    return after


def read(values: Any, steps: tuple[str | int, ...]) -> Any:
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


def dig(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def base_address(address: str) -> str:
    """The address without its own instance key: ``a.b["k"]`` → ``a.b``."""
    return address[: address.rfind("[")] if address.endswith("]") else address


def _unkeyed(module: str) -> str:
    """``module.a[0].module.b["x"]`` → ``module.a[0].module.b``: the last instance key off."""
    return base_address(module)


def module_names(module: str) -> tuple[str, ...]:
    return tuple(name for name, _key in MODULE_STEP.findall(module))


def join_address(module: str, local: str) -> str:
    return f"{module}.{local}" if module else local


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")
