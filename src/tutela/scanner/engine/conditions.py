"""The catalogue's condition language, compiled once into fast closures.

A condition reads like an Azure Policy rule::

    {field: properties.publicNetworkAccess, equals: Disabled, default: Enabled}
    {allOf: [...]} | {anyOf: [...]} | {not: {...}}
    {count: {field: properties.privateEndpointConnections, where: {...}}, greaterOrEquals: 1}

Fields are dot paths from the resource: ``id name type kind location sku tags identity
properties`` and the related facts ``diagnosticSettings roleAssignments securityPricings
policyAssignments``; ``parent.…`` and ``subscription.…`` read the parent resource and the
subscription. Property and tag names are matched without case, as ARM matches them
(``DisableLocalAuth`` in a template is ``disableLocalAuth``): the name as the catalogue spells it
is looked up first, and the others only when it is not there. Strings compare without case;
``"true"`` and ``true`` are the same boolean.

Logic is three-valued: a condition is True, False or None (unknown). An absent property takes the
leaf's ``default`` (the service's default, often the insecure one), or the one its
``default_since`` gives for the resource's API version (``api_defaults``); with no default an absent
property is unknown, as is an ``UNKNOWN`` value from a source or a related fact the source could
not see. ``exists`` decides on absence itself, and ``count`` counts an absent list as empty.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tutela.scanner.engine.api_defaults import VersionedDefault
from tutela.scanner.estate import UNKNOWN, Estate, Resource, UnknownObject

Tri = bool | None


class ConditionError(ValueError):
    """A condition in the catalogue is malformed."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<absent>"


MISSING = _Missing()

# Each root reads a field of the resource given (a compiled condition's ``obj``) in one call.
_ROOTS: dict[str, Callable[[Context, Resource], Any]] = {
    "id": lambda _ctx, r: r.id,
    "name": lambda _ctx, r: r.name,
    "type": lambda _ctx, r: r.type,
    "kind": lambda _ctx, r: MISSING if r.kind is None else r.kind,
    "location": lambda _ctx, r: MISSING if r.location is None else r.location,
    "sku": lambda _ctx, r: MISSING if r.sku is None else r.sku,
    "tags": lambda _ctx, r: r.tags,
    "identity": lambda _ctx, r: MISSING if r.identity is None else r.identity,
    "properties": lambda _ctx, r: r.properties,
    "diagnosticSettings": lambda _ctx, r: (
        UNKNOWN if r.diagnostic_settings is None else r.diagnostic_settings
    ),
    "roleAssignments": lambda _ctx, r: (
        UNKNOWN if r.role_assignments is None else r.role_assignments
    ),
    "securityPricings": lambda _ctx, r: (
        UNKNOWN if r.security_pricings is None else r.security_pricings
    ),
    "policyAssignments": lambda _ctx, r: (
        UNKNOWN if r.policy_assignments is None else r.policy_assignments
    ),
}


@dataclass(slots=True)
class Context:
    """What a condition reads: the resource, the estate around it, and the evidence it saw."""

    resource: Resource
    estate: Estate
    evidence: list[tuple[str, Any]] = field(default_factory=list)


Compiled = Callable[[Context, Any], Tri]
"""A compiled condition: (context, the object fields are read from) → True / False / None."""


def _without_case(obj: dict[str, Any], key: str) -> Any:
    """``obj``'s value under ``key`` spelt in any case; ``MISSING`` when no key matches.

    Called only when ``key`` is not there as spelt, so a miss costs a scan of the keys.
    """
    folded = key.casefold()
    for name, value in obj.items():
        if type(name) is str and name.casefold() == folded:
            return value
    return MISSING


def property_value(obj: dict[str, Any], key: str, default: Any = None) -> Any:
    """``obj.get(key, default)`` with ``key`` matched without case, as ARM matches property names.

    An ``UnknownObject`` without the key gives ``UNKNOWN``, as its ``get`` does.
    """
    value = dict.get(obj, key, MISSING)
    if value is MISSING:
        value = _without_case(obj, key)
        if value is MISSING:
            return obj.get(key, default)
    return value


def lookup(obj: Any, steps: tuple[str, ...]) -> Any:
    """Follow dict keys; ``MISSING`` when a step is absent, ``UNKNOWN`` when a value is unknown.

    Keys match without case, the key as spelt first. An ``UnknownObject`` (a template's
    ``union(<unknown>, {known})``) gives its known keys and ``UNKNOWN`` for every other.
    """
    for step in steps:
        if obj is UNKNOWN:
            return UNKNOWN
        kind = type(obj)
        if kind is not dict and kind is not UnknownObject:
            return MISSING
        value = dict.get(obj, step, MISSING)
        if value is MISSING:
            value = _without_case(obj, step)
            if value is MISSING:
                if kind is dict:
                    return MISSING
                value = UNKNOWN
        obj = value
    return obj


