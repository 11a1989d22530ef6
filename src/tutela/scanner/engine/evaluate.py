"""Run the catalogue's checks over an estate: each check only against the types it applies to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from tutela.scanner.catalog.checks import CheckSpec
from tutela.scanner.engine.conditions import Compiled, Context, Tri, compile_condition
from tutela.scanner.engine.evaluators import EVALUATORS
from tutela.scanner.estate import Estate, Resource

Status = Literal["pass", "fail", "unknown"]
Progress = Callable[[int, int], None]  # (check-resource pairs done, pairs in all)
_STATUS: dict[Tri, Status] = {True: "pass", False: "fail", None: "unknown"}


@dataclass(slots=True)
class CheckResult:
    """One check decided (or not) for one resource, with the values it read."""

    check: CheckSpec
    resource: Resource
    status: Status
    evidence: Evidence


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


def _evaluate(
    estate: Estate,
    checks: Iterable[CheckSpec],
    as_of: dt.date,
    *,
    keep_passes: bool,
    progress: Progress | None = None,
) -> tuple[list[CheckResult], dict[str, int]]:
    """Every applicable (check, resource) pair decided, grouped by resource type, in estate order.

    Returns the results kept (every one, or all but the passes) and the passes counted per check.
    This loop runs once per pair: hundreds of thousands of times for a large estate.
    ``progress`` is told the pairs done and the total after each check on each type.
    """
    by_type: dict[str, list[CompiledCheck]] = {}
    for spec in checks:
        compiled = compile_check(spec, as_of)
        for resource_type in spec.resource_types:
            by_type.setdefault(resource_type, []).append(compiled)
    kept: list[CheckResult] = []
    passes: dict[str, int] = {}
    done = total = 0
    if progress is not None:
        total = sum(len(estate.of_type(t)) * len(by_type[t]) for t in estate.types if t in by_type)
    for resource_type in estate.types:
        compiled_checks = by_type.get(resource_type)
        if not compiled_checks:
            continue
        resources = estate.of_type(resource_type)
        for compiled in compiled_checks:
            spec, applies, rule = compiled.spec, compiled.applies, compiled.rule
            ctx = Context(resources[0], estate, [])
            passed = 0
            for resource in resources:
                ctx.resource = resource
                evidence: list[tuple[str, Any]] = []
                ctx.evidence = evidence
                if applies is not None:
                    applicable = applies(ctx, resource)
                    if applicable is False:
                        continue
                    if applicable is None:
                        kept.append(CheckResult(spec, resource, "unknown", tuple(evidence)))
                        continue
                    evidence.clear()
                outcome = rule(ctx, resource)
                if outcome is True and not keep_passes:
                    passed += 1
                else:
                    kept.append(CheckResult(spec, resource, _STATUS[outcome], tuple(evidence)))
            if passed:
                passes[spec.id] = passes.get(spec.id, 0) + passed
            if progress is not None:
                done += len(resources)
                progress(done, total)
    return kept, passes


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
) -> tuple[list[CheckResult], dict[str, int]]:
    """The failing and undecided results, and only a count of passes per check id.

    Passes are most results on a healthy estate; not keeping them saves time and memory.
    """
    return _evaluate(estate, checks, as_of, keep_passes=False, progress=progress)
