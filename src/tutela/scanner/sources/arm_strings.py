"""ARM template string, conversion, encoding and date functions (arm_functions.py registers them).

Each takes evaluated, fully known arguments and raises ``TypeError``/``ValueError`` where ARM
itself would reject them; the evaluator turns that into ``UNKNOWN``. Comparisons follow the
reference: ``contains``, ``replace`` and ``split`` are case-sensitive, ``indexOf``,
``lastIndexOf``, ``startsWith`` and ``endsWith`` are not.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def text(value: Any) -> str:
    """A scalar as ARM (.NET) prints it inside ``concat``, ``format`` or ``string``."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float | str):
        return str(value)
    if value is None:
        return ""
    raise TypeError("not text")


def _need_str(*values: Any) -> None:
    if not all(isinstance(v, str) for v in values):
        raise TypeError("not a string")


def _text_only(change: Callable[[str], str]) -> Callable[[Any], str]:
    def apply(value: Any) -> str:
        _need_str(value)
        return change(value)

    return apply


def _need_int(*values: Any) -> None:
    if not all(type(v) is int for v in values):
        raise TypeError("not an integer")


def _substring(value: str, start: int = 0, length: int | None = None) -> str:
    _need_str(value)
    _need_int(start)
    length = len(value) - start if length is None else length
    _need_int(length)
    if start < 0 or length < 0 or start + length > len(value):
        raise ValueError("substring out of range")
    return value[start : start + length]


def _take(value: Any, count: int) -> Any:
    _need_int(count)
    if not isinstance(value, str | list):
        raise TypeError("take needs an array or a string")
    return value[: max(0, count)]


def _skip(value: Any, count: int) -> Any:
    _need_int(count)
    if not isinstance(value, str | list):
        raise TypeError("skip needs an array or a string")
    return value[max(0, count) :]


def _first(value: Any) -> Any:
    if isinstance(value, str):
        return value[:1]
    if not isinstance(value, list):
        raise TypeError("first needs an array or a string")
    return value[0]


def _last(value: Any) -> Any:
    if isinstance(value, str):
        return value[-1:]
    if not isinstance(value, list):
        raise TypeError("last needs an array or a string")
    return value[-1]


def _index_of(container: Any, item: Any, last: bool = False) -> int:
    if isinstance(container, str):
        _need_str(item)
        haystack, needle = container.lower(), item.lower()
        return haystack.rfind(needle) if last else haystack.find(needle)
    if not isinstance(container, list):
        raise TypeError("indexOf needs an array or a string")
    found = [i for i, v in enumerate(container) if v == item and type(v) is type(item)]
    return (found[-1] if last else found[0]) if found else -1


def _starts_with(value: str, prefix: str) -> bool:
    _need_str(value, prefix)
    return value.lower().startswith(prefix.lower())


def _ends_with(value: str, suffix: str) -> bool:
    _need_str(value, suffix)
    return value.lower().endswith(suffix.lower())


def _pad_left(value: Any, total: int, pad: str = " ") -> str:
    _need_int(total)
    if isinstance(value, bool) or not isinstance(value, str | int) or not isinstance(pad, str):
        raise TypeError("padLeft needs a string or an integer")
    if len(pad) != 1:
        raise ValueError("padLeft pads with one character")
    return str(value).rjust(total, pad)


def _replace(value: str, old: str, new: str) -> str:
    _need_str(value, old, new)
    if not old:
        raise ValueError("nothing to replace")
    return value.replace(old, new)


def _split(value: str, delimiters: Any) -> list[str]:
    delimiters = [delimiters] if isinstance(delimiters, str) else delimiters
    if not isinstance(delimiters, list) or not delimiters:
        raise TypeError("split needs a delimiter")
    _need_str(value, *delimiters)
    return re.split("|".join(re.escape(d) for d in delimiters), value)


def _join(values: list[Any], delimiter: str) -> str:
    if not isinstance(values, list):
        raise TypeError("join needs an array")
    _need_str(delimiter)
    return delimiter.join(text(v) for v in values)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError("int needs a string or an integer")
    return int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if type(value) is int:
        return value != 0
    raise ValueError("not a boolean")


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError("float needs a string or a number")
    return float(value)


def _json(value: str) -> Any:
    _need_str(value)
    return json.loads(value)


def _base64(value: str) -> str:
    _need_str(value)
    return base64.b64encode(value.encode()).decode()


def _base64_to_string(value: str) -> str:
    _need_str(value)
    return base64.b64decode(value, validate=True).decode()


def _data_uri(value: Any) -> str:
    return f"data:text/plain;charset=utf8;base64,{_base64(text(value))}"


def _data_uri_to_string(value: str) -> str:
    _need_str(value)
    header, _, data = value.partition(",")
    if not header.startswith("data:"):
        raise ValueError("not a data URI")
    if header.endswith(";base64"):
        return _base64_to_string(data)
    return urllib.parse.unquote(data)


def _uri_component(value: str) -> str:
    _need_str(value)
    return urllib.parse.quote(value, safe="-_.~")


def _uri_component_to_string(value: str) -> str:
    _need_str(value)
    return urllib.parse.unquote(value)


def _uri(base: str, relative: str) -> str:
    _need_str(base, relative)
    if not urllib.parse.urlsplit(base).scheme:
        raise ValueError("not an absolute URI")
    return urllib.parse.urljoin(base, relative)


def _date_time_from_epoch(seconds: int) -> str:
    _need_int(seconds)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date_time_to_epoch(value: str) -> int:
    _need_str(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


STRING_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "tolower": _text_only(str.lower),
    "toupper": _text_only(str.upper),
    "trim": _text_only(str.strip),
    "substring": _substring,
    "take": _take,
    "skip": _skip,
    "first": _first,
    "last": _last,
    "indexof": _index_of,
    "lastindexof": lambda container, item: _index_of(container, item, last=True),
    "startswith": _starts_with,
    "endswith": _ends_with,
    "padleft": _pad_left,
    "replace": _replace,
    "split": _split,
    "join": _join,
    "int": _int,
    "bool": _bool,
    "float": _float,
    "json": _json,
    "base64": _base64,
    "base64tostring": _base64_to_string,
    "base64tojson": lambda v: json.loads(_base64_to_string(v)),
    "datauri": _data_uri,
    "datauritostring": _data_uri_to_string,
    "uricomponent": _uri_component,
    "uricomponenttostring": _uri_component_to_string,
    "uri": _uri,
    "datetimefromepoch": _date_time_from_epoch,
    "datetimetoepoch": _date_time_to_epoch,
}
