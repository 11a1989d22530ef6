"""The auditor evidence package as a paginated PDF an examiner can read (fpdf2).

Sections in order: cover, 1 scope, 2 method, 3 coverage table, 4 findings by severity, 5
accepted risks (each accepted pair with its acceptance; the first ``ACCEPTED_ROWS``, the JSON
has every one), 6 attestation and next review, then the evidence appendix (one control table per
framework, and the first passing resources of each control's checks with the values they passed
on).
The built-in Helvetica covers Latin-1 only, so text is folded to it (``_latin``).
"""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from tutela.server.insights.auditor_schemas import (
    AcceptedRisk,
    AuditorPackageReport,
    FrameworkCoverage,
)

ACCEPTED_ROWS = 500  # accepted pairs printed; a glob may accept thousands (the JSON lists all)

_FOLD = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2192": "->",
        "\u2190": "<-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u00a0": " ",
    }
)
_STATUS = {"met": "Met", "gaps": "Gaps", "not_evidenced": "Not evidenced"}
_HEAD = FontFace(emphasis="BOLD", fill_color=(226, 232, 240))


def _latin(text: object) -> str:
    return str(text).translate(_FOLD).encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, report_id: str) -> None:
        super().__init__(format="A4")
        self.report_id = report_id
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(_latin(f"Tutela auditor evidence package - report {report_id}"))
        self.set_author("Tutela")
        self.set_creator("Tutela")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(90, 90, 90)
        self.cell(
            0,
            5,
            _latin(f"Tutela auditor evidence package - report {self.report_id}"),
            align="L",
        )
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.set_font("Helvetica", "B", 14)
        self.cell(0, 8, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Helvetica", size=10)

    def para(self, text: str, size: float = 10) -> None:
        self.set_font("Helvetica", size=size)
        self.multi_cell(0, 5, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def grid(
        self, widths: Sequence[int], head: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        self.set_font("Helvetica", size=8)
        with self.table(
            col_widths=tuple(widths),
            headings_style=_HEAD,
            line_height=4.2,
            text_align="LEFT",
            width=int(self.epw),
        ) as table:
            for values in [head, *rows]:
                row = table.row()
                for value in values:
                    row.cell(_latin(value))
        self.ln(3)


def render(body: AuditorPackageReport) -> bytes:
    """The package as PDF bytes."""
    package = body.auditor_package
    pdf = _Document(body.report_id)
    pdf.alias_nb_pages()

    pdf.add_page()
    pdf.ln(40)
    pdf.set_font("Helvetica", "B", 22)
    pdf.multi_cell(0, 11, "Auditor evidence package", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(
        0, 7, "AI infrastructure compliance on Azure", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(12)
    cover = [
        ("Report", body.report_id),
        ("Plan", body.plan),
        ("Scan time", package.scan_ts),
        ("Package generated", body.generated_at.isoformat(timespec="seconds")),
        ("Frameworks", ", ".join(c.framework for c in package.frameworks_coverage)),
        ("Engine version", package.engine_version),
        ("Catalogue SHA-256", package.catalogue_sha256),
        ("Report SHA-256", package.report_sha256),
    ]
    for label, value in cover:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(42, 6, _latin(label))
        pdf.set_font("Courier" if "SHA" in label else "Helvetica", size=9 if "SHA" in label else 10)
        pdf.multi_cell(0, 6, _latin(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.add_page()
    pdf.heading("1. Assessment scope")
    pdf.para(package.assessment_scope)
    pdf.heading("2. Methodology")
    pdf.para(package.methodology)
    pdf.para(
        "Control status: 'Gaps' when a checked resource failed a check mapped to the control; "
        "'Met' when mapped checks were decided and none failed; 'Not evidenced' when no decided "
        "check reached the control in this scan (it needs other evidence).",
        size=9,
    )

    pdf.heading("3. Framework coverage")
    pdf.grid(
        (34, 62, 16, 18, 16, 18),
        ("Framework", "Standard reference", "Score", "Assessed", "Gaps", "Not evid."),
        [
            (
                c.framework,
                c.standard_reference,
                "-" if c.score is None else f"{c.score}/100",
                f"{c.controls_assessed} of {c.controls_in_catalogue}",
                c.gaps_found,
                c.controls_not_evidenced,
            )
            for c in package.frameworks_coverage
        ],
    )

    pdf.heading("4. Findings by severity")
    summary = package.finding_summary
    pdf.grid(
        (40, 40, 40, 40),
        ("Critical", "High", "Medium", "Low"),
        [(summary.critical, summary.high, summary.medium, summary.low)],
    )
    if package.top_failing_checks:
        pdf.para("Top failing checks:", size=10)
        pdf.grid(
            (34, 70, 20, 20, 40),
            ("Check", "Title", "Severity", "Resources", "Frameworks"),
            [
                (c.check_id, c.title, c.severity, c.resources, ", ".join(c.frameworks))
                for c in package.top_failing_checks
            ],
        )

    _accepted(pdf, package.accepted_risks)

    pdf.heading("6. Attestation and next review")
    pdf.para(package.attestation_statement)
    pdf.para(f"Assessor note: {package.assessor_note}")
    pdf.para(
        f"Recommended next review: {package.recommended_next_review.rstrip('.')} "
        f"(by {package.recommended_next_review_by.isoformat()})."
    )

    for coverage in package.frameworks_coverage:
        _appendix(pdf, coverage)
    return bytes(pdf.output())


def _accepted(pdf: _Document, risks: Sequence[AcceptedRisk]) -> None:
    pdf.heading("5. Accepted risks")
    if not risks:
        pdf.para("None: no failing check was accepted as a risk in this report.")
        return
    pdf.para(
        f"{len(risks)} failing (check, resource) pair{'s' if len(risks) != 1 else ''} "
        f"{'were' if len(risks) != 1 else 'was'} accepted as a risk by an approved exception "
        "until its expiry date: left out of the findings, control statuses and scores above, "
        "and listed here with the acceptance."
        + (
            f" The first {ACCEPTED_ROWS} are printed; the JSON package lists every one."
            if len(risks) > ACCEPTED_ROWS
            else ""
        ),
        size=9,
    )
    pdf.grid(
        (40, 50, 100),
        ("Check", "Resource", "Acceptance"),
        [
            (
                f"{risk.check_id} ({risk.severity})\n{risk.title}",
                f"{risk.resource_name or risk.resource_id}\n{risk.resource_type}",
                "\n".join(
                    [
                        f"Reason: {risk.acceptance.reason}",
                        f"Approved by: {risk.acceptance.approver}",
                        f"Ticket: {risk.acceptance.ticket or '-'}",
                        f"Expires: {risk.acceptance.expires}",
                        f"Exception: {risk.acceptance.id or '- (offline file)'}",
                    ]
                ),
            )
            for risk in risks[:ACCEPTED_ROWS]
        ],
    )


def _appendix(pdf: _Document, coverage: FrameworkCoverage) -> None:
    pdf.add_page()
    pdf.heading(f"Appendix: {coverage.framework} control evidence")
    pdf.para(coverage.standard_reference, size=9)
    pdf.grid(
        (28, 62, 20, 14, 14, 14, 28),
        ("Control", "Title", "Status", "Passed", "Failed", "Unknown", "Strongest mapping"),
        [
            (
                row.reference
                + (" (numbering unconfirmed)" if row.numbering == "unconfirmed" else ""),
                row.title,
                _STATUS[row.status],
                row.checks_passed,
                row.checks_failed,
                row.checks_unknown,
                row.strongest_mapping or "-",
            )
            for row in coverage.controls
        ],
    )
    shown = [(row, pair) for row in coverage.controls for pair in row.passing_evidence]
    if not shown:
        return
    pdf.para(
        "Passing evidence: for each control, the first passing resources of its checks and the "
        "values they passed on (the 'Passed' column counts them all; the full list is "
        "GET /report/{id}?include=passed).",
        size=9,
    )
    pdf.grid(
        (28, 34, 56, 72),
        ("Control", "Check", "Resource", "Evidence (path = value)"),
        [
            (
                row.reference,
                pair.check_id,
                pair.resource.rsplit("/", 1)[-1],
                "; ".join(f"{e.path} = {e.value}" for e in pair.evidence),
            )
            for row, pair in shown
        ],
    )
