"""The portal's pages: Saved reports, one report with its findings, and the diff of two.

They read through the reports' and insights' services, as ``GET /reports``, ``GET /report/{id}``
and ``GET /reports/diff`` do. A report may hold a million findings: its page reads the stored
body a slice at a time, twice (``_Findings``): once for the sort keys of the findings that match
the filters, once for the hundred on the page; neither the report nor its findings are ever
whole in memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.scanner.not_evaluated import one_line, unnoted
from tutela.scanner.outputs import charts
from tutela.server.auth.scopes import Scope
from tutela.server.db import transaction, utcnow
from tutela.server.errors import InvalidInput
from tutela.server.insights.access import InsightFinding, ReportFinding, SavedReport, saved_report
from tutela.server.reports import service as reports
from tutela.server.reports.diff_stream import StoredSide
from tutela.server.reports.ids import REPORT_ID_PATTERN
from tutela.server.reports.models import Report
from tutela.server.reports.service import ReportNotFound
from tutela.server.runtime import RuntimeDep
from tutela.server.web.rendering import Page, open_page

router = APIRouter(include_in_schema=False)

SEVERITIES = ("critical", "high", "medium", "low")
SORTS = {"severity": "Severity", "framework": "Framework", "check": "Check", "resource": "Resource"}
LISTED = 50  # reports per page of the list
RECENT = 50  # reports offered to compare with
FINDINGS_SHOWN = 100  # findings per page of a report
PAGE_LINKS = 2  # page links either side of the current one
UNKNOWN_SHOWN = 200
ACCEPTED_SHOWN = 200  # accepted risks listed on a report's page; the JSON has them all
PASSED_CHECKS = 50  # passing checks shown; their resources, PASSED_RESOURCES each
PASSED_RESOURCES = 20
DIFF_ROWS = 200  # findings per section of a diff's page; the JSON link has them all
Text = Annotated[str, Query(max_length=200)]
_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
_ID = re.compile(REPORT_ID_PATTERN)
_FINDING = msgspec.json.Decoder(ReportFinding)


@router.get("/portal/reports", response_model=None)
def report_list(
    request: Request,
    runtime: RuntimeDep,
    kind: Annotated[str, Query(alias="type", max_length=200)] = "",
    label: Text = "",
    cursor: Text = "",
) -> HTMLResponse:
    page = open_page(request, runtime)
    if not _reads_reports(page):
        return page.not_found("Saved reports")
    report_type = kind if kind in (reports.MANUAL, reports.GOVERNANCE) else None
    with transaction(runtime.sessions, readonly=True) as session:
        try:  # as GET /reports
            rows, next_cursor = reports.list_reports(
                session,
                page.person,
                runtime.catalog,
                utcnow(),
                report_type=report_type,
                cursor=cursor or None,
                limit=LISTED,
                label=label.strip() or None,
            )
        except InvalidInput:  # a cursor that is not ours
            return page.not_found("That page of reports")
    filters = {"type": report_type or "", "label": label.strip()}
    return page.render(
        "reports.html",
        title="Saved reports",
        rows=rows,
        filters=filters,
        filtered=any(filters.values()),
        first_page=not cursor,
        newest=_query(filters),
        older=_query({**filters, "cursor": next_cursor}) if next_cursor else None,
        severities=SEVERITIES,
    )


@dataclass(frozen=True)
class FindingFilter:
    """What the findings table shows, from the page's query: each part optional."""

    severity: str = ""
    framework: str = ""
    check: str = ""
    resource: str = ""  # a substring of the resource id, in any case
    sort: str = "severity"

    def admits(self, finding: InsightFinding) -> bool:
        return (
            (not self.severity or finding.severity == self.severity)
            and (not self.framework or finding.framework == self.framework)
            and (not self.check or finding.check_id == self.check)
            and (not self.resource or self.resource.lower() in str(finding.resource).lower())
        )

    def key(self, finding: InsightFinding, shared: dict[Any, Any]) -> tuple[Any, ...]:
        """The finding's place in the table, before its position in the report breaks ties;
        strings repeated across findings are kept once (``shared``)."""
        rank = _RANK.get(finding.severity, len(_RANK))
        if self.sort == "framework":
            return (shared.setdefault(str(finding.framework), str(finding.framework)), rank)
        if self.sort == "check":
            return (shared.setdefault(str(finding.check_id), str(finding.check_id)),)
        if self.sort == "resource":  # by the name shown, then the id
            return (str(finding.resource_name).lower(), str(finding.resource).lower())
        return (rank,)

    def query(self, **changes: Any) -> str:
        values = {
            "severity": self.severity,
            "framework": self.framework,
            "check": self.check,
            "resource": self.resource,
            "sort": self.sort if self.sort != "severity" else "",
            **changes,
        }
        return _query(values)


