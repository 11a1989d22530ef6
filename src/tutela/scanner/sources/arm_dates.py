"""ARM template date functions that need a clock or .NET's date formats: ``utcNow`` and
``dateTimeAdd``.

A template is read against one fixed clock, the read's "now": the moment the caller gives
(the scan's as-of time), else the start of the current UTC day, so every ``utcNow()`` of one
read is the same value and two reads of a file on one day agree. ``utcNow`` is evaluated only
in a parameter's default value, the one place ARM allows it; anywhere else it is unknown.

Formats are .NET's, in the invariant culture (what ARM uses: ``utcNow('d')`` is
``03/05/2019``): the standard one-letter formats and the custom specifiers (``yyyy``, ``MM``,
``dd``, ``HH``, ``hh``, ``mm``, ``ss``, ``f``…, ``tt``, ``K``, ``z``…, quoted literals).
``dateTimeAdd`` reads a year as 365 days and a month as 30 (as the reference says) and, without
a format, answers ISO 8601 (``2024-01-01T00:00:00Z``, as the reference's examples show).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from tutela.scanner.estate import UNKNOWN

if TYPE_CHECKING:
    from tutela.scanner.sources.arm_expressions import Evaluator

_ISO: Final = "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK"
_STANDARD: Final = {
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "f": "dddd, dd MMMM yyyy HH:mm",
    "F": "dddd, dd MMMM yyyy HH:mm:ss",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "m": "MMMM dd",
    "M": "MMMM dd",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "U": "dddd, dd MMMM yyyy HH:mm:ss",
    "y": "yyyy MMMM",
    "Y": "yyyy MMMM",
}
_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS: Final = (
    *("January", "February", "March", "April", "May", "June", "July", "August"),
    *("September", "October", "November", "December"),
)
_DURATION: Final = re.compile(
    r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_SPECIFIER: Final = re.compile(r"'[^']*'|\"[^\"]*\"|\\.|%|([yMdHhmsfFtKzg])\1*|.", re.DOTALL)


def read_clock(now: datetime | None) -> datetime:
    """The fixed "now" of one read: ``now`` in UTC, else the start of the current UTC day."""
    if now is None:
        today = datetime.now(UTC).date()
        return datetime(today.year, today.month, today.day, tzinfo=UTC)
    return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)


def format_moment(moment: datetime, pattern: str) -> str:
    """``moment`` in a .NET date format (invariant culture); ValueError for a bad format."""
    if len(pattern) == 1:
        if pattern not in _STANDARD:
            raise ValueError(f"not a standard date format: {pattern}")
        pattern = _STANDARD[pattern]
    pieces: list[str] = []
    for match in _SPECIFIER.finditer(pattern):
        token = match.group(0)
        piece = _specifier(moment, token)
        if token[0] == "F" and not piece and pieces and pieces[-1] == ".":
            pieces.pop()  # .NET drops the point before an all-zero "F" fraction
        pieces.append(piece)
    return "".join(pieces)


def _specifier(moment: datetime, token: str) -> str:
    letter, count = token[0], len(token)
    if letter in "'\"":
        return token[1:-1]
    if letter == "\\":
        return token[1:]
    if letter == "%":
        return ""
    producer = _PRODUCERS.get(letter)
    return token if producer is None else producer(moment, count)


def _year(moment: datetime, count: int) -> str:
    if count <= 2:
        return f"{moment.year % 100:0{count}d}"
    return f"{moment.year:0{count}d}"


def _month(moment: datetime, count: int) -> str:
    if count >= 3:
        name = _MONTHS[moment.month - 1]
        return name if count > 3 else name[:3]
    return f"{moment.month:0{count}d}"


def _day(moment: datetime, count: int) -> str:
    if count >= 3:
        name = _DAYS[moment.weekday()]
        return name if count > 3 else name[:3]
    return f"{moment.day:0{count}d}"


def _fraction(trim: bool) -> Callable[[datetime, int], str]:
    def produce(moment: datetime, count: int) -> str:
        digits = f"{moment.microsecond:06d}0"[: min(count, 7)]
        return digits.rstrip("0") if trim else digits

    return produce


def _two(value: Callable[[datetime], int]) -> Callable[[datetime, int], str]:
    return lambda moment, count: f"{value(moment):0{min(count, 2)}d}"


_PRODUCERS: Final[dict[str, Callable[[datetime, int], str]]] = {
    "y": _year,
    "M": _month,
    "d": _day,
    "H": _two(lambda m: m.hour),
    "h": _two(lambda m: m.hour % 12 or 12),
    "m": _two(lambda m: m.minute),
    "s": _two(lambda m: m.second),
    "f": _fraction(trim=False),
    "F": _fraction(trim=True),
    "t": lambda m, count: ("AM" if m.hour < 12 else "PM")[:count],
    "K": lambda m, count: "Z",
    "z": lambda m, count: "+0" if count == 1 else "+00" if count == 2 else "+00:00",
    "g": lambda m, count: "A.D.",
}


def parse_moment(text: Any) -> datetime:
    """An ISO 8601 timestamp (``2020-04-07 14:53:14Z``, ``20190305T175318Z``) in UTC."""
    if not isinstance(text, str):
        raise TypeError("a date must be a string")
    moment = datetime.fromisoformat(text.strip())
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_duration(text: Any) -> timedelta:
    """An ISO 8601 duration, a year being 365 days and a month 30, as ARM reads them."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or text.rstrip("T").endswith("P"):
        raise ValueError("not an ISO 8601 duration")
    sign, years, months, weeks, days, hours, minutes, seconds = match.groups()
    span = timedelta(
        days=365 * int(years or 0) + 30 * int(months or 0) + 7 * int(weeks or 0) + int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    return -span if sign else span


def date_time_add(base: Any, duration: Any, pattern: Any = None) -> str:
    moment = parse_moment(base) + parse_duration(duration)
    if pattern is not None and not isinstance(pattern, str):
        raise TypeError("a format must be a string")
    return format_moment(moment, pattern or _ISO)


def utc_now(ev: Evaluator, values: list[Any]) -> Any:
    """The read's fixed "now", where ARM allows it (a parameter's default), else unknown."""
    if not ev.in_parameter_default or len(values) > 1:
        return UNKNOWN
    pattern = values[0] if values else "yyyyMMdd'T'HHmmss'Z'"
    if not isinstance(pattern, str):
        return UNKNOWN
    try:
        return format_moment(ev.now, pattern)
    except ValueError:
        return UNKNOWN


DATE_FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {"datetimeadd": date_time_add}
