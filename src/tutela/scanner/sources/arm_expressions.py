"""The ARM template expression language's evaluator (its parser is arm_parse.py).

A template string is an expression when it starts with ``[`` (but not ``[[``, which escapes a
literal bracket) and ends with ``]``. Whatever cannot be worked out offline (``reference()``, a
parameter without a default, an unknown function, a malformed expression) evaluates to
``UNKNOWN``, and so does any function given an ``UNKNOWN`` argument: never a crash, never a guess.

Names are the one exception. Evaluated *for naming* (resource names, ``scope``, and properties
that hold resource ids or a Key Vault URI), a parameter without a value becomes the placeholder
``{paramName}`` and an unresolved loop index ``{copyIndex}``, so a resource and the ids pointing
at it still agree.

``uniqueString`` and ``guid`` are only known for naming: there they give stable stand-ins, NOT
Azure's values (arm_functions.py); anywhere else they are ``UNKNOWN``. A languageVersion 2.0
parameter declared ``"nullable": true`` without a default is null, as is a ``null`` default,
so the service's own default applies. User-defined functions (the template's ``functions``)
are evaluated with only their own parameters in scope, as ARM does. A languageVersion 2.0
resource's symbolic name answers ``resourceInfo()`` and ``reference()`` (arm_symbols.py), and
``utcNow()`` in a parameter's default answers the read's fixed clock (arm_dates.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tutela.scanner.estate import UNKNOWN
from tutela.scanner.sources.arm_dates import read_clock, utc_now
from tutela.scanner.sources.arm_functions import (
    MAX_LOOP,
    PURE_FUNCTIONS,
    guid_for_naming,
    partly_known,
    union_unknown,
    unique_string_for_naming,
)
from tutela.scanner.sources.arm_lazy import LAZY_FUNCTIONS
from tutela.scanner.sources.arm_parse import ExpressionError, Node, is_expression, literal, parse
from tutela.scanner.sources.arm_scope import SCOPE_FUNCTIONS, Deployment, resource_id
from tutela.scanner.sources.arm_symbols import SYMBOL_FUNCTIONS, Symbols

__all__ = ["Deployment", "Evaluator", "resource_id"]


@dataclass(slots=True)
class _Shared:
    """What all evaluators of one template share: definitions, supplied values, memos."""

    parameters: dict[str, Any]
    variables: dict[str, Any]
    supplied: dict[str, Any]
    deployment: Deployment
    supplied_names: dict[str, Any]  # the supplied values as evaluated for naming
    functions: dict[str, Any]  # user-defined functions by "namespace.name", lower-cased
    symbols: Symbols = field(default_factory=lambda: Symbols(None))  # languageVersion 2.0
    now: datetime = field(default_factory=lambda: read_clock(None))  # the read's fixed clock
    in_default: int = 0  # parameter defaults being evaluated (where utcNow is allowed)
    undeclared: set[str] = field(default_factory=set)  # parameters read but never declared
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


def _user_functions(section: Any) -> dict[str, Any]:
    """``[{"namespace": ns, "members": {name: definition}}]`` by ``ns.name``, lower-cased."""
    found: dict[str, Any] = {}
    for space in section if isinstance(section, list) else ():
        members = space.get("members") if isinstance(space, dict) else None
        if isinstance(members, dict) and isinstance(space.get("namespace"), str):
            for name, definition in members.items():
                found[f"{space['namespace']}.{name}".lower()] = definition
    return found


class Evaluator:
    """Evaluates a template's expressions in one deployment, one loop position, one mode."""

    __slots__ = ("_naming_twin", "_shared", "lambdas", "loops", "naming")

    def __init__(
        self,
        template: Mapping[str, Any],
        deployment: Deployment,
        supplied: Mapping[str, Any] | None = None,
        supplied_names: Mapping[str, Any] | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        """``supplied``: parameter values (a parameters file, a parent deployment's); a parent
        passes ``supplied_names`` too, its values evaluated for naming. ``now``: the read's
        fixed clock (``arm_dates.read_clock``)."""
        self._shared = _Shared(
            _folded(template.get("parameters")),
            _folded(template.get("variables")),
            {k.lower(): v for k, v in (supplied or {}).items()},
            deployment,
            {k.lower(): v for k, v in (supplied_names or {}).items()},
            _user_functions(template.get("functions")),
            Symbols(template.get("resources")),
            read_clock(now),
        )
        self.loops: dict[str, int | None] = {}
        self.lambdas: dict[str, Any] = {}
        self.naming = False
        self._naming_twin: Evaluator | None = None

    @property
    def deployment(self) -> Deployment:
        return self._shared.deployment

    @property
    def now(self) -> datetime:
        """The read's fixed "now", what ``utcNow()`` answers."""
        return self._shared.now

    @property
    def in_parameter_default(self) -> bool:
        return self._shared.in_default > 0

    @property
    def symbols(self) -> Symbols:
        """The template's resources by symbolic name (none before languageVersion 2.0)."""
        return self._shared.symbols

    def _twin(
        self, loops: dict[str, int | None], naming: bool, lambdas: dict[str, Any] | None = None
    ) -> Evaluator:
        twin = object.__new__(Evaluator)
        twin._shared, twin.loops, twin.naming = self._shared, loops, naming
        twin.lambdas = lambdas or {}
        twin._naming_twin = None
        return twin

    @property
    def undeclared_parameters(self) -> list[str]:
        """The parameters the template's expressions read so far without declaring them."""
        return sorted(self._shared.undeclared)

    def in_loop(self, name: str, index: int | None) -> Evaluator:
        """This evaluator inside iteration ``index`` (None: unknown) of loop ``name``."""
        loops = {**self.loops, "": index, name.lower(): index}
        return self._twin(loops, self.naming, self.lambdas)

    def outside_loops(self) -> Evaluator:
        """This evaluator at no loop position, as a declaration elsewhere is evaluated."""
        return self._twin({}, self.naming) if self.loops or self.lambdas else self

    def with_lambda_variables(self, values: dict[str, Any]) -> Evaluator:
        """This evaluator inside a lambda's body, its variables bound to ``values``."""
        folded = {k.lower(): v for k, v in values.items()}
        return self._twin(self.loops, self.naming, {**self.lambdas, **folded})

    def for_naming(self) -> Evaluator:
        if self.naming:
            return self
        if self._naming_twin is None:
            self._naming_twin = self._twin(self.loops, True, self.lambdas)
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
        if any(type(key) is str and key[:1] == "[" for key in value):
            return self._resolve_keys(value if copied is None else copied)
        return value if copied is None else copied

    def _resolve_keys(self, value: dict[str, Any]) -> dict[str, Any]:
        """Member names that are expressions, evaluated as ids are (``userAssignedIdentities``
        is keyed by ``[resourceId(...)]``); one that cannot be worked out keeps its text."""
        resolved: dict[str, Any] = {}
        for key, item in value.items():
            name = key
            if key[:1] == "[":
                name = self.for_naming().resolve(key)
                name = name if isinstance(name, str) else key
            resolved[name] = item
        return resolved

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
        lowered = text.lower()
        if "copyindex" not in lowered and "utcnow" not in lowered:  # utcNow: defaults only
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
        lazy = LAZY_FUNCTIONS.get(name)
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
            if name in self._shared.functions:
                return self._user_function(self._shared.functions[name], values)
            return UNKNOWN  # reference(), listKeys(), utcNow(), newGuid(): unknowable
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
            read = self._parameter if section == "p" else self._variable
            value = read(key[1], values[0])
        finally:
            shared.busy.discard(key)
        shared.memo[key] = value
        return value

    def _user_function(self, definition: Any, values: list[Any]) -> Any:
        declared = definition.get("parameters") if isinstance(definition, dict) else None
        output = definition.get("output") if isinstance(definition, dict) else None
        if not isinstance(declared, list) or not isinstance(output, dict):
            return UNKNOWN
        names = [
            p["name"] for p in declared if isinstance(p, dict) and isinstance(p.get("name"), str)
        ]
        if not len(names) == len(declared) == len(values):
            return UNKNOWN
        arguments: dict[str, Any] = dict(zip(names, values, strict=True))
        template = {"parameters": {n: {"type": "any"} for n in names}}
        inner = Evaluator(template, self.deployment, arguments, arguments, now=self.now)
        inner._shared.functions = self._shared.functions  # they may call one another
        return (inner.for_naming() if self.naming else inner).resolve(output.get("value"))

    def _parameter(self, name: str, spelled: str) -> Any:
        shared, plain = self._shared, self._twin({}, self.naming)
        declared_name, declaration = shared.parameters.get(name, (spelled, None))
        supplied = shared.supplied_names if self.naming else shared.supplied
        if name in supplied or name in shared.supplied:
            value = supplied.get(name, shared.supplied.get(name))
        elif isinstance(declaration, dict) and "defaultValue" in declaration:
            shared.in_default += 1
            try:
                value = plain.resolve(declaration["defaultValue"])
            finally:
                shared.in_default -= 1
        elif isinstance(declaration, dict) and declaration.get("nullable") is True:
            value = None  # languageVersion 2.0: a nullable parameter left out is null
        else:
            if declaration is None:  # ARM refuses the deployment; the reader says so
                shared.undeclared.add(declared_name)
            value = UNKNOWN
        if value is UNKNOWN and self.naming and declaration is not None:
            return f"{{{declared_name}}}"
        return value

    def _variable(self, name: str, spelled: str = "") -> Any:
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


def _lambda_variables(ev: Evaluator, values: list[Any]) -> Any:
    if len(values) != 1 or not isinstance(values[0], str):
        return UNKNOWN
    return ev.lambdas.get(values[0].lower(), UNKNOWN)


def _naming_only(function: Callable[..., str]) -> Callable[[Evaluator, list[Any]], Any]:
    """A function known only for naming: see the module doc."""

    def call(ev: Evaluator, values: list[Any]) -> Any:
        if not ev.naming or not values or any(not isinstance(v, str) for v in values):
            return UNKNOWN
        return function(*values)

    return call


def _parameters(ev: Evaluator, values: list[Any]) -> Any:
    return ev._definition("p", values)


def _variables(ev: Evaluator, values: list[Any]) -> Any:
    return ev._definition("v", values)


_CONTEXT: dict[str, Callable[[Evaluator, list[Any]], Any]] = {
    "parameters": _parameters,
    "variables": _variables,
    "copyindex": _copy_index,
    **SCOPE_FUNCTIONS,
    **SYMBOL_FUNCTIONS,
    "lambdavariables": _lambda_variables,
    "utcnow": utc_now,
    "uniquestring": _naming_only(unique_string_for_naming),
    "guid": _naming_only(guid_for_naming),
}
