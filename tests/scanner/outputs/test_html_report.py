"""The HTML report: one file that fetches nothing, escapes everything, and shows the scores,
the charts and the failing checks."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tests.scanner.engine.cases import make_resource
from tests.scanner.outputs.conftest import SCAN_TS, small_catalog
from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Estate
from tutela.scanner.outputs.check_help import help_uri
from tutela.scanner.outputs.failing import FailingRows, failing_checks
from tutela.scanner.outputs.html_report import write_html
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import read_estate

FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures"
HOSTILE = '<script>alert("x")</script><img src=http://evil.example/x>'


class Page(HTMLParser):
    """Every tag with its attributes, the text, and what style elements hold."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def page_of(path: Path, max_rows: int | None = None) -> tuple[str, FailingRows, dict[str, Any]]:
    catalog = load_catalog()
    assessment, report = run_scan(
        read_estate([path]),
        [f.id for f in catalog.frameworks],
        scan_ts=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        record_passes=False,
        report_id="COMP-20261201-000000",
    )
    rows = FailingRows(assessment)
    out = io.BytesIO()
    if max_rows is None:
        write_html(out, report.header, rows)
    else:
        write_html(out, report.header, rows, max_rows=max_rows)
    return out.getvalue().decode("utf-8"), rows, report.header


def assert_fetches_nothing(page: Page, html: str) -> None:
    assert not page.named("script")
    assert not page.named("link")  # no stylesheet, no web font, no icon
    for tag in ("iframe", "object", "embed", "base"):
        assert not page.named(tag), tag
    for _, attrs in page.tags:
        for name in ("src", "srcset", "poster", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith("data:"), (name, value)
    style = "".join(page.styles)
    for fetching in ("@import", "url(", "@font-face"):
        assert fetching not in style
    policy = page.named("meta")[1]
    assert policy["http-equiv"] == "Content-Security-Policy"
    assert str(policy["content"]).startswith("default-src 'none'")
    # Links are for the reader to follow (the checks' documentation), never loaded.
    for attrs in page.named("a"):
        assert str(attrs["href"]).startswith(help_uri("X").split("#")[0])
    assert "http://evil" not in html.replace("&lt;img src=http://evil", "")


def test_the_page_holds_everything_and_fetches_nothing() -> None:
    html, rows, header = page_of(FIXTURES / "tf_plan_ai_landing_zone.json")
    page = Page(html)
    assert_fetches_nothing(page, html)
    images = page.named("img")
    assert len(images) == 2  # scores by framework, findings by severity
    for image in images:
        assert str(image["alt"]).startswith(("Compliance score by framework", "Findings by"))
        svg = base64.b64decode(str(image["src"]).split(",", 1)[1]).decode()
        assert "<script" not in svg
        assert "@import" not in svg
        # Namespaces name, they do not fetch: nothing else may point outside the document.
        outside = re.findall(r'(?:href|src)="(?!#)[^"]*"|url\((?!#)[^)]*\)', svg)
        assert outside == []
    text = " ".join(page.text)
    assert "COMP-20261201-000000" in text
    for framework in load_catalog().frameworks:
        assert framework.name in text
    for row in rows[:]:
        assert row.check_id in text
        source, _, address = str(row.origin).partition(": ")
        assert address in page.text  # where it is declared: the Terraform address
        assert f"in {source}" in page.text
    assert f"High {header['high_count']}" in " ".join(text.split())


def test_a_hostile_resource_name_is_shown_not_run() -> None:
    estate = Estate(
        [
            make_resource(
                {
                    "type": "microsoft.cognitiveservices/accounts",
                    "name": HOSTILE,
                    "properties": {"customSubDomainName": "</style><script>x</script>"},
                    "diagnostic_settings": [],
                }
            )
        ]
    )
    _, report = run_scan(
        estate, ["iso42001"], scan_ts=SCAN_TS, catalog=small_catalog(), record_passes=False
    )
    out = io.BytesIO()
    write_html(out, report.header, failing_checks(report.to_dict()))
    html = out.getvalue().decode()
    page = Page(html)
    assert_fetches_nothing(page, html)
    assert HOSTILE in "".join(page.text)  # shown as text
    assert "&lt;script&gt;" in html


def test_a_large_scan_lists_the_first_rows_and_says_how_many_there_are() -> None:
    html, rows, _ = page_of(FIXTURES / "tf_plan_ai_landing_zone.json", max_rows=5)
    page = Page(html)
    body_rows = [attrs for attrs in page.named("td") if "sev" in str(attrs.get("class"))]
    assert len(body_rows) == 5
    assert f"The first 5 of {len(rows)} failing checks" in " ".join(" ".join(page.text).split())


def test_a_clean_scan_says_so() -> None:
    assessment, report = run_scan(
        Estate([]), ["iso42001"], scan_ts=SCAN_TS, catalog=small_catalog(), record_passes=False
    )
    out = io.BytesIO()
    write_html(out, report.header, FailingRows(assessment))
    html = out.getvalue().decode()
    page = Page(html)
    assert_fetches_nothing(page, html)
    assert "No failing checks." in page.text
    assert not page.named("img")  # nothing scored, nothing found: no chart to draw
