"""Risk acceptance: a failing check on a resource (or a glob of resources), accepted until a date.

An acceptance names a check, an ARM id or an fnmatch-style glob over ids (``*``, ``?``,
``[...]``; ``*`` also crosses ``/``), compared without case, why the risk is accepted, who
approved it, an optional ticket and the day it ends. It holds while the scan date is before
``expires``: on that day the pair fails again. Scans report an accepted pair as accepted, out of
the counts, scores and gate (docs/risk-acceptance.md). Offline, acceptances come from a YAML
file (``read_acceptances``); the server keeps its own and checks each with ``check_acceptance``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Strict, ValidationError, field_validator

from tutela.scanner.catalog import Catalog
from tutela.scanner.yaml_file import UnreadableYaml, read_yaml

__all__ = [
    "Acceptance",
    "AcceptanceError",
    "ActiveAcceptances",
    "check_acceptance",
    "read_acceptances",
]

MAX_RESOURCE_CHARS: Final = 2048
MAX_REASON_CHARS: Final = 2000
MAX_NAME_CHARS: Final = 256  # approver, ticket
MAX_ENTRIES: Final = 10_000
_GLOB_CHARS: Final = frozenset("*?[")
# What a check id looks like: only text of this shape is named back in an error.
_CHECK_ID_SHAPE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_KEY_SHAPE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
FILE_KEYS: Final = ("check", "resource", "reason", "approver", "ticket", "expires")


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A failing (check, resource) pair accepted as a risk until ``expires`` (exclusive)."""

    check_id: str
    resource: str  # an ARM id, or a glob (fnmatch-style * ? [..]) over ids; without case
    reason: str
    approver: str
    expires: dt.date  # accepted while scan date < expires; on that day it fails again
    ticket: str | None = None
    id: str | None = None  # the server's exception id; None offline

    @property
    def is_glob(self) -> bool:
        return not _GLOB_CHARS.isdisjoint(self.resource)

    def active_on(self, day: dt.date) -> bool:
        return day < self.expires

    def matches(self, check_id: str, resource_id: str) -> bool:
        """True when the acceptance names this check and resource (whatever the date)."""
        if check_id != self.check_id:
            return False
        if self.is_glob:
            return _glob(self.resource).fullmatch(resource_id) is not None
        return resource_id.casefold() == self.resource.casefold()

    def as_report(self) -> dict[str, Any]:
        """The acceptance as a report shows it (``accepted[].acceptance``)."""
        return {
            "id": self.id,
            "resource": self.resource,
            "reason": self.reason,
            "approver": self.approver,
            "ticket": self.ticket,
            "expires": self.expires.isoformat(),
        }


class AcceptanceError(ValueError):
    """An acceptance that breaks a rule, or a file of them that cannot be read; one line."""


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE | re.DOTALL)


class ActiveAcceptances:
    """The acceptances in force on a day, indexed to find the one matching a failing pair.

    Ids named exactly are looked up in a dict; globs are tried in the order given. When several
    acceptances match a pair, an exact id wins over a glob, then the first given wins.
    """

    def __init__(self, acceptances: Iterable[Acceptance], as_of: dt.date) -> None:
        self._exact: dict[tuple[str, str], Acceptance] = {}
        self._globs: dict[str, list[tuple[re.Pattern[str], Acceptance]]] = {}
        for acceptance in acceptances:
            if not acceptance.active_on(as_of):
                continue
            if acceptance.is_glob:
                self._globs.setdefault(acceptance.check_id, []).append(
                    (_glob(acceptance.resource), acceptance)
                )
            else:
                key = (acceptance.check_id, acceptance.resource.casefold())
                self._exact.setdefault(key, acceptance)

    def __bool__(self) -> bool:
        return bool(self._exact or self._globs)

    def find(self, check_id: str, resource_id: str) -> Acceptance | None:
        """The acceptance in force for the pair, or None."""
        found = self._exact.get((check_id, resource_id.casefold()))
        if found is not None:
            return found
        for pattern, acceptance in self._globs.get(check_id, ()):
            if pattern.fullmatch(resource_id) is not None:
                return acceptance
        return None


def _named_check(check_id: str) -> str:
    return check_id if _CHECK_ID_SHAPE.fullmatch(check_id) else "(not a check id)"


