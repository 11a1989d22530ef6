"""Failing checks, one per (check, resource) with the controls they count for and how strongly:
what SARIF, JUnit and the table show. Built from an assessment directly (fast, for large scans)
or from a report document (for a report read back from the API)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, overload

from tutela.scanner.catalog.checks import SEVERITIES
from tutela.scanner.engine.assess import Assessment
from tutela.scanner.engine.evaluate import CheckResult

_ORDER: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
_Mapped = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # controls, mappings, frameworks


class FailingCheck(NamedTuple):
    """A check failing on one resource (a tuple: hundreds of thousands are made per large scan)."""

    check_id: str
    severity: str
    title: str
    description: str
    remediation: str
    resource: str
    resource_name: str
    resource_type: str
    origin: str | None
    controls: tuple[str, ...]  # control ids, sorted
    mappings: tuple[str, ...]  # each control's mapping: "direct", "supporting", "by analogy"
    frameworks: tuple[str, ...]
    evidence: tuple[tuple[str, Any], ...]
    ai_workload: str | None  # why a general-purpose resource belongs to an AI workload
    # A template deploys the resource under a condition not decided offline.
    conditional: bool = False

    def controls_shown(self) -> list[str]:
        """The control ids, each not mapped directly followed by its mapping in brackets."""
        return [
            control if mapping == "direct" else f"{control} ({mapping})"
            for control, mapping in zip(self.controls, self.mappings, strict=True)
        ]


def _sorted(rows: Iterable[FailingCheck]) -> list[FailingCheck]:
    return sorted(rows, key=lambda r: (_ORDER[r.severity], r.check_id, r.resource))


def failing_checks_of(assessment: Assessment, limit: int | None = None) -> list[FailingCheck]:
    """The assessment's failing checks, most severe first; only the first ``limit`` if given."""
    return FailingRows(assessment, limit)[:]


class FailingRows(Sequence[FailingCheck]):
    """An assessment's failing checks in report order, each row made when it is read.

    A row is made once per failing result (hundreds of thousands in a large scan): the fields
    that come from the check are gathered once per check, and the row is made as the tuple
    ``FailingCheck._make`` would make, without calling the generated ``__new__`` per row. Made
    on demand, the rows of a long report are made block by block by whichever process writes
    the block (``outputs.turns``).
    """

    def __init__(self, assessment: Assessment, limit: int | None = None) -> None:
        self._assessment = assessment
        self._results = assessment.failed_in_order(limit)  # already in the rows' order
        # The check's fields, then the resource's, then the controls, mappings and frameworks
        # (the same for each resource of one class the check fails on), then the evidence.
        self._about_check: dict[str, tuple[str, str, str, str, str]] = {}
        # (check id, the result's mapping class) → its mapped fields, and whether its resources
        # belong to an AI workload (each then says why).
        self._per_class: dict[tuple[str, Hashable], tuple[_Mapped, bool]] = {}
        self._first: list[CheckResult] | None = None

    def __len__(self) -> int:
        return len(self._results)

    @property
    def results(self) -> list[CheckResult]:
        """The failing results the rows are made from, in the rows' order (one per row)."""
        return self._results

    @overload
    def __getitem__(self, index: int) -> FailingCheck: ...

    @overload
    def __getitem__(self, index: slice) -> list[FailingCheck]: ...

    def __getitem__(self, index: int | slice) -> FailingCheck | list[FailingCheck]:
        if isinstance(index, slice):
            return self._rows(self._results[index])
        return self._rows([self._results[index]])[0]

    def first_per_check(self) -> list[FailingCheck]:
        """Each failing check's first row, in the rows' order."""
        return self._rows(self.first_results())

    def per_class(self, result: CheckResult) -> tuple[_Mapped, bool]:
        """The result's controls (sorted), their mappings and its frameworks, and whether its
        resource belongs to an AI workload: the same for every result of its check and class."""
        key = (result.check.id, result.mapping_class)
        found = self._per_class.get(key)
        if found is None:
            assessment = self._assessment
            counted = sorted(assessment.controls_for(result), key=lambda c: c[0].control_id)
            mapped = (
                tuple(control.control_id for control, _ in counted),
                tuple(mapping for _, mapping in counted),
                assessment.frameworks_of(result),
            )
            found = self._per_class[key] = (mapped, assessment.ai_workload(result) is not None)
        return found

    def ai_workload(self, result: CheckResult) -> str | None:
        """Why the result's general-purpose resource belongs to an AI workload; else None."""
        return self._assessment.ai_workload(result)

    def controls_per_check(self) -> dict[str, tuple[list[str], list[str]]]:
        """check id → every control its failing results count for (sorted), and frameworks."""
        found = {}
        for check_id in dict.fromkeys(result.check.id for result in self.first_results()):
            counted = self._assessment.controls_failed(check_id)
            found[check_id] = (
                sorted(control.control_id for control, _ in counted),
                list(dict.fromkeys(control.framework for control, _ in counted)),
            )
        return found

    def first_results(self) -> list[CheckResult]:
        """Each failing check's first result, in the rows' order."""
        if self._first is None:
            first: dict[str, CheckResult] = {}
            for result in self._results:
                first.setdefault(result.check.id, result)
            self._first = list(first.values())
        return self._first

    def _rows(self, results: list[CheckResult]) -> list[FailingCheck]:
        about_check, make = self._about_check, tuple.__new__
        per_class, class_fields = self._per_class, self.per_class
        workload_of = self._assessment.ai_workload
        rows = []
        for result in results:
            check, resource = result.check, result.resource
            found = per_class.get((check.id, result.mapping_class)) or class_fields(result)
            fields = about_check.get(check.id)
            if fields is None:
                fields = about_check[check.id] = (
                    check.id,
                    check.severity,
                    check.title,
                    check.description,
                    check.remediation,
                )
            rows.append(
                make(
                    FailingCheck,
                    (
                        *fields,
                        resource.id,
                        resource.name,
                        resource.type,
                        resource.origin,
                        *found[0],
                        result.evidence,
                        workload_of(result) if found[1] else None,
                        resource.conditional is not None,
                    ),
                )
            )
        return rows


def failing_checks(report: Mapping[str, Any]) -> list[FailingCheck]:
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for finding in report.get("findings", []):
        if finding.get("status") == "fail":
            grouped.setdefault((finding["check_id"], finding["resource"]), []).append(finding)
    rows = []
    for (check_id, resource), findings in grouped.items():
        first = findings[0]
        # A finding without a mapping (a report made elsewhere) is read as mapped directly.
        mapped = sorted({f["control_id"]: f.get("mapping", "direct") for f in findings}.items())
        rows.append(
            FailingCheck(
                check_id=check_id,
                severity=first["severity"],
                title=first["title"],
                description=first["description"],
                remediation=first["remediation"],
                resource=resource,
                resource_name=first["resource_name"],
                resource_type=first["resource_type"],
                origin=first.get("origin"),
                controls=tuple(control for control, _ in mapped),
                mappings=tuple(mapping for _, mapping in mapped),
                frameworks=tuple(dict.fromkeys(f["framework"] for f in findings)),
                evidence=tuple((e["path"], e["value"]) for e in first.get("evidence", [])),
                ai_workload=first.get("ai_workload"),
                conditional=first.get("conditional") is True,
            )
        )
    return _sorted(rows)
