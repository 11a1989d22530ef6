"""ARM template functions without context: any ``UNKNOWN`` argument makes the result unknown.

``uniqueString`` and ``guid`` are deterministic but NOT Azure's algorithms (Azure's are
unpublished): they only name things, so a stable, different value is harmless.
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


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"  # as ARM (.NET) prints booleans
    if isinstance(value, int | float | str):
        return str(value)
    if value is None:
        return ""
    raise TypeError("not text")


def _concat(*values: Any) -> Any:
    if values and all(isinstance(v, list) for v in values):
        return [item for v in values for item in v]
    return "".join(_text(v) for v in values)


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d+)(?::([^}]*))?\}")


def _format(template: str, *values: Any) -> Any:
    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        value, spec = values[int(match.group(1))], match.group(2)
        if not spec:
            return _text(value)
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
    if isinstance(container, str) and isinstance(item, str):
        return item.lower() in container.lower()
    if isinstance(container, dict) and isinstance(item, str):
        return item.lower() in (k.lower() for k in container)
    if has_unknown(container) or has_unknown(item):
        return UNKNOWN
    return item in container


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


def _unique_string(*values: str) -> str:
    digest = hashlib.sha256("\x00".join(values).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:13]


def _guid(*values: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "-".join(values)))


def _string(value: Any) -> str:
    if isinstance(value, dict | list):
        if has_unknown(value):
            raise ValueError("unknown inside")
        return json.dumps(value, separators=(",", ":"))
    return _text(value)


def _integers(op: Callable[[int, int], Any]) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if type(a) is not int or type(b) is not int:
            raise TypeError("not integers")
        return op(a, b)

    return apply


def _range(start: int, count: int) -> list[int]:
    if count > MAX_LOOP * 10:
        raise ValueError("too long")
    return list(range(start, start + count))


PURE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "concat": _concat,
    "format": _format,
    "tolower": str.lower,
    "toupper": str.upper,
    "replace": str.replace,
    "split": str.split,
    "first": lambda v: v[0],
    "last": lambda v: v[-1],
    "equals": _equals,
    "not": _not,
    "bool": lambda v: truth(v) if isinstance(v, str) else bool(v),
    "int": int,
    "string": _string,
    "length": len,
    "empty": lambda v: v is None or len(v) == 0,
    "contains": _contains,
    "union": _union,
    "array": lambda v: v if isinstance(v, list) else [v],
    "json": json.loads,
    "add": _integers(lambda a, b: a + b),
    "sub": _integers(lambda a, b: a - b),
    "greater": _integers(lambda a, b: a > b),
    "less": _integers(lambda a, b: a < b),
    "range": _range,
    "uniquestring": _unique_string,
    "guid": _guid,
    "true": lambda: True,
    "false": lambda: False,
    "null": lambda: None,
}