@dataclass
class _Findings:
    """The report's findings that match a filter: their positions in table order, the check
    ids found (for the filter's choices) and the members written after the findings: the
    ``source`` and what was left out (``left_out``: the notes, then the not-evaluated entries
    they do not already say, a line each, as the offline HTML report lists them)."""

    positions: list[int] = field(default_factory=list)
    checks: set[str] = field(default_factory=set)
    source: Any = None
    left_out: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, saved: SavedReport, chosen: FindingFilter) -> _Findings:
        keyed: list[tuple[Any, ...]] = []
        shared: dict[Any, Any] = {}
        after: dict[str, Any] = {}
        found = cls()
        position = 0
        for batch in saved.findings(after):
            for finding in batch:
                found.checks.add(shared.setdefault(str(finding.check_id), str(finding.check_id)))
                if chosen.admits(finding):
                    keyed.append((*chosen.key(finding, shared), position))
                position += 1
        keyed.sort()
        found.positions = [key[-1] for key in keyed]
        found.source = after.get("source")
        found.left_out = _left_out(after.get("notes"), after.get("not_evaluated"))
        return found


def _left_out(notes: Any, not_evaluated: Any) -> list[str]:
    """The report's ``notes`` and the ``not_evaluated`` entries they do not say, as lines."""
    lines = [note for note in notes or () if isinstance(note, str)]
    entries = [entry for entry in not_evaluated or () if isinstance(entry, dict)]
    return lines + [one_line(entry) for entry in unnoted(entries)]


@router.get("/portal/reports/{report_id}", response_model=None)
def report_page(
    request: Request,
    runtime: RuntimeDep,
    report_id: str,
    severity: Text = "",
    framework: Text = "",
    check: Text = "",
    resource: Text = "",
    sort: Text = "",
    page_number: Annotated[str, Query(alias="page", max_length=10)] = "",
) -> HTMLResponse:
    page = open_page(request, runtime)
    if not _reads_reports(page):
        return page.not_found("This report")
    caller, catalog = page.person, runtime.catalog
    with transaction(runtime.sessions, readonly=True) as session:
        try:  # as GET /report/{report_id}
            saved = saved_report(session, caller, catalog, runtime.keyring, report_id, utcnow())
        except ReportNotFound:
            return page.not_found(_named(report_id))
        recent, _ = reports.list_reports(
            session, caller, catalog, utcnow(), report_type=None, cursor=None, limit=RECENT
        )
    header = saved.header()
    chosen = FindingFilter(
        severity=severity if severity in SEVERITIES else "",
        framework=framework if framework in header.get("frameworks", ()) else "",
        check=check.strip(),
        resource=resource.strip(),
        sort=sort if sort in SORTS else "severity",
    )
    found = _Findings.read(saved, chosen)
    pages = max(1, math.ceil(len(found.positions) / FINDINGS_SHOWN))
    current = min(max(_number(page_number), 1), pages)
    shown = found.positions[(current - 1) * FINDINGS_SHOWN : current * FINDINGS_SHOWN]
    del found.positions[:]  # (only the page's positions are read again)
    details = saved.details(set(shown), PASSED_CHECKS)
    names = _framework_names(catalog, header.get("frameworks", []))
    scores = {
        names[fid]: (score or {}).get("score")
        for fid, score in (header.get("framework_scores") or {}).items()
        if fid in names
    }
    others = [row for row in recent if row.report_id != saved.report_id]
    older = (row.report_id for row in others if row.created_at <= saved.row.created_at)
    return page.render(
        "report.html",
        title=f"Report {saved.report_id}",
        row=saved.row,
        report=header,
        source=found.source,
        left_out=found.left_out,
        severities=SEVERITIES,
        names=names,
        scores=scores,
        chart=charts.framework_scores(scores),
        chosen=chosen,
        sorts=SORTS,
        checks=sorted(found.checks),
        findings=[details.findings[position] for position in shown],
        matching=(current - 1) * FINDINGS_SHOWN + len(shown) if shown else 0,
        first_shown=(current - 1) * FINDINGS_SHOWN + 1,
        current=current,
        pages=pages,
        page_links=list(_page_links(current, pages)),
        unknown=details.unknown[:UNKNOWN_SHOWN],
        unknown_count=len(details.unknown),
        accepted=details.accepted[:ACCEPTED_SHOWN],
        accepted_count=len(details.accepted),
        passed=details.passed,
        more_passed=details.more_passed,
        passed_resources=PASSED_RESOURCES,
        others=others,
        compare_with=next(older, ""),
    )


