"""The ARM template expression language's evaluator (its parser is arm_parse.py).

A template string is an expression when it starts with ``[`` (but not ``[[``, which escapes a
literal bracket) and ends with ``]``. Whatever cannot be worked out offline (``reference()``, a
parameter without a default, an unknown function, a malformed expression) evaluates to
``UNKNOWN``, and so does any function given an ``UNKNOWN`` argument: never a crash, never a guess.

Names are the one exception. Evaluated *for naming* (resource names, ``scope``, and properties
that hold resource ids or a Key Vault URI), a parameter without a value becomes the placeholder
``{paramName}`` and an unresolved loop index ``{copyIndex}``, so a resource and the ids pointing
at it still agree.

``uniqueString`` and ``guid`` are deterministic but NOT Azure's algorithms (Azure's are
unpublished): they only name things, so a stable, different value is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tutela.scanner.estate import UNKNOWN
from tutela.scanner.sources.arm_functions import (
    MAX_LOOP,
    PURE_FUNCTIONS,
    has_unknown,
    partly_known,
    truth,
    union_unknown,
)
from tutela.scanner.sources.arm_parse import ExpressionError, Node, is_expression, literal, parse


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


@dataclass(slots=True)
class _Shared:
    """What all evaluators of one template share: definitions, supplied values, memos."""

    parameters: dict[str, Any]
    variables: dict[str, Any]
    supplied: dict[str, Any]
    deployment: Deployment
    supplied_names: dict[str, Any]  # the supplied values as evaluated for naming
    memo: dict[tuple[str, str, bool], Any] = field(default_factory=dict)
    busy: set[tuple[str, str, bool]] = field(default_factory=set)
    # Results of expressions that read no loop position: the same wherever they appear.
    results: dict[tuple[str, bool], Any] = field(default_factory=dict)


# Properties holding a resource id (or a vault's URI) under a name not ending in "Id": an ML
# workspace's associated resources, a customer-managed key's vault. Evaluated for naming too, so
# a workspace still names its storage account when the account's name is a parameter.
_ID_KEYS = frozenset(
    {
        "id",
        "scope",
        "storageAccount",
        "keyVault",
        "containerRegistry",
        "applicationInsights",
        "keyVaultUri",
    }
)


def _folded(section: Any) -> dict[str, Any]:
    return {str(k).lower(): (k, v) for k, v in section.items()} if isinstance(section, dict) else {}


class Evaluator:
    """Evaluates a template's expressions in one deployment, one loop position, one mode."""

    __slots__ = ("_naming_twin", "_shared", "loops", "naming")

    def __init__(
        self,
        template: Mapping[str, Any],
        deployment: Deployment,
        supplied: Mapping[str, Any] | None = None,
        supplied_names: Mapping[str, Any] | None = None,
    ) -> None:
        """``supplied``: parameter values (a parameters file, a parent deployment's); a parent
        passes ``supplied_names`` too, its values evaluated for naming."""
        self._shared = _Shared(
            _folded(template.get("parameters")),
            _folded(template.get("variables")),
            {k.lower(): v for k, v in (supplied or {}).items()},
            deployment,
            {k.lower(): v for k, v in (supplied_names or {}).items()},
        )
        self.loops: dict[str, int | None] = {}
        self.naming = False
        self._naming_twin: Evaluator | None = None

    @property
    def deployment(self) -> Deployment:
        return self._shared.deployment

    def _twin(self, loops: dict[str, int | None], naming: bool) -> Evaluator:
        twin = object.__new__(Evaluator)
        twin._shared, twin.loops, twin.naming = self._shared, loops, naming
        twin._naming_twin = None
        return twin

    def in_loop(self, name: str, index: int | None) -> Evaluator:
        """This evaluator inside iteration ``index`` (None: unknown) of loop ``name``."""
        return self._twin({**self.loops, "": index, name.lower(): index}, self.naming)

    def for_naming(self) -> Evaluator:
        if self.naming:
            return self
        if self._naming_twin is None:
            self._naming_twin = self._twin(self.loops, True)
        return self._naming_twin

    def resolve(self, value: Any) -> Any:
        """A template value with every expression in it evaluated (property copy loops expanded).

        Objects and arrays holding no expression are returned as they are, not copied: a large
        template is mostly literal values, and nothing changes a resolved value in place.
        """
        kind = type(value)
        if kind is str:
            if value[:1] != "[":
                return value
            return self.expression(value) if is_expression(value) else literal(value)
        if kind is dict:
            return self._resolve_object(value)
        if kind is list:
            items = [self.resolve(item) for item in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    def _resolve_object(self, value: dict[str, Any]) -> dict[str, Any]:
        if type(value.get("copy")) is list:  # property loops: a new object, members in order
            resolved = {}
            for key, item in value.items():
                if key == "copy":
                    resolved.update(self._property_loops(item))
                else:
                    resolved[key] = self._resolve_member(key, item)
            return resolved
        copied: dict[str, Any] | None = None  # made at the first member that changes
        for key, item in value.items():
            new = self._resolve_member(key, item)
            if new is not item:
                if copied is None:
                    copied = dict(value)
                copied[key] = new
        return value if copied is None else copied

    def _resolve_member(self, key: str, item: Any) -> Any:
        kind = type(item)
        if kind is str:
            if item[:1] != "[":
                return item  # most values: plain text
            if key in _ID_KEYS or key.endswith("Id"):
                return self.for_naming().resolve(item)  # an id: see the module doc
        elif kind is not dict and kind is not list:
            return item  # a number, a boolean or null
        return self.resolve(item)

    def _property_loops(self, loops: list[Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = {}
        for loop in loops:
            if not isinstance(loop, dict) or not isinstance(loop.get("name"), str):
                continue
            count = self.resolve(loop.get("count"))
            if not isinstance(count, int) or isinstance(count, bool):
                resolved[loop["name"]] = UNKNOWN
                continue
            inner = [self.in_loop(loop["name"], i) for i in range(max(0, min(count, MAX_LOOP)))]
            resolved[loop["name"]] = [e.resolve(loop.get("input")) for e in inner]
        return resolved

    def expression(self, text: str) -> Any:
        """The value of one expression string; results that read no loop position are shared."""
        key = (text, self.naming)
        results = self._shared.results
        if key in results:
            return results[key]
        try:
            value = self.evaluate(parse(text))
        except (ExpressionError, RecursionError):
            value = UNKNOWN
        if "copyindex" not in text.lower():
            results[key] = value
        return value

    def evaluate(self, node: Node) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "call":
            return self._call(node[1], node[2])
        target = self.evaluate(node[1])
        key = node[2] if kind == "prop" else self.evaluate(node[2])
        return _member(target, key)

    def _call(self, name: str, args: tuple[Node, ...]) -> Any:
        lazy = _LAZY.get(name)
        if lazy is not None:
            return lazy(self, args)
        values = [self.evaluate(arg) for arg in args]
        if any(partly_known(v) for v in values):
            # union merges what is known (reference() merged with changes); others can't
            return union_unknown(*values) if name == "union" else UNKNOWN
        method = _CONTEXT.get(name)
        if method is not None:
            return method(self, values)
        function = PURE_FUNCTIONS.get(name)
        if function is None:
            return UNKNOWN  # reference(), listKeys(), utcNow(), user functions: unknowable
        try:
            return function(*values)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, ZeroDivisionError):
            return UNKNOWN  # a function given arguments ARM itself would reject

    def _definition(self, section: str, values: list[Any]) -> Any:
        if len(values) != 1 or not isinstance(values[0], str):
            return UNKNOWN
        key = (section, values[0].lower(), self.naming)
        shared = self._shared
        if key in shared.memo:
            return shared.memo[key]
        if key in shared.busy:
            return UNKNOWN  # a definition that refers to itself
        shared.busy.add(key)
        try:
            value = self._parameter(key[1]) if section == "p" else self._variable(key[1])
        finally:
            shared.busy.discard(key)
        shared.memo[key] = value
        return value

    def _parameter(self, name: str) -> Any:
        shared, plain = self._shared, self._twin({}, False)
        declared_name, declaration = shared.parameters.get(name, (name, None))
        supplied = shared.supplied_names if self.naming else shared.supplied
        if name in supplied or name in shared.supplied:
            value = supplied.get(name, shared.supplied.get(name))
        elif isinstance(declaration, dict) and "defaultValue" in declaration:
            value = plain.resolve(declaration["defaultValue"])
        else:
            value = UNKNOWN
        if value is UNKNOWN and self.naming and declaration is not None:
            return f"{{{declared_name}}}"
        return value

    def _variable(self, name: str) -> Any:
        twin = self._twin({}, self.naming)
        if name in self._shared.variables:
            return twin.resolve(self._shared.variables[name][1])
        loops = self._shared.variables.get("copy", (None, None))[1]
        for loop in loops if isinstance(loops, list) else ():  # "copy": [{name, count, input}]
            if isinstance(loop, dict) and str(loop.get("name", "")).lower() == name:
                return twin._property_loops([loop]).get(loop["name"], UNKNOWN)
        return UNKNOWN


def _member(target: Any, key: Any) -> Any:
    if target is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if isinstance(target, dict) and isinstance(key, str):
        if key in target:
            return target[key]
        folded = key.lower()  # ARM object keys compare without case
        return next((v for k, v in target.items() if k.lower() == folded), UNKNOWN)
    if isinstance(target, list) and isinstance(key, int) and 0 <= key < len(target):
        return target[key]
    return UNKNOWN


# --- functions that need the evaluator ------------------------------------------------------


def _copy_index(ev: Evaluator, values: list[Any]) -> Any:
    loop = values[0].lower() if values and isinstance(values[0], str) else ""
    offset = values[-1] if values and isinstance(values[-1], int) else 0
    index = ev.loops.get(loop)
    if index is None:
        return "{copyIndex}" if ev.naming else UNKNOWN
    return index + offset


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


def _parameters(ev: Evaluator, values: list[Any]) -> Any:
    return ev._definition("p", values)


def _variables(ev: Evaluator, values: list[Any]) -> Any:
    return ev._definition("v", values)


_CONTEXT: dict[str, Callable[[Evaluator, list[Any]], Any]] = {
    "parameters": _parameters,
    "variables": _variables,
    "copyindex": _copy_index,
    "resourcegroup": _resource_group,
    "subscription": _subscription,
    "resourceid": _resource_id,
    "subscriptionresourceid": _subscription_resource_id,
    "tenantresourceid": _tenant_resource_id,
    "extensionresourceid": _extension_resource_id,
}


# --- functions that evaluate their arguments lazily (three-valued logic) ---------------------


def _if(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    if len(args) != 3:
        return UNKNOWN
    condition = truth(ev.evaluate(args[0]))
    if condition is not UNKNOWN:
        return ev.evaluate(args[1] if condition else args[2])
    yes, no = ev.evaluate(args[1]), ev.evaluate(args[2])
    return yes if not has_unknown(yes) and yes == no else UNKNOWN  # both branches agree


def _and_or(stop: bool) -> Callable[[Evaluator, tuple[Node, ...]], Any]:
    def combine(ev: Evaluator, args: tuple[Node, ...]) -> Any:
        result: Any = not stop
        for arg in args:
            value = truth(ev.evaluate(arg))
            if value is stop:
                return stop
            if value is UNKNOWN:
                result = UNKNOWN
        return result

    return combine


def _coalesce(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    for arg in args:
        value = ev.evaluate(arg)
        if value is not None:
            return value
    return None


def _create_array(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    return [ev.evaluate(arg) for arg in args]


def _create_object(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    values = [ev.evaluate(arg) for arg in args]
    keys = values[::2]
    if len(values) % 2 or any(not isinstance(k, str) for k in keys):
        return UNKNOWN
    return dict(zip(keys, values[1::2], strict=True))


_LAZY: dict[str, Callable[[Evaluator, tuple[Node, ...]], Any]] = {
    "if": _if,
    "and": _and_or(False),
    "or": _and_or(True),
    "coalesce": _coalesce,
    "createarray": _create_array,
    "createobject": _create_object,
}
