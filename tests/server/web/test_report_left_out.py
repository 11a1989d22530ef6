"""A report's page says what the scan left out (``notes``, ``not_evaluated``) under its summary
and marks the rows about resources deployed under an undecided condition "conditional"."""

from __future__ import annotations

import re

from tests.platform import Platform, TenantCtx
from tests.scanner.outputs.test_scope_honesty import VNET, account
from tests.server.reports.test_reports import a_document, minutes_ago, store
from tests.server.scans.test_iac_not_evaluated import template
from tests.server.scans.test_iac_notes import iac
from tests.server.web.test_report_pages import owner  # noqa: F401  (the signed-in fixture)

SECTION = "Left out / not evaluated"
MARKER = '<strong class="conditional"'
HOSTILE_LINK = "https://example.org/<script>alert(1)</script>.json"
LINKED = {
    "type": "Microsoft.Resources/deployments",
    "apiVersion": "2022-09-01",
    "name": "network",
    "properties": {"mode": "Incremental", "templateLink": {"uri": HOSTILE_LINK}},
}


def left_out(html: str) -> list[str]:
    """The lines of the page's "Left out / not evaluated" section."""
    section = re.search(r'<ul class="left-out">(.*?)</ul>', html, re.S)
    return re.findall(r"<li[^>]*>(.*?)</li>", section.group(1), re.S) if section else []


def test_the_page_lists_what_was_left_out_and_marks_conditional_rows(
    platform: Platform,
    owner: TenantCtx,  # noqa: F811
) -> None:
    body = template(account("stmaybe", condition="[parameters('deploy')]"), LINKED, VNET)
    report = iac(platform, owner, body).json()
    assert report["findings"]
    assert report["not_evaluated"]

    html = platform.client.get(f"/portal/reports/{report['report_id']}").text

    assert SECTION in html
    lines = left_out(html)
    assert lines == [
        *(note.replace("<", "&lt;").replace(">", "&gt;") for note in report["notes"]),
        "1 microsoft.network/virtualnetworks: no check of this scan applies to this type",
    ]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in line for line in lines)
    assert "<script>alert(1)</script>" not in html  # a link in the template stays text
    shown = min(len(report["findings"]), 100)
    unknown = len(report["unknown"])
    assert html.count(MARKER) == shown + unknown  # every finding and unknown row is marked
    assert "stmaybe</span> " + MARKER in html


def test_a_report_with_nothing_left_out_shows_neither(
    platform: Platform,
    owner: TenantCtx,  # noqa: F811
) -> None:
    document = a_document()  # a snapshot scan's: its unchecked types are not_evaluated
    assert document.pop("not_evaluated")
    assert "notes" not in document
    plain = store(platform, owner, minutes_ago(1), document=document)
    unconditional = iac(platform, owner, template(account("stsure"))).json()

    for report_id in (plain, unconditional["report_id"]):
        html = platform.client.get(f"/portal/reports/{report_id}").text
        assert "Findings" in html
        assert SECTION not in html
        assert MARKER not in html