def _has_control(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def check_acceptance(a: Acceptance, catalog: Catalog, today: dt.date) -> None:
    """Raise AcceptanceError (one line, quoting only a check id) if ``a`` breaks a rule.

    The rules: a check id the catalogue has, a resource id or glob, a reason and an approver
    (neither empty), and an expiry date after ``today``.
    """
    try:
        catalog.check(a.check_id)
    except KeyError:
        raise AcceptanceError(
            f"unknown check id {_named_check(a.check_id)} (see tutela checks list)"
        ) from None
    if not a.resource.strip():
        raise AcceptanceError("resource is empty: give an ARM id or a glob over ids")
    if len(a.resource) > MAX_RESOURCE_CHARS or _has_control(a.resource):
        raise AcceptanceError(
            f"resource must be one line of at most {MAX_RESOURCE_CHARS} characters"
        )
    for name, value, limit, allowed in (
        ("reason", a.reason, MAX_REASON_CHARS, "\n\t"),
        ("approver", a.approver, MAX_NAME_CHARS, ""),
    ):
        if not value.strip():
            raise AcceptanceError(f"{name} is missing or empty")
        if len(value) > limit or _has_control(value, allowed):
            raise AcceptanceError(
                f"{name} must be text of at most {limit} characters without control characters"
            )
    if a.ticket is not None and (len(a.ticket) > MAX_NAME_CHARS or _has_control(a.ticket)):
        raise AcceptanceError(f"ticket must be one line of at most {MAX_NAME_CHARS} characters")
    if a.expires <= today:
        raise AcceptanceError(
            f"expires {a.expires.isoformat()} is not after today ({today.isoformat()}): "
            "an acceptance must end in the future"
        )


Text = Annotated[str, Strict()]


class _Entry(BaseModel):
    """One entry of an exceptions file, as written there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: Text
    resource: Text
    reason: Text
    approver: Text
    ticket: Text | None = None
    expires: dt.date

    @field_validator("expires", mode="before")
    @classmethod
    def _a_day(cls, value: object) -> dt.date:
        # YAML reads 2027-03-31 as a date; a quoted one is a string. Numbers (read as Unix
        # times) and date-times are refused: an expiry is a day.
        if isinstance(value, dt.datetime):
            raise ValueError("is not a date (YYYY-MM-DD)")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError("is not a date (YYYY-MM-DD)")

    def acceptance(self) -> Acceptance:
        return Acceptance(
            check_id=self.check.strip(),
            resource=self.resource.strip(),
            reason=self.reason.strip(),
            approver=self.approver.strip(),
            expires=self.expires,
            ticket=(self.ticket.strip() or None) if self.ticket is not None else None,
        )


def _entry_errors(error: ValidationError) -> str:
    """Pydantic's errors for one entry as one line, never quoting the input."""
    parts = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "entry"
        if item["type"] == "missing":
            parts.append(f"{field} is missing")
        elif item["type"] == "extra_forbidden":
            named = field if _KEY_SHAPE.fullmatch(field) else "a key"
            parts.append(f"unknown key {named} (allowed: {', '.join(FILE_KEYS)})")
        elif item["type"] == "string_type":
            parts.append(f"{field} must be text")
        else:
            parts.append(f"{field} {str(item['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


def read_acceptances(path: Path, catalog: Catalog, today: dt.date) -> list[Acceptance]:
    """The acceptances of an exceptions file (``exceptions:`` list), each checked for ``today``.

    AcceptanceError says what is wrong in one line, naming the entry (index and check).
    """
    try:
        data: Any = read_yaml(path, "YAML")
    except UnreadableYaml as exc:
        raise AcceptanceError(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("exceptions"), list):
        raise AcceptanceError(
            "must be a mapping with an `exceptions` list "
            "(exceptions: [{check, resource, reason, approver, ticket, expires}])"
        )
    unknown = [key for key in data if key != "exceptions"]
    if unknown:
        raise AcceptanceError("has keys other than `exceptions` at its top level")
    entries: list[Any] = data["exceptions"]
    if len(entries) > MAX_ENTRIES:
        raise AcceptanceError(f"has more than {MAX_ENTRIES} exceptions")
    return [_accepted(index, entry, catalog, today) for index, entry in enumerate(entries)]


def _accepted(index: int, entry: object, catalog: Catalog, today: dt.date) -> Acceptance:
    where = f"exceptions[{index}]"
    if not isinstance(entry, dict):
        raise AcceptanceError(f"{where}: must be a mapping of {', '.join(FILE_KEYS)}")
    check = entry.get("check")
    if isinstance(check, str) and check.strip():
        where += f" ({_named_check(check.strip())})"
    try:
        acceptance = _Entry.model_validate(entry).acceptance()
        check_acceptance(acceptance, catalog, today)
    except ValidationError as exc:
        raise AcceptanceError(f"{where}: {_entry_errors(exc)}") from None
    except AcceptanceError as exc:
        raise AcceptanceError(f"{where}: {exc}") from None
    return acceptance