@router.get("/portal/diff", response_model=None)
def diff_page(request: Request, runtime: RuntimeDep, a: Text = "", b: Text = "") -> HTMLResponse:
    page = open_page(request, runtime)
    if not _reads_reports(page):
        return page.not_found("The comparison of reports")
    caller, catalog = page.person, runtime.catalog
    with transaction(runtime.sessions, readonly=True) as session:
        recent, _ = reports.list_reports(
            session, caller, catalog, utcnow(), report_type=None, cursor=None, limit=RECENT
        )
        if not a or not b or a == b:
            return _diff_chooser(page, recent, a if a == b else "")
        try:  # as GET /reports/diff
            changes = reports.diff(session, caller, catalog, runtime.keyring, a, b, utcnow())
        except ReportNotFound:
            missing = a if not _exists(session, page, a) else b
            return page.not_found(_named(missing))
    before, after = changes.before, changes.after
    # As the API's diff: a finding of ``a`` that ``b`` accepted still fails; it is not resolved.
    gone = [key for key in before.positions if key not in after.positions]
    accepted_count = sum(1 for key in gone if key[1:] in after.accepted)
    resolved, accepted = _gone(before, after)
    return page.render(
        "diff.html",
        title=f"Changes from {a} to {b}",
        a=a,
        b=b,
        recent=recent,
        diff=changes,
        delta=(
            after.aggregate_score - before.aggregate_score
            if isinstance(before.aggregate_score, int) and isinstance(after.aggregate_score, int)
            else None
        ),
        new=_only_in(after, before),
        resolved=resolved,
        accepted=accepted,
        new_count=sum(1 for key in after.positions if key not in before.positions),
        resolved_count=len(gone) - accepted_count,
        accepted_count=accepted_count,
        unchanged_count=sum(1 for key in after.positions if key in before.positions),
        changed=sorted(after.changes.items())[:DIFF_ROWS],
        changed_count=len(after.changes),
        shown=DIFF_ROWS,
        json_link="/reports/diff?" + urlencode({"report_a": a, "report_b": b}),
    )


def _diff_chooser(page: Page, recent: list[Report], same: str) -> HTMLResponse:
    """The form that picks two reports: by default the latest and the one before it; after
    the same report was asked for twice, that one and the latest other."""
    ids = [row.report_id for row in recent]
    later = next((i for i in ids if i != same), "")
    earlier = same or next((i for i in ids if i != later), "")
    return page.render(
        "diff.html",
        title="Compare reports",
        recent=recent,
        same=_named(same) if same else "",
        earlier=earlier,
        later=later,
        diff=None,
    )


def _only_in(side: StoredSide, other: StoredSide) -> list[ReportFinding]:
    """The first ``DIFF_ROWS`` findings of ``side`` not in ``other``, in the diff's order."""
    rows: list[ReportFinding] = []
    for key, raw in side.in_order():
        if key not in other.positions:
            rows.append(_FINDING.decode(raw))
            if len(rows) == DIFF_ROWS:
                break
    return rows


def _gone(before: StoredSide, after: StoredSide) -> tuple[list[ReportFinding], list[ReportFinding]]:
    """The first ``DIFF_ROWS`` findings of ``before`` not in ``after``: those resolved, and
    those ``after`` accepted (still failing), in the diff's order; one read of ``before``."""
    resolved: list[ReportFinding] = []
    accepted: list[ReportFinding] = []
    for key, raw in before.in_order():
        if key in after.positions:
            continue
        rows = accepted if key[1:] in after.accepted else resolved
        if len(rows) < DIFF_ROWS:
            rows.append(_FINDING.decode(raw))
        elif len(resolved) == len(accepted) == DIFF_ROWS:
            break
    return resolved, accepted


def _exists(session: Session, page: Page, report_id: str) -> bool:
    try:
        saved_report(
            session, page.person, page.runtime.catalog, page.runtime.keyring, report_id, utcnow()
        )
    except ReportNotFound:
        return False
    return True


def _reads_reports(page: Page) -> bool:
    """Reports are a tenant's: an operator (no tenant) or a role without report:read sees none."""
    return page.person.tenant_id is not None and page.may(Scope.REPORT_READ)


def _named(report_id: str) -> str:
    """How a 404 names the report asked for: its id only if it is one (never other input)."""
    return f"Report {report_id}" if _ID.match(report_id) else "The report asked for"


def _framework_names(catalog: Catalog, framework_ids: list[str]) -> dict[str, str]:
    names = {}
    for framework_id in framework_ids:
        try:
            names[framework_id] = catalog.framework(framework_id).name
        except KeyError:  # a framework since retired: its id
            names[framework_id] = framework_id
    return names


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 1


def _page_links(current: int, pages: int) -> Iterator[int | None]:
    """The page numbers to link: the first, the last and those near the current one; None
    where numbers are skipped."""
    near = range(max(1, current - PAGE_LINKS), min(pages, current + PAGE_LINKS) + 1)
    wanted = sorted({1, pages, *near})
    for before, number in zip([0, *wanted], wanted, strict=False):
        if number - before > 1:
            yield None
        yield number


def _query(values: dict[str, Any]) -> str:
    kept = {name: value for name, value in values.items() if value not in ("", None)}
    return "?" + urlencode(kept) if kept else ""
