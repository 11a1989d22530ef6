"""The service defaults a check assumes: what an absent property counts as, and since when.

A check's conditions (``applies_if`` and ``pass_if``) give an absent property the service's
documented default (``default``), or one that changed between API versions
(``default_since``). CHECKS.md shows them per check, so a reviewer sees what a template or an
export that leaves a property out is judged against.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from tutela.scanner.catalog.checks import CheckSpec

_MISSING = object()


@dataclass(frozen=True, slots=True)
class AssumedDefault:
    """One field's default: ``plain`` (or ``_MISSING``) and ``since`` (API version → default)."""

    field: str
    plain: Any
    since: tuple[tuple[str, Any], ...]

    def describe(self) -> str:
        parts = [f"{_shown(value)} from API {version}" for version, value in sorted(self.since)]
        if self.plain is not _MISSING:
            parts.append(f"{_shown(self.plain)} otherwise" if parts else _shown(self.plain))
        elif parts:
            parts.append("unknown otherwise")
        return f"`{self.field}`: " + ", ".join(parts)


def assumed_defaults(check: CheckSpec) -> list[AssumedDefault]:
    """The defaults the check's conditions give absent fields, in the order they appear."""
    found: dict[tuple[str, str, str], AssumedDefault] = {}
    for condition in (check.applies_if, check.pass_if):
        for leaf in _leaves(condition, ""):
            if "default" not in leaf and "default_since" not in leaf:
                continue
            since = tuple(
                (v.isoformat() if isinstance(v, dt.date) else str(v), value)
                for v, value in (leaf.get("default_since") or {}).items()
            )
            default = AssumedDefault(leaf["field"], leaf.get("default", _MISSING), since)
            key = (default.field, repr(default.plain), repr(since))
            found.setdefault(key, default)
    return list(found.values())


def _leaves(condition: Any, prefix: str) -> list[dict[str, Any]]:
    """The field leaves of a condition, a ``count``'s element fields shown as ``list[*].x``."""
    if not isinstance(condition, dict):
        return []
    if "field" in condition:
        return [{**condition, "field": f"{prefix}{condition['field']}"}]
    leaves: list[dict[str, Any]] = []
    for key in ("allOf", "anyOf"):
        for part in condition.get(key) or ():
            leaves += _leaves(part, prefix)
    leaves += _leaves(condition.get("not"), prefix)
    counted = condition.get("count")
    if isinstance(counted, dict) and isinstance(counted.get("field"), str):
        leaves += _leaves(counted.get("where"), f"{counted['field']}[*].")
    return leaves


def _shown(value: Any) -> str:
    return f"`{value}`" if isinstance(value, str) else f"`{json.dumps(value)}`"
