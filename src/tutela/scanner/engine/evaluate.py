"""Run the catalogue's checks over an estate: each check only against the types it applies to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from tutela.scanner.catalog.checks import CheckSpec
from tutela.scanner.engine.conditions import Compiled, Context, Tri, compile_condition
from tutela.scanner.engine.evaluators import EVALUATORS
from tutela.scanner.estate import SUBSCRIPTION_TYPE, Estate, Resource

Status = Literal["pass", "fail", "unknown"]
Progress = Callable[[int, int], None]  # (check-resource pairs done, pairs in all)
_STATUS: dict[Tri, Status] = {True: "pass", False: "fail", None: "unknown"}


@dataclass(slots=True)
class CheckResult:
    """One check decided (or not) for one resource, with the values it read.

    ``mapping_class`` is the resource's class (``engine.mapping``): results of one check and class
    count for the same controls. None stands for the resource's type.
    """

    check: CheckSpec
    resource: Resource
    status: Status
    evidence: Evidence
    mapping_class: Hashable = None


Evidence = tuple[tuple[str, Any], ...]
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def evidence_key(evidence: Evidence) -> Hashable | None:
    """A dict key under which equal evidence is always written the same; None if there is none.

    A large scan's results saw only a few hundred distinct evidence tuples, so writers cache what
    they make of one. Equal values must also print the same: ``True == 1`` and ``0.0 == -0.0``
    do not, so the key holds the values' types, and only strings, integers, booleans and None
    (whose equal values of one type print alike) are cached; other evidence gets no key. The
    common case, every value a string, is the evidence itself (it cannot equal a keyed pair).
    """
    for _, value in evidence:
        if type(value) is not str:
            break
    else:
        return evidence
    kinds = tuple([type(value) for _, value in evidence])
    return (evidence, kinds) if _PLAIN_TYPES.issuperset(kinds) else None


@dataclass(slots=True)
class CompiledCheck:
    spec: CheckSpec
    applies: Compiled | None
    rule: Compiled  # called with the context and its resource


def compile_check(spec: CheckSpec, as_of: dt.date) -> CompiledCheck:
    applies = compile_condition(spec.applies_if) if spec.applies_if else None
    if spec.pass_if is not None:  # the condition is the rule: no call in between
        return CompiledCheck(spec, applies, compile_condition(spec.pass_if))
    assert spec.evaluator is not None
    evaluator = EVALUATORS.get(spec.evaluator)
    if evaluator is None:
        raise KeyError(f"check {spec.id} names unknown evaluator {spec.evaluator!r}")
    params = spec.params

    def rule(ctx: Context, _resource: Resource) -> Tri:
        return evaluator(ctx, params, as_of)

    return CompiledCheck(spec, applies, rule)


# Resources of one type by mapping class (``ControlMap.groups``), and whether the pairs of a check
# and a class count for anything (``ControlMap.counts``): those that do not are never decided.
Groups = Callable[[str, list[Resource]], list[tuple[Hashable, list[Resource]]]]
Counts = Callable[[str, Hashable], bool]
# (check id, mapping class) → [passed, failed, unknown]: the pairs decided, counted.
Tally = dict[tuple[str, Hashable], list[int]]
# (check id, mapping class) → the resources that passed and, at the same index, the evidence each
# passed on. Equal evidence is one shared tuple: a large scan's passes saw a few ten thousand
# distinct evidence tuples for a few hundred thousand passes (bench/generate.py 100000), and
# kept apart they cost memory and the cyclic collector's time.
Passes = dict[tuple[str, Hashable], tuple[list[Resource], list[Evidence]]]


def _evaluate(
    estate: Estate,
    checks: Iterable[CheckSpec],
    as_of: dt.date,
    *,
    keep_passes: bool,
    progress: Progress | None = None,
    groups: Groups | None = None,
    counts: Counts | None = None,
    passes: Passes | None = None,
) -> tuple[list[CheckResult], Tally]:
    """Every applicable (check, resource) pair decided, by resource type and class, in estate order.

    An undescribed subscription (``Resource.undescribed_subscription``: implied by a template's
    or plan's resources, its pricings and policy assignments unseen) is in no pair at all: not
    unknown, not counted.

    Returns the results kept (every one, or all but the passes) and the pairs counted per check
    and class. Passes not kept as results are put in ``passes``, if given: a resource and a
    reference to a shared evidence tuple per pass, rather than a ``CheckResult``. This loop
    runs once per pair: hundreds of thousands of times for a large estate; classes cost nothing
    in it, since each class's resources are run through as one list.
    ``progress`` is told the pairs done and the total after each check on each type.
    """
    by_type: dict[str, list[CompiledCheck]] = {}
    for spec in checks:
        compiled = compile_check(spec, as_of)
        for resource_type in spec.resource_types:
            by_type.setdefault(resource_type, []).append(compiled)
    kept: list[CheckResult] = []
    tally: Tally = {}
    shared: dict[Hashable, Evidence] = {}  # evidence_key → the one tuple of that evidence
    done = total = 0
    if progress is not None:
        total = sum(
            len(_assessed(estate, t)) * len(by_type[t]) for t in estate.types if t in by_type
        )
    for resource_type in estate.types:
        compiled_checks = by_type.get(resource_type)
        if not compiled_checks:
            continue
        resources = _assessed(estate, resource_type)
        if not resources:
            continue
        classes = groups(resource_type, resources) if groups else [(resource_type, resources)]
        for compiled in compiled_checks:
            spec, applies, rule = compiled.spec, compiled.applies, compiled.rule
            for mapping_class, members in classes:
                if counts is not None and not counts(spec.id, mapping_class):
                    continue
                ctx = Context(members[0], estate, [])
                passed = unknown = 0
                before = len(kept)
                passing: tuple[list[Resource], list[Evidence]] | None = (
                    None if passes is None else ([], [])
                )
                for resource in members:
                    ctx.resource = resource
                    evidence: list[tuple[str, Any]] = []
                    ctx.evidence = evidence
                    if applies is not None:
                        applicable = applies(ctx, resource)
                        if applicable is False:
                            continue
                        if applicable is None:
                            kept.append(
                                CheckResult(
                                    spec, resource, "unknown", tuple(evidence), mapping_class
                                )
                            )
                            unknown += 1
                            continue
                        evidence.clear()
                    outcome = rule(ctx, resource)
                    if outcome is True and not keep_passes:
                        passed += 1
                        if passing is not None:
                            seen = tuple(evidence)
                            key = evidence_key(seen)
                            passing[0].append(resource)
                            passing[1].append(seen if key is None else shared.setdefault(key, seen))
                    else:
                        if outcome is None:
                            unknown += 1
                        kept.append(
                            CheckResult(
                                spec, resource, _STATUS[outcome], tuple(evidence), mapping_class
                            )
                        )
                if keep_passes:  # (the passes were kept: they are the rest)
                    passed = sum(r.status == "pass" for r in kept[before:])
                failed = len(kept) - before - unknown - (passed if keep_passes else 0)
                if passes is not None and passing and passing[0]:  # a class may span types
                    into = passes.setdefault((spec.id, mapping_class), ([], []))
                    into[0].extend(passing[0])
                    into[1].extend(passing[1])
                if passed or failed or unknown:
                    counted = tally.setdefault((spec.id, mapping_class), [0, 0, 0])
                    counted[0] += passed
                    counted[1] += failed
                    counted[2] += unknown
            if progress is not None:
                done += len(resources)
                progress(done, total)
    return kept, tally


def _assessed(estate: Estate, resource_type: str) -> list[Resource]:
    """The resources of a type that its checks assess: all but undescribed subscriptions."""
    resources = estate.of_type(resource_type)
    if resource_type != SUBSCRIPTION_TYPE:
        return resources
    return [resource for resource in resources if not resource.undescribed_subscription]


def evaluate_estate(
    estate: Estate, checks: Iterable[CheckSpec], *, as_of: dt.date
) -> list[CheckResult]:
    """Every applicable (check, resource) pair, grouped by resource type, in estate order."""
    return _evaluate(estate, checks, as_of, keep_passes=True)[0]


def evaluate_counting_passes(
    estate: Estate,
    checks: Iterable[CheckSpec],
    *,
    as_of: dt.date,
    progress: Progress | None = None,
    groups: Groups | None = None,
    counts: Counts | None = None,
    passes: Passes | None = None,
) -> tuple[list[CheckResult], Tally]:
    """The failing and undecided results, and the pairs counted per check and class.

    Passes are most results on a healthy estate; not keeping them as results saves time and
    memory. ``passes``, if given, receives each one compactly: its resource and evidence (what
    a report's ``passed`` member shows). ``groups`` splits each type's resources by class (by
    default a type is one class, its own name); ``counts`` leaves out the pairs of a check and
    class that count for nothing.
    """
    return _evaluate(
        estate,
        checks,
        as_of,
        keep_passes=False,
        progress=progress,
        groups=groups,
        counts=counts,
        passes=passes,
    )
