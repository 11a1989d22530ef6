"""The report as one self-contained HTML file: scores per framework, findings by severity, the
portal's charts, what reading the inputs left out (the report's ``notes``) and never looked at
(``not_evaluated``), and the failing checks (a resource deployed under a template condition not
decided offline marked "conditional").

Everything is in the file: the CSS inline, the charts SVG drawn by pygal as ``data:`` images
(``outputs.charts``, shared with the portal), no script, no font, no stylesheet or image fetched; a
Content-Security-Policy in the page says so to the browser. Every text is escaped by Jinja2's
autoescape: a resource named ``<script>`` is shown, never run. A large scan's table shows the
first ``MAX_ROWS`` failing checks and says how many there are; the other formats hold them all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import IO, Any, Final

from jinja2 import Environment, PackageLoader

from tutela import __version__
from tutela.scanner.catalog.checks import SEVERITIES
from tutela.scanner.not_evaluated import one_line, unnoted
from tutela.scanner.outputs.check_help import help_uri
from tutela.scanner.outputs.failing import FailingCheck
from tutela.scanner.outputs.report import json_default

MAX_ROWS: Final = 2_000  # failing checks the page lists; a browser stays quick with this many


def write_html(
    handle: IO[bytes],
    header: Mapping[str, Any],
    failing: Sequence[FailingCheck],
    *,
    max_rows: int = MAX_ROWS,
) -> None:
    """Write the report's page: ``failing`` (most severe first) may hold more than it lists."""
    from tutela.scanner.outputs import charts

    counts: dict[str, int] = {
        severity: int(header.get(f"{severity}_count") or 0) for severity in SEVERITIES
    }
    frameworks = _frameworks(header)
    drawn = (
        charts.framework_scores({f["name"]: f["scores"].get("score") for f in frameworks}),
        charts.severity_counts(counts),
    )
    template = _environment().get_template("report.html")
    page = template.render(
        title="Tutela compliance report",
        header=header,
        version=__version__,
        severity_counts=counts,
        charts=[chart for chart in drawn if chart is not None],
        frameworks=frameworks,
        rows=list(failing[:max_rows]),
        total=len(failing),
        score=_score,
        shown=_shown,
        controls=_controls,
        help_uri=help_uri,
        one_line=one_line,
        not_evaluated=unnoted(header.get("not_evaluated") or ()),
    )
    handle.write(page.encode("utf-8"))


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("tutela.scanner.outputs", "html"),
        autoescape=True,  # every value, whatever the template's name
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _frameworks(header: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each scored framework's id, display name (from the shipped catalogue) and scores."""
    from tutela.scanner.catalog import load_catalog

    names = {framework.id: framework.name for framework in load_catalog().frameworks}
    scores: Mapping[str, Mapping[str, Any]] = header.get("framework_scores") or {}
    return [
        {"id": framework_id, "name": names.get(framework_id, framework_id), "scores": scored}
        for framework_id, scored in scores.items()
    ]


def _score(value: Any) -> str:
    return "n/a" if value is None else f"{value}/100"


def _shown(value: Any) -> str:
    """An evidence value as JSON (unresolved values as ``<unknown>``), escaped by the page."""
    return json.dumps(value, default=json_default, ensure_ascii=False)


def _controls(row: FailingCheck) -> list[tuple[str, str | None]]:
    """Each control id, and its mapping unless direct (as ``FailingCheck.controls_shown``)."""
    return [
        (control, None if mapping == "direct" else mapping)
        for control, mapping in zip(row.controls, row.mappings, strict=True)
    ]
