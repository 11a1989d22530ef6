"""One scan, end to end, for every caller (CLI, API, workers): estate in, report document out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from tutela.scanner.acceptance import Acceptance
from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.engine.assess import Assessment, assess
from tutela.scanner.engine.evaluate import Progress
from tutela.scanner.estate import Estate
from tutela.scanner.narrative import Narrator
from tutela.scanner.not_evaluated import unchecked
from tutela.scanner.outputs.report import report_header
from tutela.scanner.outputs.report_json import ReportDocument


class UnknownFrameworks(ValueError):
    """Framework ids the catalogue does not have, or a list that names none (``unknown`` empty)."""

    def __init__(self, unknown: Sequence[str], valid: Sequence[str]) -> None:
        named = f"unknown framework(s) {', '.join(unknown)}" if unknown else "no framework named"
        super().__init__(f"{named}; valid ids: {', '.join(valid)}")
        self.unknown = list(unknown)
        self.valid = list(valid)


def resolve_frameworks(requested: Sequence[str] | None, catalog: Catalog) -> tuple[str, ...]:
    """The frameworks to scan, in catalogue order; all of them when ``requested`` is None.

    A list that names no framework (``[]``, ``[" ", ""]``) is refused, never read as "none": a
    scan against no framework would pass any gate.
    """
    if requested is None:
        return catalog.framework_ids
    wanted = list(dict.fromkeys(f.strip() for f in requested if f.strip()))
    unknown = [f for f in wanted if f not in catalog.framework_ids]
    if unknown or not wanted:
        raise UnknownFrameworks(unknown, catalog.framework_ids)
    return tuple(f for f in catalog.framework_ids if f in wanted)


def run_scan(
    estate: Estate,
    frameworks: Sequence[str],
    *,
    scan_ts: dt.datetime,
    narrator: Narrator | None = None,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
    record_passes: bool = True,
    acceptances: Sequence[Acceptance] = (),
    not_evaluated: Sequence[dict[str, Any]] = (),
    **header_fields: Any,
) -> tuple[Assessment, ReportDocument]:
    """Assess the estate and make its report; findings are narrated when a narrator is given.

    The findings are encoded when the report is written (``ReportDocument.write`` or ``json``);
    the header's totals are ready at once. ``progress`` follows the evaluation. Passes are
    recorded with their evidence (what a stored report keeps) unless ``record_passes`` is
    False, as for ``tutela scan`` without ``--include-passed``. Failing pairs that one of
    ``acceptances`` covers on the scan's date are accepted: listed, never counted
    (``engine.assess``, docs/risk-acceptance.md). The report's ``not_evaluated`` is the
    entries given as ``not_evaluated`` (what reading the inputs found and did not evaluate), then
    the estate's resources no check of the scan applies to (``scanner.not_evaluated``).
    """
    catalog = catalog or load_catalog()
    assessment = assess(
        estate,
        catalog,
        frameworks,
        as_of=scan_ts.date(),
        progress=progress,
        record_passes=record_passes,
        acceptances=acceptances,
    )
    checked = {
        resource_type
        for check in catalog.checks
        if check.id in assessment.control_map.controls
        for resource_type in check.resource_types
    }
    unseen = [*not_evaluated, *unchecked(estate, checked)]
    header = report_header(assessment, scan_ts=scan_ts, not_evaluated=unseen, **header_fields)
    return assessment, ReportDocument(header, assessment, narrator)
