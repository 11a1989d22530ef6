"""ARM template functions without context: any ``UNKNOWN`` argument makes the result unknown.

The string, conversion and encoding functions live in arm_strings.py and the CIDR functions in
arm_cidr.py; this module registers them with the rest in ``PURE_FUNCTIONS``.

``unique_string_for_naming`` and ``guid_for_naming`` are deterministic but NOT Azure's
algorithms (not reproduced here): the evaluator uses them only to name things, where a stable,
different value is harmless, and they are unknown everywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from tutela.scanner.estate import UNKNOWN, UnknownObject
from tutela.scanner.sources.arm_cidr import CIDR_FUNCTIONS
from tutela.scanner.sources.arm_dates import DATE_FUNCTIONS
from tutela.scanner.sources.arm_strings import STRING_FUNCTIONS, text

MAX_LOOP = 800  # ARM's limit on a copy loop's count


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN or isinstance(value, UnknownObject):
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def truth(value: Any) -> Any:
    if value is UNKNOWN or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return UNKNOWN


def _concat(*values: Any) -> Any:
    if values and all(isinstance(v, list) for v in values):
        return [item for v in values for item in v]
    return "".join(text(v) for v in values)


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d+)(?::([^}]*))?\}")


def _format(template: str, *values: Any) -> Any:
    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        value, spec = values[int(match.group(1))], match.group(2)
        if not spec:
            return text(value)
        if spec[0] in "Dd" and isinstance(value, int):
            return str(value).zfill(int(spec[1:] or 0))
        raise ValueError("unsupported format specifier")

    return _PLACEHOLDER.sub(substitute, template)


def _equals(left: Any, right: Any) -> Any:
    return UNKNOWN if has_unknown(left) or has_unknown(right) else left == right


def _not(value: Any) -> Any:
    value = truth(value)
    return UNKNOWN if value is UNKNOWN else not value


def _contains(container: Any, item: Any) -> Any:
    """Case-sensitive in a string, case-insensitive among an object's keys (the reference)."""
    if isinstance(container, str):
        return text(item) in container
    if isinstance(container, dict) and isinstance(item, str):
        return item.lower() in (k.lower() for k in container)
    if not isinstance(container, list):
        raise TypeError("contains needs an array, an object or a string")
    if has_unknown(item):
        return UNKNOWN
    if any(v == item for v in container if not has_unknown(v)):
        return True
    return UNKNOWN if has_unknown(container) else False


def partly_known(value: Any) -> bool:
    """An object some of whose keys are unknown (``UnknownObject``), or an unknown value."""
    return value is UNKNOWN or isinstance(value, UnknownObject)


def union_unknown(*values: Any) -> Any:
    """``union`` of objects some of which are (partly) unknown, such as the current state of a
    resource (``reference()``) merged with known changes: an ``UnknownObject`` whose keys from
    the known objects are known, every other key unknown. An unknown after a known object may
    replace any of its keys, so what came before it is unknown again. Arrays or anything else
    unknown give ``UNKNOWN``."""
    if not any(isinstance(v, dict) for v in values):
        return UNKNOWN
    if not all(isinstance(v, dict) or v is UNKNOWN for v in values):
        return UNKNOWN
    result: UnknownObject = UnknownObject()
    for value in values:
        if partly_known(value):
            result = UnknownObject()  # its unknown keys may replace any key before it
        if value is not UNKNOWN:
            result = _merge_into_unknown(result, value)
    return result


def _merge_into_unknown(base: UnknownObject, value: dict[str, Any]) -> UnknownObject:
    merged = UnknownObject(base)
    for key, item in value.items():
        old = merged.get(key)  # UNKNOWN for a key the base does not know
        if isinstance(item, dict) and (isinstance(old, dict) or old is UNKNOWN):
            # nested objects merge (ARM's union is deep): an unknown one keeps unknown keys
            merged[key] = (
                _union(old, item)
                if isinstance(old, dict) and not partly_known(old)
                else union_unknown(old, item)
            )
        else:
            merged[key] = item
    return merged


def _union(*values: Any) -> Any:
    if all(isinstance(v, list) for v in values):
        merged: list[Any] = []
        for v in values:
            merged.extend(item for item in v if item not in merged)
        return merged
    if not all(isinstance(v, dict) for v in values):
        raise TypeError("union of mixed types")
    result: dict[str, Any] = {}
    for v in values:
        for key, item in v.items():  # nested objects merge, as ARM's union does
            old = result.get(key)
            both = isinstance(old, dict) and isinstance(item, dict)
            result[key] = _union(old, item) if both else item
    return result


def unique_string_for_naming(*values: str) -> str:
    digest = hashlib.sha256("\x00".join(values).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:13]


def guid_for_naming(*values: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "-".join(values)))


def _string(value: Any) -> str:
    if isinstance(value, dict | list):
        if has_unknown(value):
            raise ValueError("unknown inside")
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text(value)


def _integers(op: Callable[[int, int], Any]) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if type(a) is not int or type(b) is not int:
            raise TypeError("not integers")
        return op(a, b)

    return apply