def _key(obj: dict[str, Any], key: str) -> Any:
    """One step from a dict: the key as spelt, else without case, else ``MISSING``."""
    value = obj.get(key, MISSING)
    if value is MISSING and obj:
        return _without_case(obj, key)
    return value


def _step(obj: Any, key: str) -> Any:
    """One step from something that is not a dict: an ``UnknownObject``'s key, else unknown or
    missing."""
    if type(obj) is UnknownObject:
        return property_value(obj, key)
    return UNKNOWN if obj is UNKNOWN else MISSING


def _path_reader(steps: tuple[str, ...]) -> Callable[[Any], Any]:
    """``lookup`` specialised for one or two steps: the hot path of every check."""
    if len(steps) == 1:
        (key,) = steps

        def one(obj: Any) -> Any:
            if type(obj) is dict:
                return _key(obj, key)
            return _step(obj, key)

        return one
    if len(steps) == 2:
        first, second = steps

        def two(obj: Any) -> Any:
            obj = _key(obj, first) if type(obj) is dict else _step(obj, first)
            if type(obj) is dict:
                return _key(obj, second)
            return _step(obj, second)

        return two
    return lambda obj: lookup(obj, steps)


def _properties_reader(steps: tuple[str, ...]) -> Callable[[Context, Any], Any]:
    """``properties.…`` read in one call: most fields of most checks are one or two steps there.

    The same as ``_path_reader(steps)`` applied to the resource's properties, without the call
    in between.
    """
    if len(steps) == 1:
        (key,) = steps

        def one(_ctx: Context, obj: Any) -> Any:
            props = obj.properties
            if type(props) is dict:
                return _key(props, key)
            return _step(props, key)

        return one
    if len(steps) == 2:
        first, second = steps

        def two(_ctx: Context, obj: Any) -> Any:
            props = obj.properties
            value = _key(props, first) if type(props) is dict else _step(props, first)
            if type(value) is dict:
                return _key(value, second)
            return _step(value, second)

        return two
    read = _path_reader(steps)
    return lambda _ctx, obj: read(obj.properties)


def _resolver(path: str) -> Callable[[Context, Any], Any]:
    """A function reading ``path`` from the resource (or from the element, inside ``where``)."""
    parts = tuple(path.split("."))
    if parts[0] in ("parent", "subscription"):
        inner = _resolver(".".join(parts[1:]))
        relation = parts[0]

        def related(ctx: Context, _obj: Any) -> Any:
            resource = ctx.resource
            other = (
                ctx.estate.parent(resource)
                if relation == "parent"
                else ctx.estate.subscription(resource)
            )
            if other is None:
                return UNKNOWN
            return inner(Context(other, ctx.estate, ctx.evidence), other)

        return related
    if parts[0] == "@":  # the element itself, inside a count's where
        rest = parts[1:]
        return lambda _ctx, obj: lookup(obj, rest)
    root = _ROOTS.get(parts[0])
    rest = parts[1:]
    if root is None:
        raise ConditionError(f"unknown field root {parts[0]!r} in {path!r}")
    if parts[0] == "properties" and rest:
        return _properties_reader(rest)
    if not rest:
        return root
    read = _path_reader(rest)
    return lambda ctx, obj: read(root(ctx, obj))


def _element_resolver(path: str) -> Callable[[Context, Any], Any]:
    """Read from a ``count``'s current element; ``@`` is the element itself."""
    steps = tuple(path.split("."))
    if steps[0] == "@":
        steps = steps[1:]
    if not steps:
        return lambda _ctx, obj: obj
    read = _path_reader(steps)
    return lambda _ctx, obj: read(obj)


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.casefold()
        if lowered in ("true", "false"):
            return lowered == "true"
        return lowered
    if isinstance(value, list):
        return [_fold(v) for v in value]
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _equals(expected: Any) -> Callable[[Any], Tri]:
    want = _fold(expected)
    if isinstance(want, str):
        # The common case: an enum string; compare folded strings without the general path.
        return lambda value: (
            value.casefold() == want if type(value) is str else _fold(value) == want
        )
    if isinstance(want, bool):
        # The next most common: a switch. A boolean folds to itself, and bools are singletons.
        return lambda value: value is want if type(value) is bool else _fold(value) == want
    return lambda value: _fold(value) == want


