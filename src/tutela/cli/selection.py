"""Which checks run: ``--check``, ``--skip-check`` and ``--severity`` over the catalogue.

Options are repeatable and each value may hold several comma-separated items. Check patterns
are ids or ``fnmatch`` globs (``AOAI-*``, ``*-PUBLIC-NETWORK``), matched without case; a
pattern that matches no check is an error, never an empty selection.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutela.scanner.catalog import Catalog
    from tutela.scanner.catalog.checks import Severity


class SelectionError(ValueError):
    """A selection the catalogue cannot satisfy; the message says which value and why."""


def split_values(values: Iterable[str] | None) -> list[str]:
    """Repeated and comma-separated values as one list, blanks dropped, order kept."""
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def parse_severities(values: Sequence[str] | None, option: str) -> tuple[Severity, ...] | None:
    """The severities named, most severe first; None when the option was not given."""
    from tutela.scanner.catalog.checks import SEVERITIES

    if values is None:
        return None
    named = [value.lower() for value in split_values(values)]
    unknown = [value for value in named if value not in SEVERITIES]
    if unknown or not named:
        what = f"unknown severity {', '.join(unknown)}" if unknown else "no severity named"
        raise SelectionError(f"{option}: {what}; valid: {', '.join(SEVERITIES)}")
    return tuple(severity for severity in SEVERITIES if severity in named)


def matches(pattern: str, check_id: str) -> bool:
    """Whether an id or glob names the check (without case)."""
    return fnmatch.fnmatchcase(check_id.upper(), pattern.upper())


def close_ids(wanted: str, ids: Sequence[str]) -> str:
    """`` (did you mean A, B?)`` for the ids closest to ``wanted``, or nothing."""
    close = difflib.get_close_matches(wanted.upper(), ids, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _patterns(values: Sequence[str] | None, option: str, ids: Sequence[str]) -> list[str]:
    patterns = split_values(values)
    if values is not None and not patterns:
        raise SelectionError(f"{option}: no check named")
    for pattern in patterns:
        if not any(matches(pattern, check_id) for check_id in ids):
            raise SelectionError(f"{option} {pattern}: matches no check{close_ids(pattern, ids)}")
    return patterns


def select_checks(
    catalog: Catalog,
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    severities: Sequence[str] | None = None,
) -> Catalog:
    """A copy of the catalogue holding only the selected checks; the catalogue is kept.

    ``load_catalog()`` is cached and shared, so the selection is a copy (as the house policy's
    is). Controls keep their mappings: a check left out is simply never evaluated.
    """
    if include is None and exclude is None and severities is None:
        return catalog
    ids = [check.id for check in catalog.checks]
    wanted = _patterns(include, "--check", ids)
    unwanted = _patterns(exclude, "--skip-check", ids)
    levels = parse_severities(severities, "--severity")
    kept = tuple(
        check
        for check in catalog.checks
        if (not wanted or any(matches(p, check.id) for p in wanted))
        and not any(matches(p, check.id) for p in unwanted)
        and (levels is None or check.severity in levels)
    )
    if not kept:
        # A scan of no check would pass any gate: refused, as a list naming no framework is.
        raise SelectionError("--check, --skip-check and --severity leave no check to evaluate")
    return catalog.model_copy(update={"checks": kept})
