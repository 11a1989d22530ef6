"""Baselines: today's failures kept in a file, so that a gate fails only on new ones.

``--create-baseline FILE`` writes every failing (check, resource) pair of the scan, sorted, with
the Tutela version and the date. ``--baseline FILE`` reads one: its failures are still reported
(SARIF marks each result ``baselineState`` ``unchanged`` or ``new``; the table counts them) and
only the others count for ``--fail-on``. Resource ids compare without case, as ARM's do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela import __version__

if TYPE_CHECKING:
    from tutela.scanner.engine.evaluate import CheckResult

BASELINE_FORMAT = 1
_SEVERITIES = ("critical", "high", "medium", "low")


class BaselineError(ValueError):
    """A baseline file that cannot be read or written; the message names it."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """The failures a baseline file holds, as (check id, lower-cased resource id)."""

    path: Path
    failures: frozenset[tuple[str, str]]

    def holds(self, check_id: str, resource_id: str) -> bool:
        return (check_id, resource_id.lower()) in self.failures


@dataclass(slots=True)
class Comparison:
    """How a scan's failing pairs stand against a baseline: new ones by severity, known ones."""

    new: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_SEVERITIES, 0))
    in_baseline: int = 0

    @property
    def new_total(self) -> int:
        return sum(self.new.values())


def read_baseline(path: Path) -> Baseline:
    """The baseline in ``path``; a missing or malformed file is a ``BaselineError``."""
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise BaselineError(f"--baseline {path}: no such file") from None
    except IsADirectoryError:
        raise BaselineError(f"--baseline {path}: is a directory, not a file") from None
    except OSError as exc:
        raise BaselineError(f"--baseline {path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise BaselineError(f"--baseline {path}: not valid JSON ({exc})") from None
    failures = _failures(document)
    if failures is None:
        raise BaselineError(
            f"--baseline {path}: not a Tutela baseline (expected "
            f'{{"tutela_baseline": {BASELINE_FORMAT}, "failures": [{{"check_id": …, '
            '"resource": …}, …]}, as --create-baseline writes)'
        )
    return Baseline(path, failures)


def _failures(document: Any) -> frozenset[tuple[str, str]] | None:
    if not isinstance(document, dict) or document.get("tutela_baseline") != BASELINE_FORMAT:
        return None
    items = document.get("failures")
    if not isinstance(items, list):
        return None
    found = set()
    for item in items:
        if not isinstance(item, dict):
            return None
        check_id, resource = item.get("check_id"), item.get("resource")
        if not isinstance(check_id, str) or not isinstance(resource, str):
            return None
        found.add((check_id, resource.lower()))
    return frozenset(found)


def write_baseline(path: Path, failed: Iterable[CheckResult], today: dt.date) -> int:
    """Write the failing pairs to ``path``, sorted; how many were written."""
    pairs = sorted({(result.check.id, result.resource.id) for result in failed})
    document = {
        "tutela_baseline": BASELINE_FORMAT,
        "tutela_version": __version__,
        "created": today.isoformat(),
        "failures": [{"check_id": check_id, "resource": resource} for check_id, resource in pairs],
    }
    try:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as exc:
        raise BaselineError(
            f"--create-baseline {path}: cannot be written ({exc.strerror})"
        ) from None
    return len(pairs)


def compare(failed: Iterable[CheckResult], baseline: Baseline) -> Comparison:
    """The failing pairs not in the baseline, by severity, and how many are in it."""
    comparison = Comparison()
    for result in failed:
        if baseline.holds(result.check.id, result.resource.id):
            comparison.in_baseline += 1
        else:
            comparison.new[result.check.severity] += 1
    return comparison


def mark_sarif(document: dict[str, Any], baseline: Baseline) -> None:
    """Each SARIF result's ``baselineState``: ``unchanged`` when the baseline holds it.

    An accepted (suppressed) result counts for no gate and is left unmarked.
    """
    for run in document.get("runs", []):
        for result in run.get("results", []):
            if result.get("suppressions"):
                continue
            resource = str(result.get("properties", {}).get("resource", ""))
            known = baseline.holds(str(result.get("ruleId", "")), resource)
            result["baselineState"] = "unchanged" if known else "new"
