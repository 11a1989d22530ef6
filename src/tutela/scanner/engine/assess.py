"""From check results to findings and scores: what a report says about an estate.

Scoring (documented in catalog/README.md, Scores): every decided (check, resource) pair weighs
its severity (critical 10, high 5, medium 3, low 1) times the strength of its mapping (direct 1,
supporting 0.5, by analogy 0.5). A framework's score is the weighted share of passing pairs among
the decided pairs that count for it, each at the factor of its strongest mapping to one of the
framework's controls; the aggregate score does the same over every pair that counts for any
scanned framework, each pair once, at its strongest factor. A general-purpose resource outside
any AI workload counts for no AI framework (``engine.mapping``). Scores are whole numbers from 0
to 100, and ``None`` when nothing could be decided. Unknown results count neither way; the report
says how many there were. A failing pair under a risk acceptance in force (``scanner.acceptance``)
is accepted: it counts nowhere (no score, severity count, framework count or gate) and the report
lists it with its acceptance.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import operator
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from tutela.scanner.acceptance import Acceptance, ActiveAcceptances
from tutela.scanner.ai_scope import ai_scope
from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import SEVERITIES, Strength
from tutela.scanner.engine.evaluate import (
    CheckResult,
    Evidence,
    Passes,
    Progress,
    Tally,
    evaluate_counting_passes,
)
from tutela.scanner.engine.mapping import (
    STRENGTH_FACTOR,
    ControlMap,
    Counted,
    MappedControl,
    ResourceScope,
    strongest,
)
from tutela.scanner.estate import Estate, Resource

__all__ = [
    "AcceptedResult",
    "Assessment",
    "Finding",
    "FrameworkResult",
    "MappedControl",
    "assess",
]

SEVERITY_WEIGHTS = {"critical": 10, "high": 5, "medium": 3, "low": 1}
_SEVERITY_ORDER: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}


class Finding(NamedTuple):
    """A failing result as evidence against one control: one entry of a report's findings.

    ``mapping`` is the mapping's strength, or "by analogy" where the framework reaches the
    resource (its type, or its kind of that type) only by analogy. ``ai_workload`` says why a
    general-purpose resource belongs to an AI workload; None for any other resource.
    """

    result: CheckResult
    control: MappedControl
    mapping: Strength
    ai_workload: str | None


class AcceptedResult(NamedTuple):
    """A failing result that an acceptance in force covers: reported, never counted."""

    result: CheckResult
    acceptance: Acceptance


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
    checks_accepted: int = 0


class Assessment:
    """Everything the engine concluded about one estate for some frameworks.

    Only failing and undecided results are kept as results (passes are counted, and recorded
    compactly in ``passes`` when asked for: None when not), and only those of pairs that count
    for a scanned framework; findings, one per failing result and control it counts for, are
    produced on demand, in report order.
    """

    def __init__(
        self,
        *,
        frameworks: tuple[str, ...],
        resources_scanned: int,
        failed: list[CheckResult],
        unknown_results: list[CheckResult],
        controls: ControlMap,
        tally: Tally,
        severities: dict[str, str],
        passes: Passes | None = None,
        accepted: list[AcceptedResult] | None = None,
    ) -> None:
        self.frameworks = frameworks
        self.passes = passes
        self.resources_scanned = resources_scanned
        self.failed = failed
        self.unknown_results = unknown_results
        self.control_map = controls
        self.tally = tally
        self._severities = severities
        scored = _Scores(controls, tally, severities)
        self.framework_results = scored.per_framework
        self.aggregate_score = scored.aggregate
        self.severity_counts = scored.severity_counts
        self.checks_passed = sum(counted[0] for counted in tally.values())
        self.checks_failed = len(failed)
        self.checks_unknown = len(unknown_results)
        self.checks_evaluated = self.checks_passed + self.checks_failed + self.checks_unknown
        self._failed_in_order: list[CheckResult] | None = None
        # Accepted pairs are in no tally: counted apart, in report order.
        self.accepted = sorted(accepted or (), key=lambda a: _report_order(a.result))
        self.checks_accepted = len(self.accepted)
        for item in self.accepted:
            for framework in self.frameworks_of(item.result):
                self.framework_results[framework].checks_accepted += 1

    def score_basis(self) -> list[dict[str, Any]]:
        """What the scores were computed from: one entry per check and set of controls counted.

        Each entry gives a check's severity, its decided and undecided pairs (passed, failed,
        unknown) among the resources that count for the same controls, those controls with each
        finding's ``mapping``, and the strongest mapping per framework. The scores follow from
        it alone (catalog/README.md, Scores): a reader can re-score the report with a check's
        failures fixed, or tell a control met from one with gaps, without the estate.
        """
        merged: dict[tuple[str, tuple[Counted, ...]], list[int]] = {}
        for (check_id, mapping_class), counts in self.tally.items():
            counted = self.control_map.counted(check_id, mapping_class)
            if not counted:
                continue
            into = merged.setdefault((check_id, counted), [0, 0, 0])
            for at, count in enumerate(counts):
                into[at] += count
        basis = []
        for (check_id, counted), (passed, failed, unknown) in sorted(
            merged.items(), key=lambda item: (item[0][0], [c.control_id for c, _ in item[0][1]])
        ):
            frameworks: dict[str, str] = {}
            for control, mapping in counted:
                known = frameworks.get(control.framework)
                if known is None or STRENGTH_FACTOR[mapping] > STRENGTH_FACTOR[known]:
                    frameworks[control.framework] = mapping
            basis.append(
                {
                    "check_id": check_id,
                    "severity": self._severities[check_id],
                    "passed": passed,
                    "failed": failed,
                    "unknown": unknown,
                    "frameworks": frameworks,
                    "controls": {control.control_id: mapping for control, mapping in counted},
                }
            )
        return basis

    def passed_by_check(self) -> list[tuple[str, list[Resource], list[Evidence]]]:
        """The recorded passes by check id: each check's resources by resource id, and at the
        same index the evidence each passed on (a report's ``passed``).

        Empty when none were recorded (``passes`` is None: ask the report's ``passed_recorded``).
        """
        by_check: dict[str, tuple[list[Resource], list[Evidence]]] = {}
        for (check_id, _), (resources, evidence) in (self.passes or {}).items():
            into = by_check.setdefault(check_id, ([], []))
            into[0].extend(resources)
            into[1].extend(evidence)
        ordered = []
        for check_id in sorted(by_check):
            resources, evidence = by_check[check_id]
            ids = [resource.id for resource in resources]
            order = sorted(range(len(ids)), key=ids.__getitem__)
            ordered.append((check_id, [resources[i] for i in order], [evidence[i] for i in order]))
        return ordered

    def failed_in_order(self, limit: int | None = None) -> list[CheckResult]:
        """The failing results in report order: most severe first, then by check and resource.

        With ``limit``, only the first ones (found without sorting them all, unless already).
        """
        if self._failed_in_order is None:
            if limit is not None:
                return heapq.nsmallest(limit, self.failed, key=_report_order)
            self._failed_in_order = _in_report_order(self.failed)
        return self._failed_in_order[:limit]

    def mapping_class(self, result: CheckResult) -> Hashable:
        """The result's class: results of one check and class count for the same controls."""
        found = result.mapping_class
        return result.resource.type if found is None else found

    def severity_of(self, check_id: str) -> str:
        """The severity the check's failures count at in this assessment."""
        return self._severities[check_id]

    def controls_for(self, result: CheckResult) -> tuple[Counted, ...]:
        """The controls a result counts for, each with its finding's ``mapping``."""
        return self.control_map.counted(result.check.id, self.mapping_class(result))

    def frameworks_of(self, result: CheckResult) -> tuple[str, ...]:
        """The scanned frameworks a result counts for, in framework order."""
        return tuple(dict.fromkeys(control.framework for control, _ in self.controls_for(result)))

    def ai_workload(self, result: CheckResult) -> str | None:
        """Why the result's general-purpose resource belongs to an AI workload; else None."""
        return self.control_map.ai_workload(result.resource, self.mapping_class(result))

    def controls_failed(self, check_id: str) -> tuple[Counted, ...]:
        """Every control the check's failures are evidence against, each once, in map order."""
        seen: dict[MappedControl, Strength] = {}
        for (check, mapping_class), counted in self.tally.items():
            if check == check_id and counted[1]:
                for control, strength in self.control_map.counted(check, mapping_class):
                    seen.setdefault(control, strength)
        order = {c: i for i, c in enumerate(self.control_map.controls.get(check_id, ()))}
        return tuple(sorted(seen.items(), key=lambda item: order[item[0]]))

    def findings(self) -> Iterator[Finding]:
        """One finding per failing result and control it counts for, in report order.

        Most severe first, then by check id and resource id; a result's findings come together,
        its controls in framework order.
        """
        for result in self.failed_in_order():
            workload = self.ai_workload(result)
            for control, mapping in self.controls_for(result):
                yield Finding(result, control, mapping, workload)


class _Scores:
    """The scores and counts of the pairs tallied per (check, class) (module docstring)."""

    def __init__(self, controls: ControlMap, tally: Tally, severities: dict[str, str]) -> None:
        frameworks = controls.frameworks
        self.per_framework = {f: FrameworkResult(f, None) for f in frameworks}
        self.severity_counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        weighted = {f: [0.0, 0.0] for f in frameworks}  # passed weight, decided weight
        assessed: dict[str, set[str]] = {f: set() for f in frameworks}
        gaps: dict[str, set[str]] = {f: set() for f in frameworks}
        total_passed = total_decided = 0.0
        for (check_id, mapping_class), (passed_n, failed_n, unknown_n) in tally.items():
            counted = controls.counted(check_id, mapping_class)
            if not counted:
                continue
            severity = severities[check_id]
            self.severity_counts[severity] += failed_n * len(counted)
            weight = SEVERITY_WEIGHTS[severity]
            factors = strongest(counted)
            best = max(factors.values())
            total_passed += weight * best * passed_n
            total_decided += weight * best * (passed_n + failed_n)
            for framework, factor in factors.items():
                result = self.per_framework[framework]
                result.checks_passed += passed_n
                result.checks_failed += failed_n
                result.checks_unknown += unknown_n
                weighted[framework][0] += weight * factor * passed_n
                weighted[framework][1] += weight * factor * (passed_n + failed_n)
            for control, _ in counted:
                assessed[control.framework].add(control.control_id)
                if failed_n:
                    gaps[control.framework].add(control.control_id)
        for framework, result in self.per_framework.items():
            result.checks_evaluated = (
                result.checks_passed + result.checks_failed + result.checks_unknown
            )
            result.score = _score(*weighted[framework])
            result.controls_assessed = len(assessed[framework])
            result.controls_with_gaps = len(gaps[framework])
        self.aggregate = _score(total_passed, total_decided)


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


def _score(passed: float, decided: float) -> int | None:
    return None if decided == 0 else round(100 * passed / decided)


def assess(
    estate: Estate,
    catalog: Catalog,
    frameworks: Sequence[str],
    *,
    as_of: dt.date,
    progress: Progress | None = None,
    scope: ResourceScope | None = None,
    record_passes: bool = False,
    acceptances: Sequence[Acceptance] = (),
) -> Assessment:
    """Evaluate the checks that evidence the frameworks' controls, and score the results.

    ``progress``, if given, follows the evaluation (``evaluate_counting_passes``). ``scope``
    says which general-purpose resources belong to an AI workload; by default the estate's own
    (``ai_scope``). ``record_passes`` keeps each passing pair's resource and evidence. A failing
    pair that one of ``acceptances`` covers on ``as_of`` is accepted (``Assessment.accepted``)
    and taken out of the tally; acceptances that expired do nothing.
    """
    unknown_ids = set(frameworks) - set(catalog.framework_ids)
    if unknown_ids:
        raise ValueError(f"unknown frameworks {sorted(unknown_ids)}")
    controls = ControlMap(catalog, frameworks, scope if scope is not None else ai_scope(estate))
    checks = [c for c in catalog.checks if c.id in controls.controls]
    passes: Passes | None = {} if record_passes else None
    kept, tally = evaluate_counting_passes(
        estate,
        checks,
        as_of=as_of,
        progress=progress,
        groups=controls.groups,
        counts=controls.counts,
        passes=passes,
    )
    failed: list[CheckResult] = []
    unknown: list[CheckResult] = []
    for result in kept:
        (failed if result.status == "fail" else unknown).append(result)
    accepted: list[AcceptedResult] = []
    active = ActiveAcceptances(acceptances, as_of)
    if active:
        failed, accepted = _accept(failed, active, tally)
    return Assessment(
        frameworks=tuple(frameworks),
        resources_scanned=estate.scanned,
        failed=failed,
        unknown_results=unknown,
        controls=controls,
        tally=tally,
        severities={c.id: c.severity for c in checks},
        passes=passes,
        accepted=accepted,
    )


def _accept(
    failed: list[CheckResult], active: ActiveAcceptances, tally: Tally
) -> tuple[list[CheckResult], list[AcceptedResult]]:
    """The failures no acceptance covers, and those accepted, each taken out of the tally.

    A (check, class) left with no pair is dropped from the tally: its controls were not
    assessed (an accepted pair is neither met nor a gap).
    """
    still: list[CheckResult] = []
    accepted: list[AcceptedResult] = []
    for result in failed:
        acceptance = active.find(result.check.id, result.resource.id)
        if acceptance is None:
            still.append(result)
            continue
        accepted.append(AcceptedResult(result, acceptance))
        key = (result.check.id, result.mapping_class)
        counted = tally[key]
        counted[1] -= 1
        if not any(counted):
            del tally[key]
    return still, accepted