def _in(expected: Any) -> Callable[[Any], Tri]:
    if not isinstance(expected, list):
        raise ConditionError(f"'in' needs a list, got {expected!r}")
    wanted = [_fold(v) for v in expected]
    return lambda value: _fold(value) in wanted


def _compare(op: str, expected: Any) -> Callable[[Any], Tri]:
    bound = _number(expected)
    if bound is None:
        raise ConditionError(f"{op!r} needs a number, got {expected!r}")

    def compare(value: Any) -> Tri:
        number = _number(value)
        if number is None:
            return False
        if op == "greater":
            return number > bound
        if op == "greaterOrEquals":
            return number >= bound
        if op == "less":
            return number < bound
        return number <= bound

    return compare


def _contains(expected: Any) -> Callable[[Any], Tri]:
    want = _fold(expected)

    def contains(value: Any) -> Tri:
        folded = _fold(value)
        if isinstance(folded, list | str) and isinstance(want, str):
            return want in folded
        if isinstance(folded, list):
            return want in folded
        return False

    return contains


def _like(expected: Any) -> Callable[[Any], Tri]:
    # fnmatch.fnmatchcase(value, pattern), its pattern compiled here rather than at each call.
    pattern = str(expected).casefold()
    literal = pattern.strip("*")
    if not any(c in literal for c in "*?["):
        # Most patterns are a literal with a leading or a trailing ``*`` (a role definition's
        # GUID, a prefix) or both, which a string method decides several times faster than a regex.
        if pattern == "*" + literal:
            return lambda value: isinstance(value, str) and value.casefold().endswith(literal)
        if pattern == literal + "*":
            return lambda value: isinstance(value, str) and value.casefold().startswith(literal)
        if pattern == "*" + literal + "*":
            return lambda value: isinstance(value, str) and literal in value.casefold()
        if pattern == literal:
            return lambda value: isinstance(value, str) and value.casefold() == literal
    match = re.compile(fnmatch.translate(pattern)).match
    return lambda value: isinstance(value, str) and match(value.casefold()) is not None


_OPERATORS: dict[str, Callable[[Any], Callable[[Any], Tri]]] = {
    "equals": _equals,
    "in": _in,
    "contains": _contains,
    "like": _like,
    "greater": lambda e: _compare("greater", e),
    "greaterOrEquals": lambda e: _compare("greaterOrEquals", e),
    "less": lambda e: _compare("less", e),
    "lessOrEquals": lambda e: _compare("lessOrEquals", e),
}
_NEGATED = {"notEquals": "equals", "notIn": "in", "notContains": "contains", "notLike": "like"}
_COUNT_OPS = ("equals", "greater", "greaterOrEquals", "less", "lessOrEquals")


def _show(value: Any) -> Any:
    return "<absent>" if value is MISSING else "<unknown>" if value is UNKNOWN else value


def _leaf(spec: dict[str, Any], relative: bool) -> Compiled:
    path = spec["field"]
    read = _element_resolver(path) if relative else _resolver(path)
    shown = path if not relative else f"[*].{path}"
    has_default = "default" in spec
    default = spec.get("default")
    operators = [k for k in spec if k not in ("field", "default", "default_since")]
    if len(operators) != 1:
        raise ConditionError(f"a field condition needs exactly one operator: {spec!r}")
    op = operators[0]
    if op == "exists":
        want = bool(_fold(spec[op]))

        def exists(ctx: Context, obj: Any) -> Tri:
            value = read(ctx, obj)
            ctx.evidence.append((shown, _show(value)))
            if value is UNKNOWN:
                return None
            present = value is not MISSING and value is not None and value != ""
            return present == want

        return exists
    negate = op in _NEGATED
    base = _NEGATED.get(op, op)
    if base not in _OPERATORS:
        raise ConditionError(f"unknown operator {op!r} in {spec!r}")
    test = _OPERATORS[base](spec[op])

    absent_note = (shown, f"<absent; service default {default!r}>" if has_default else "<absent>")

    unknown_note = (shown, "<unknown>")
    if negate:
        positive = test
        test = lambda value: not positive(value)  # noqa: E731 -- the negated operator
    # An absent value is decided the same way each time: by the default, or unknown without one.
    when_absent = test(default) if has_default else None
    if "default_since" in spec:
        if path.startswith(("parent.", "subscription.")):
            raise ConditionError(
                f"default_since reads the checked resource's API version: {spec!r}"
            )
        return _versioned_leaf(spec, read, shown, test, absent_note, when_absent)

    # The hot path of every check: one read, one evidence entry, one comparison.
    def leaf(ctx: Context, obj: Any) -> Tri:
        value = read(ctx, obj)
        if value is UNKNOWN:
            ctx.evidence.append(unknown_note)
            return None
        if value is MISSING or value is None:
            ctx.evidence.append(absent_note)
            return when_absent
        ctx.evidence.append((shown, value))
        return test(value)

    return leaf


