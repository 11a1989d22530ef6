"""The HTML report opened in Chromium from a file: it asks for nothing outside itself, breaks
no content security policy, draws its charts and shows a hostile name as text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.sync_api import Browser

from tests.browser.harness import watched_page
from tests.scanner.engine.cases import make_resource
from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Estate
from tutela.scanner.outputs.failing import FailingRows
from tutela.scanner.outputs.html_report import write_html
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import read_estate

FIXTURES = Path(__file__).parents[1] / "scanner" / "sources" / "fixtures"
PLAN = FIXTURES / "tf_plan_ai_landing_zone.json"
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def test_the_report_renders_offline_with_its_charts(browser: Browser, tmp_path: Path) -> None:
    estate = read_estate([PLAN])
    estate.add(
        make_resource(
            {"type": "microsoft.cognitiveservices/accounts", "name": HOSTILE, "properties": {}}
        )
    )
    catalog = load_catalog()
    assessment, report = run_scan(
        Estate(list(estate)),
        [f.id for f in catalog.frameworks],
        scan_ts=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        record_passes=False,
    )
    path = tmp_path / "report.html"
    with path.open("wb") as handle:
        write_html(handle, report.header, FailingRows(assessment))
    url = path.as_uri()

    with watched_page(browser, url) as (page, watch):
        page.goto(url)
        page.wait_for_load_state("load")
        drawn = page.eval_on_selector_all(
            "img", "images => images.map(i => i.complete && i.naturalWidth > 0)"
        )
        assert drawn == [True, True]
        assert page.locator("script").count() == 0
        assert page.get_by_text(HOSTILE).count() >= 1  # the name, as text
        assert page.get_by_role("heading", name="Failing checks").is_visible()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert watch.problems() == []