def _truncated_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)  # .NET integer division truncates toward zero
    return quotient if (a < 0) == (b < 0) else -quotient


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """A comparison of two integers or two strings (ordinal), as ``greater``/``less`` do."""

    def compare(a: Any, b: Any) -> bool:
        both_ints = type(a) is int and type(b) is int
        if not both_ints and not (isinstance(a, str) and isinstance(b, str)):
            raise TypeError("compares two integers or two strings")
        return op(a, b)

    return compare


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    """``min``/``max`` of integers given as arguments or as one array."""

    def apply(*values: Any) -> Any:
        items = values[0] if len(values) == 1 and isinstance(values[0], list) else values
        if not items or any(type(v) is not int for v in items):
            raise TypeError("min and max need integers")
        return pick(items)

    return apply


def _range(start: int, count: int) -> list[int]:
    if type(start) is not int or type(count) is not int or count < 0:
        raise TypeError("range needs integers")
    if count > MAX_LOOP * 10:
        raise ValueError("too long")
    return list(range(start, start + count))


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str | list | dict):
        raise TypeError("empty needs an array, an object or a string")
    return len(value) == 0


def _length(value: Any) -> int:
    if not isinstance(value, str | list | dict):
        raise TypeError("length needs an array, an object or a string")
    return len(value)


def _intersection(*values: Any) -> Any:
    if any(has_unknown(v) for v in values):
        raise ValueError("unknown inside")
    first, *others = values
    if all(isinstance(v, list) for v in values):
        common: list[Any] = []
        for item in first:
            if item not in common and all(item in other for other in others):
                common.append(item)
        return common
    if not all(isinstance(v, dict) for v in values):
        raise TypeError("intersection of mixed types")
    return {k: v for k, v in first.items() if all(k in o and o[k] == v for o in others)}


def _items(value: dict[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        raise TypeError("items needs an object")
    return [{"key": k, "value": value[k]} for k in sorted(value)]


def _object_keys(value: dict[str, Any]) -> list[str]:
    if not isinstance(value, dict):
        raise TypeError("objectKeys needs an object")
    return list(value)


def _shallow_merge(values: list[Any]) -> dict[str, Any]:
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise TypeError("shallowMerge needs an array of objects")
    if any(partly_known(v) for v in values):
        raise ValueError("unknown inside")
    merged: dict[str, Any] = {}
    for value in values:
        merged.update(value)
    return merged


def try_get(target: Any, *keys: Any) -> Any:
    """``tryGet``: the value at a key (any case) or index, null where it is missing."""
    for key in keys:
        if target is None:
            return None
        if partly_known(target) or key is UNKNOWN:
            return UNKNOWN
        if isinstance(target, dict) and isinstance(key, str):
            folded = key.lower()
            target = next((v for k, v in target.items() if k.lower() == folded), None)
        elif isinstance(target, list) and type(key) is int:
            target = target[key] if 0 <= key < len(target) else None
        else:
            raise TypeError("tryGet needs an object and a key or an array and an index")
    return target


def _array(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _flatten(arrays: list[Any]) -> list[Any]:
    """One array of the arrays' items (what Bicep's spread ``[...a, ...b]`` compiles to)."""
    if not isinstance(arrays, list) or not all(isinstance(a, list) for a in arrays):
        raise TypeError("flatten takes an array of arrays")
    return [item for array in arrays for item in array]


def _index_from_end(items: list[Any], index: int) -> Any:
    """``items[^index]``: one-based from the end; out of range is an error."""
    if not isinstance(items, list) or type(index) is not int or not 0 < index <= len(items):
        raise IndexError("index from end out of range")
    return items[-index]


def _try_index_from_end(items: Any, index: Any, *keys: Any) -> Any:
    """``items[?^index]`` then ``tryGet`` of ``keys``: null where anything is missing."""
    if items is None:
        return None
    if not isinstance(items, list) or type(index) is not int:
        raise TypeError("tryIndexFromEnd takes an array and an integer")
    found = items[-index] if 0 < index <= len(items) else None
    return try_get(found, *keys) if keys and found is not None else found


PURE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    **STRING_FUNCTIONS,
    **CIDR_FUNCTIONS,
    **DATE_FUNCTIONS,
    "concat": _concat,
    "format": _format,
    "string": _string,
    "equals": _equals,
    "not": _not,
    "greater": _ordered(lambda a, b: a > b),
    "greaterorequals": _ordered(lambda a, b: a >= b),
    "less": _ordered(lambda a, b: a < b),
    "lessorequals": _ordered(lambda a, b: a <= b),
    "length": _length,
    "empty": _empty,
    "contains": _contains,
    "union": _union,
    "intersection": _intersection,
    "array": _array,
    "flatten": _flatten,
    "indexfromend": _index_from_end,
    "tryindexfromend": _try_index_from_end,
    "items": _items,
    "objectkeys": _object_keys,
    "shallowmerge": _shallow_merge,
    "tryget": try_get,
    "add": _integers(lambda a, b: a + b),
    "sub": _integers(lambda a, b: a - b),
    "mul": _integers(lambda a, b: a * b),
    "div": _integers(_truncated_div),
    "mod": _integers(lambda a, b: a - b * _truncated_div(a, b)),
    "min": _extreme(min),
    "max": _extreme(max),
    "range": _range,
    "true": lambda: True,
    "false": lambda: False,
    "null": lambda: None,
}