def _versioned_leaf(
    spec: dict[str, Any],
    read: Callable[[Context, Any], Any],
    shown: str,
    test: Callable[[Any], Tri],
    absent_note: tuple[str, str],
    when_absent: Tri,
) -> Compiled:
    """A leaf whose default depends on the resource's API version (``api_defaults``)."""
    try:
        versioned = VersionedDefault.parse(spec["default_since"])
    except ValueError as error:
        raise ConditionError(f"{error}: {spec!r}") from None
    verdicts = {since: test(value) for since, value in versioned.since}
    if "default" not in spec:
        absent_note = (shown, "<absent; service default depends on the API version>")

    def leaf(ctx: Context, obj: Any) -> Tri:
        value = read(ctx, obj)
        if value is UNKNOWN:
            ctx.evidence.append((shown, "<unknown>"))
            return None
        if value is MISSING or value is None:
            api_version = ctx.resource.api_version
            entry = versioned.at(api_version)
            if entry is None:
                ctx.evidence.append(absent_note)
                return when_absent
            note = f"<absent; service default {entry[1]!r} (API version {api_version})>"
            ctx.evidence.append((shown, note))
            return verdicts[entry[0]]
        ctx.evidence.append((shown, value))
        return test(value)

    return leaf


def _all(parts: list[Compiled]) -> Compiled:
    def all_of(ctx: Context, obj: Any) -> Tri:
        unknown = False
        for part in parts:
            result = part(ctx, obj)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True

    return all_of


def _any(parts: list[Compiled]) -> Compiled:
    def any_of(ctx: Context, obj: Any) -> Tri:
        unknown = False
        for part in parts:
            result = part(ctx, obj)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False

    return any_of


def _not(inner: Compiled) -> Compiled:
    def negation(ctx: Context, obj: Any) -> Tri:
        result = inner(ctx, obj)
        return None if result is None else not result

    return negation


def _count(spec: dict[str, Any], relative: bool) -> Compiled:
    body = spec["count"]
    if not isinstance(body, dict) or "field" not in body:
        raise ConditionError(f"count needs a field: {spec!r}")
    path = body["field"]
    read = _element_resolver(path) if relative else _resolver(path)
    where = compile_condition(body["where"], relative=True) if "where" in body else None
    ops = [k for k in spec if k != "count"]
    if len(ops) != 1 or ops[0] not in _COUNT_OPS:
        raise ConditionError(f"count needs one of {_COUNT_OPS}: {spec!r}")
    op = ops[0]
    test = _compare(op, spec[op]) if op != "equals" else _equals(spec[op])

    def count(ctx: Context, obj: Any) -> Tri:
        items = read(ctx, obj)
        if items is UNKNOWN:
            ctx.evidence.append((path, "<unknown>"))
            return None
        if items is MISSING or items is None:
            items = []
        if isinstance(items, dict):
            items = list(items.values())
        if not isinstance(items, list):
            ctx.evidence.append((path, items))
            return False
        matched = undecided = 0
        if where is None:
            matched = len(items)
        else:
            scratch = Context(ctx.resource, ctx.estate, [])
            for item in items:
                result = where(scratch, item)
                if result is True:
                    matched += 1
                elif result is None:
                    undecided += 1
        ctx.evidence.append((f"count({path})", matched))
        at_least, at_most = test(matched), test(matched + undecided)
        return at_least if at_least == at_most else None

    return count


def compile_condition(spec: Any, *, relative: bool = False) -> Compiled:
    """Compile a condition; ``relative`` fields are read from a ``count``'s current element."""
    if not isinstance(spec, dict):
        raise ConditionError(f"a condition is a mapping, got {spec!r}")
    if "allOf" in spec:
        return _all([compile_condition(s, relative=relative) for s in spec["allOf"]])
    if "anyOf" in spec:
        return _any([compile_condition(s, relative=relative) for s in spec["anyOf"]])
    if "not" in spec:
        return _not(compile_condition(spec["not"], relative=relative))
    if "count" in spec:
        return _count(spec, relative)
    if "field" in spec:
        return _leaf(spec, relative)
    raise ConditionError(f"unknown condition {spec!r}")
