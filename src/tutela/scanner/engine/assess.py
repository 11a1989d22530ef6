"""From check results to findings and scores: what a report says about an estate.

Scoring (documented in catalog/README.md): every decided (check, resource) pair weighs its
severity (critical 10, high 5, medium 3, low 1). A framework's score is the weighted share of
passing pairs among the decided pairs whose check evidences one of the framework's controls;
the aggregate score does the same over every pair that counts for any scanned framework, each
pair once. Scores are whole numbers from 0 to 100, and ``None`` when nothing could be decided.
Unknown results count neither way; the report says how many there were.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import heapq
import itertools
import operator
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import SEVERITIES, CheckSpec, finding_control_id
from tutela.scanner.engine.evaluate import CheckResult, Progress, evaluate_counting_passes
from tutela.scanner.estate import Estate, Resource

SEVERITY_WEIGHTS = {"critical": 10, "high": 5, "medium": 3, "low": 1}
_SEVERITY_ORDER: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}


class MappedControl(NamedTuple):
    """A control a check evidences, as findings show it (a tuple: cheap to hash and compare)."""

    framework: str
    control_id: str  # as findings show it, e.g. ISO42001-A.6.2.6
    title: str
    by_analogy: bool


class Finding(NamedTuple):
    """A failing result as evidence against one mapped control: one entry of a report's findings.

    ``by_analogy`` is the control's own mark, or set because the framework reaches the resource
    (its type, or its kind of that type) only by analogy.
    """

    result: CheckResult
    control: MappedControl
    by_analogy: bool


@dataclass(frozen=True, slots=True)
class AnalogyScope:
    """The resources a framework reaches only by analogy (catalog/README.md, Controls)."""

    types: tuple[str, ...] = ()  # lower-cased ARM types, ``*`` wildcards
    kinds: Mapping[str, frozenset[str]] = field(default_factory=dict)  # type → lower-cased kinds

    def covers(self, resource_type: str, kind: object) -> bool:
        if any(fnmatch.fnmatchcase(resource_type, pattern) for pattern in self.types):
            return True
        kinds = self.kinds.get(resource_type)
        return kinds is not None and isinstance(kind, str) and kind.lower() in kinds


@dataclass(slots=True)
class FrameworkResult:
    framework: str
    score: int | None
    checks_evaluated: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_unknown: int = 0
    controls_assessed: int = 0
    controls_with_gaps: int = 0


class Assessment:
    """Everything the engine concluded about one estate for some frameworks.

    Only failing and undecided results are kept (passes are counted); findings, one per
    failing result and mapped control, are produced on demand, in report order.
    """

    def __init__(
        self,
        *,
        frameworks: tuple[str, ...],
        resources_scanned: int,
        failed: list[CheckResult],
        unknown_results: list[CheckResult],
        mapping: dict[str, list[MappedControl]],
        analogy: dict[str, AnalogyScope],
        framework_results: dict[str, FrameworkResult],
        aggregate_score: int | None,
        checks_passed: int,
    ) -> None:
        self.frameworks = frameworks
        self.resources_scanned = resources_scanned
        self.failed = failed
        self.unknown_results = unknown_results
        self.mapping = mapping
        self.framework_results = framework_results
        self.aggregate_score = aggregate_score
        self.checks_passed = checks_passed
        self.checks_failed = len(failed)
        self.checks_unknown = len(unknown_results)
        self.checks_evaluated = checks_passed + self.checks_failed + self.checks_unknown
        self._analogy = analogy
        # Types whose kinds can decide the analogy: their results are told apart by kind too.
        self._kinded_types = {t for scope in analogy.values() for t in scope.kinds}
        self._failed_in_order: list[CheckResult] | None = None
        self._controls_for: dict[tuple[str, Hashable], list[tuple[MappedControl, bool]]] = {}
        self.severity_counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        for result in failed:
            self.severity_counts[result.check.severity] += len(mapping[result.check.id])
        self.check_frameworks = {
            check_id: tuple(dict.fromkeys(c.framework for c in controls))
            for check_id, controls in mapping.items()
        }

    def by_analogy(self, control: MappedControl, resource: Resource) -> bool:
        scope = self._analogy.get(control.framework)
        return control.by_analogy or (
            scope is not None and scope.covers(resource.type, resource.kind)
        )

    def mapping_class(self, resource: Resource) -> Hashable:
        """What decides how a resource's results map onto controls: its type, else with its kind.

        Results of one check whose resources share a class have the same controls and marks.
        """
        if resource.type in self._kinded_types:
            kind = resource.kind
            return (resource.type, kind.lower() if isinstance(kind, str) else None)
        return resource.type

    def failed_in_order(self, limit: int | None = None) -> list[CheckResult]:
        """The failing results in report order: most severe first, then by check and resource.

        With ``limit``, only the first ones (found without sorting them all, unless already).
        """
        if self._failed_in_order is None:
            if limit is not None:
                return heapq.nsmallest(limit, self.failed, key=_report_order)
            self._failed_in_order = _in_report_order(self.failed)
        return self._failed_in_order[:limit]

    def controls_for(self, result: CheckResult) -> list[tuple[MappedControl, bool]]:
        """The controls a failing result is evidence against, each with its by-analogy mark."""
        key = (result.check.id, self.mapping_class(result.resource))
        controls = self._controls_for.get(key)
        if controls is None:
            controls = self._controls_for[key] = [
                (control, self.by_analogy(control, result.resource))
                for control in self.mapping[result.check.id]
            ]
        return controls

    def findings(self) -> Iterator[Finding]:
        """One finding per failing result and mapped control, in report order.

        Most severe first, then by check id and resource id; a result's findings come together,
        its controls in framework order.
        """
        for result in self.failed_in_order():
            for control, by_analogy in self.controls_for(result):
                yield Finding(result, control, by_analogy)


def _report_order(result: CheckResult) -> tuple[int, str, str]:
    return (_SEVERITY_ORDER[result.check.severity], result.check.id, result.resource.id)


_CHECK_OF = operator.attrgetter("check.severity", "check.id")
_RESOURCE_ID_OF = operator.attrgetter("resource.id")


def _in_report_order(results: list[CheckResult]) -> list[CheckResult]:
    """``sorted(results, key=_report_order)``, faster for a few hundred thousand results.

    The evaluation leaves a check's results in runs (one per resource type), so they are
    gathered per check, in order, run by run; the checks are put in report order and each
    check's results are sorted by resource id alone. Both sorts are stable and the gathering
    keeps the results' order, so results with equal keys stay in the order ``sorted`` leaves
    them; the keys are read in C (``attrgetter``) and compared as strings, not tuples.
    """
    by_check: dict[tuple[str, str], list[CheckResult]] = {}
    for check, run in itertools.groupby(results, key=_CHECK_OF):
        by_check.setdefault(check, []).extend(run)
    ordered: list[CheckResult] = []
    for check in sorted(by_check, key=lambda c: (_SEVERITY_ORDER[c[0]], c[1])):
        ordered += sorted(by_check[check], key=_RESOURCE_ID_OF)
    return ordered


def control_map(catalog: Catalog, frameworks: Sequence[str]) -> dict[str, list[MappedControl]]:
    """check id → the controls it evidences in the given frameworks, in framework order."""
    mapping: dict[str, list[MappedControl]] = {}
    for framework in frameworks:
        controls = catalog.controls_of(framework)
        if controls is None:
            continue
        for control in controls.controls:
            shown = finding_control_id(controls.control_prefix, control.id)
            for check_id in control.checks:
                mapping.setdefault(check_id, []).append(
                    MappedControl(framework, shown, control.title, False)
                )
            for check_id in control.analogy_checks:
                mapping.setdefault(check_id, []).append(
                    MappedControl(framework, shown, control.title, True)
                )
    return mapping


def _analogy(catalog: Catalog, frameworks: Sequence[str]) -> dict[str, AnalogyScope]:
    found = {}
    for framework in frameworks:
        controls = catalog.controls_of(framework)
        if controls is not None and (
            controls.analogy_resource_types or controls.analogy_resource_kinds
        ):
            found[framework] = AnalogyScope(
                controls.analogy_resource_types,
                {
                    resource_type: frozenset(kind.lower() for kind in kinds)
                    for resource_type, kinds in controls.analogy_resource_kinds.items()
                },
            )
    return found


def _score(passed: float, decided: float) -> int | None:
    return None if decided == 0 else round(100 * passed / decided)


def assess(
    estate: Estate,
    catalog: Catalog,
    frameworks: Sequence[str],
    *,
    as_of: dt.date,
    progress: Progress | None = None,
) -> Assessment:
    """Evaluate the checks that evidence the frameworks' controls, and score the results.

    ``progress``, if given, follows the evaluation (``evaluate_counting_passes``).
    """
    unknown_ids = set(frameworks) - set(catalog.framework_ids)
    if unknown_ids:
        raise ValueError(f"unknown frameworks {sorted(unknown_ids)}")
    mapping = control_map(catalog, frameworks)
    checks: list[CheckSpec] = [c for c in catalog.checks if c.id in mapping]
    kept, passes = evaluate_counting_passes(estate, checks, as_of=as_of, progress=progress)

    # Tally per check first (cheap), then roll the checks up into their frameworks.
    tally = {c.id: [passes.get(c.id, 0), 0, 0] for c in checks}  # passed, failed, unknown
    failed: list[CheckResult] = []
    unknown: list[CheckResult] = []
    failing_checks: set[str] = set()
    for result in kept:
        if result.status == "fail":
            failed.append(result)
            tally[result.check.id][1] += 1
            failing_checks.add(result.check.id)
        else:
            unknown.append(result)
            tally[result.check.id][2] += 1

    per_framework = {f: FrameworkResult(f, None) for f in frameworks}
    weighted = {f: [0.0, 0.0] for f in frameworks}  # passed weight, decided weight
    assessed: dict[str, set[str]] = {f: set() for f in frameworks}
    gaps: dict[str, set[str]] = {f: set() for f in frameworks}
    total_passed = total_decided = 0.0
    for check in checks:
        passed_n, failed_n, unknown_n = tally[check.id]
        if passed_n + failed_n + unknown_n == 0:
            continue
        weight = SEVERITY_WEIGHTS[check.severity]
        total_passed += weight * passed_n
        total_decided += weight * (passed_n + failed_n)
        controls = mapping[check.id]
        for framework in dict.fromkeys(c.framework for c in controls):
            counted = per_framework[framework]
            counted.checks_passed += passed_n
            counted.checks_failed += failed_n
            counted.checks_unknown += unknown_n
            weighted[framework][0] += weight * passed_n
            weighted[framework][1] += weight * (passed_n + failed_n)
        for control in controls:
            assessed[control.framework].add(control.control_id)
            if check.id in failing_checks:
                gaps[control.framework].add(control.control_id)
    for framework, counted in per_framework.items():
        counted.checks_evaluated = (
            counted.checks_passed + counted.checks_failed + counted.checks_unknown
        )
        counted.score = _score(*weighted[framework])
        counted.controls_assessed = len(assessed[framework])
        counted.controls_with_gaps = len(gaps[framework])
    return Assessment(
        frameworks=tuple(frameworks),
        resources_scanned=len(estate),
        failed=failed,
        unknown_results=unknown,
        mapping=mapping,
        analogy=_analogy(catalog, frameworks),
        framework_results=per_framework,
        aggregate_score=_score(total_passed, total_decided),
        checks_passed=sum(passes.values()),
    )
