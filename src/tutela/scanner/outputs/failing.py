"""Failing checks, one per (check, resource) with the controls they breach: what SARIF, JUnit and
the table show. Built from an assessment directly (fast, for large scans) or from a report
document (for a report read back from the API)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, overload

from tutela.scanner.catalog.checks import SEVERITIES
from tutela.scanner.engine.assess import Assessment
from tutela.scanner.engine.evaluate import CheckResult

_ORDER: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}


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
    controls: tuple[str, ...]
    frameworks: tuple[str, ...]
    evidence: tuple[tuple[str, Any], ...]


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
        self._results = assessment.failed_in_order(limit)  # already in the rows' order
        # The check's fields, then the resource's, then the controls and frameworks (the same
        # for each resource the check fails on), then the evidence.
        self._about_check: dict[str, tuple[str, str, str, str, str]] = {}
        self._mapped = {
            check_id: (
                tuple(sorted({c.control_id for c in controls})),
                tuple(dict.fromkeys(c.framework for c in controls)),
            )
            for check_id, controls in assessment.mapping.items()
        }

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
        first: dict[str, CheckResult] = {}
        for result in self._results:
            first.setdefault(result.check.id, result)
        return self._rows(list(first.values()))

    def _rows(self, results: list[CheckResult]) -> list[FailingCheck]:
        about_check, mapped, make = self._about_check, self._mapped, tuple.__new__
        rows = []
        for result in results:
            check, resource = result.check, result.resource
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
                        *mapped[check.id],
                        result.evidence,
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
                controls=tuple(sorted({f["control_id"] for f in findings})),
                frameworks=tuple(dict.fromkeys(f["framework"] for f in findings)),
                evidence=tuple((e["path"], e["value"]) for e in first.get("evidence", [])),
            )
        )
    return _sorted(rows)
