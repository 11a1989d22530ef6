"""ARM template functions that evaluate their arguments lazily.

``if``, ``and``, ``or`` and ``coalesce`` follow three-valued logic: an unknown argument matters
only if the result depends on it. ``createArray`` and ``createObject`` keep unknown items.

The lambda functions are ``filter``, ``groupBy``, ``map``, ``mapValues``, ``reduce``, ``sort``
and ``toObject``. A lambda is written ``lambda('x', body)`` and its body reads
``lambdaVariables('x')``. Each call evaluates the body once per element in an evaluator that
knows the lambda's variables; a body whose value is unknown for any element makes the whole
result unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any

from tutela.scanner.estate import UNKNOWN
from tutela.scanner.sources.arm_functions import has_unknown, partly_known, truth
from tutela.scanner.sources.arm_parse import Node

if TYPE_CHECKING:
    from tutela.scanner.sources.arm_expressions import Evaluator


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


# --- lambda functions -------------------------------------------------------------------------


class _Unknowable(Exception):
    """A lambda's body could not be worked out for some element."""


Body = Callable[..., Any]  # the lambda applied to its arguments' values


def _lambda(ev: Evaluator, node: Node, arity: tuple[int, ...]) -> Body:
    """The function a ``lambda('a', 'b', body)`` node stands for; _Unknowable if it is not one."""
    if node[0] != "call" or node[1] != "lambda" or len(node[2]) - 1 not in arity:
        raise _Unknowable
    *names, body = node[2]
    if any(name[0] != "lit" or not isinstance(name[1], str) for name in names):
        raise _Unknowable

    def apply(*values: Any) -> Any:
        inner = ev.with_lambda_variables(dict(zip((n[1] for n in names), values, strict=False)))
        value = inner.evaluate(body)
        if has_unknown(value):
            raise _Unknowable
        return value

    return apply


def _array(ev: Evaluator, node: Node) -> list[Any]:
    value = ev.evaluate(node)
    if partly_known(value) or not isinstance(value, list):
        raise _Unknowable
    return value


def _filter(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    items, keep = _array(ev, args[0]), _lambda(ev, args[1], (1, 2))
    kept = []
    for index, item in enumerate(items):
        verdict = truth(keep(item, index))
        if verdict is UNKNOWN:
            raise _Unknowable
        if verdict:
            kept.append(item)
    return kept


def _map(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    items, change = _array(ev, args[0]), _lambda(ev, args[1], (1, 2))
    return [change(item, index) for index, item in enumerate(items)]


def _reduce(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    items, total = _array(ev, args[0]), ev.evaluate(args[1])
    combine = _lambda(ev, args[2], (2, 3))
    if has_unknown(total):
        raise _Unknowable
    for index, item in enumerate(items):
        total = combine(total, item, index)
    return total


def _sort(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    items, before = _array(ev, args[0]), _lambda(ev, args[1], (2,))

    def compare(a: Any, b: Any) -> int:
        first, second = truth(before(a, b)), truth(before(b, a))
        if first is UNKNOWN or second is UNKNOWN:
            raise _Unknowable
        return -1 if first else 1 if second else 0

    return sorted(items, key=cmp_to_key(compare))


def _to_object(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    items, key = _array(ev, args[0]), _lambda(ev, args[1], (1,))
    value: Body = _lambda(ev, args[2], (1,)) if len(args) > 2 else _itself
    result: dict[str, Any] = {}
    for item in items:
        name = key(item)
        if not isinstance(name, str):
            raise _Unknowable
        result[name] = value(item)
    return result


def _map_values(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    source, change = ev.evaluate(args[0]), _lambda(ev, args[1], (1,))
    if partly_known(source) or not isinstance(source, dict):
        raise _Unknowable
    return {key: change(value) for key, value in source.items()}


def _group_by(ev: Evaluator, args: tuple[Node, ...]) -> Any:
    items, key = _array(ev, args[0]), _lambda(ev, args[1], (1,))
    groups: dict[str, list[Any]] = {}
    for item in items:
        name = key(item)
        if not isinstance(name, str):
            raise _Unknowable
        groups.setdefault(name, []).append(item)
    return groups


def _itself(item: Any) -> Any:
    return item


def _guarded(function: Callable[[Evaluator, tuple[Node, ...]], Any]) -> Any:
    def call(ev: Evaluator, args: tuple[Node, ...]) -> Any:
        try:
            return function(ev, args)
        except (_Unknowable, IndexError, TypeError, ValueError):
            return UNKNOWN

    return call


LAZY_FUNCTIONS: dict[str, Callable[[Evaluator, tuple[Node, ...]], Any]] = {
    "if": _if,
    "and": _and_or(False),
    "or": _and_or(True),
    "coalesce": _coalesce,
    "createarray": _create_array,
    "createobject": _create_object,
    "filter": _guarded(_filter),
    "map": _guarded(_map),
    "mapvalues": _guarded(_map_values),
    "groupby": _guarded(_group_by),
    "reduce": _guarded(_reduce),
    "sort": _guarded(_sort),
    "toobject": _guarded(_to_object),
}
