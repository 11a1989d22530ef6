"""The reports' pages: the list with its filters, one report with its findings, the diff of two;
each shows the signed-in tenant's reports only, and its actions are the public API's."""

from __future__ import annotations

import re
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.platform import Platform, TenantCtx
from tests.server.insights.helpers import accepted_document
from tests.server.reports.test_reports import a_document, minutes_ago, store
from tests.server.scans.estates import link_sample_snapshot, scan
from tests.server.web.test_portal_pages import PASSWORD, parsed
from tutela.server.db import utcnow
from tutela.server.reports.service import GOVERNANCE, store_report
from tutela.server.scans.service import assess_estate, read_iac
from tutela.server.tenants.models import Tenant, User
from tutela.server.web.report_pages import FINDINGS_SHOWN, LISTED

PAGES = ["/portal/reports", "/portal/diff"]
BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture
def owner(platform: Platform) -> TenantCtx:
    tenant = platform.tenant("professional")
    platform.sign_in(platform.set_password(tenant.owner_id, PASSWORD), PASSWORD)
    return tenant


def report_links(html: str) -> list[str]:
    return re.findall(r'href="/portal/reports/(COMP-[\d-]+)"', html)


def forms(html: str, api: str) -> list[dict[str, str | None]]:
    return [a for t, a in parsed(html).tags if t == "form" and a.get("data-api") == api]


def stored_many(platform: Platform, tenant: TenantCtx, count: int, **kwargs: Any) -> list[str]:
    """``count`` reports a minute apart, newest first; their ids."""
    document = a_document()
    return [
        store(platform, tenant, minutes_ago(i + 1), document=document, **kwargs)
        for i in range(count)
    ]


def test_the_pages_send_a_stranger_to_sign_in(platform: Platform) -> None:
    for path in [*PAGES, "/portal/reports/COMP-20261207-093000"]:
        response = platform.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_the_list_shows_the_tenants_reports_newest_first_with_filters(
    platform: Platform, owner: TenantCtx
) -> None:
    other = platform.tenant("professional")
    foreign = store(platform, other, minutes_ago(1), label="prod")
    mine = [
        store(platform, owner, minutes_ago(2), label="Nightly PROD"),
        store(platform, owner, minutes_ago(3), label="staging", report_type=GOVERNANCE),
        store(platform, owner, minutes_ago(4), label="prod-weu"),
    ]

    html = platform.client.get("/portal/reports").text
    assert report_links(html) == mine
    assert foreign not in html
    assert ('<a href="/portal/reports">Reports</a>') in platform.client.get("/portal/").text
    deletes = forms(html, "DELETE /report/{report_id}")
    assert [form["data-report_id"] for form in deletes] == mine
    assert all(form["data-confirm"] for form in deletes)

    assert report_links(platform.client.get("/portal/reports?label=prod").text) == [
        mine[0],
        mine[2],
    ]
    assert report_links(platform.client.get("/portal/reports?type=governance").text) == [mine[1]]
    empty = platform.client.get("/portal/reports?label=absent&type=manual").text
    assert "No report matches these filters" in empty


def test_older_reports_follow_the_apis_cursor(platform: Platform, owner: TenantCtx) -> None:
    ids = stored_many(platform, owner, LISTED + 1, label="weekly")

    first = platform.client.get("/portal/reports?label=weekly").text
    assert report_links(first) == ids[:LISTED]
    [older] = re.findall(r'href="(/portal/reports\?[^"]*cursor=[^"]+)"', first)
    second = platform.client.get(older.replace("&amp;", "&")).text
    assert report_links(second) == ids[LISTED:]
    assert "Older reports</a>" not in second
    assert platform.client.get("/portal/reports?cursor=not-ours").status_code == 404


def test_a_member_may_read_but_not_delete(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    report_id = store(platform, tenant, minutes_ago(1))
    member_id, _ = platform.user(tenant, "member")
    platform.sign_in(platform.set_password(member_id, PASSWORD), PASSWORD)

    for path in ("/portal/reports", f"/portal/reports/{report_id}"):
        html = platform.client.get(path).text
        assert report_id in html
        assert not forms(html, "DELETE /report/{report_id}")


def test_an_operator_has_no_reports_page(platform: Platform) -> None:
    platform.operator_key()  # (creates the operator)
    with platform.db() as session:
        operator_id = session.scalars(select(User.id).where(User.email == "ops@example.com")).one()
    platform.sign_in(platform.set_password(operator_id, PASSWORD), PASSWORD)

    for path in PAGES:
        assert platform.client.get(path).status_code == 404


def test_deleting_from_the_list_is_the_public_delete(platform: Platform, owner: TenantCtx) -> None:
    csrf = platform.sign_in(platform.set_password(owner.owner_id, PASSWORD), PASSWORD)
    kept, gone = stored_many(platform, owner, 2)

    response = platform.client.delete(f"/report/{gone}", headers=csrf)  # as portal.js sends it

    assert response.status_code == 200, response.text
    assert report_links(platform.client.get("/portal/reports").text) == [kept]


def scanned(platform: Platform, tenant: TenantCtx) -> dict[str, Any]:
    link_sample_snapshot(platform, tenant)
    return scan(platform, tenant, ["iso42001", "sr11_7"], scan_label="weekly prod")


def test_a_report_page_shows_its_scores_findings_and_evidence(
    platform: Platform, owner: TenantCtx
) -> None:
    earlier = store(platform, owner, minutes_ago(60))
    report = scanned(platform, owner)

    response = platform.client.get(f"/portal/reports/{report['report_id']}")

    assert response.status_code == 200, response.text
    html = response.text
    assert "weekly prod" in html
    assert f"{report['aggregate_score']}<span" in html
    [chart] = [a for t, a in parsed(html).tags if t == "img"]
    assert (chart["src"] or "").startswith("data:image/svg+xml;base64,")
    assert "ISO/IEC 42001" in (chart["alt"] or "")
    findings = report["findings"]
    assert html.count("<summary>") >= min(len(findings), FINDINGS_SHOWN)
    first = findings[0]
    assert first["remediation"].replace("'", "&#39;").replace('"', "&#34;") in html
    assert "Passing evidence" in html
    passed = platform.client.get(
        f"/report/{report['report_id']}", params={"include": "passed"}, headers=owner.headers
    ).json()["passed"]
    first_pass = passed[0]["resources"][0]  # a check that passed, with the value it passed on
    assert f"<code>{passed[0]['check_id']}</code>" in html
    assert f"<code>{first_pass['evidence'][0]['path']}</code>" in html
    for unknown in report["unknown"]:
        assert unknown["check_id"] in html
    [compare] = [
        a for t, a in parsed(html).tags if t == "form" and a.get("action") == "/portal/diff"
    ]
    assert compare["method"] == "get"
    assert f'<option value="{earlier}" selected>' in html


def rows_of(html: str) -> list[tuple[str, str]]:
    """(severity, check id) of each finding row shown."""
    return re.findall(
        r'<td class="sev sev-(\w+)">\w+</td>\s*<td>\s*<details>\s*<summary>.*? '
        r"<code>([^<]+)</code></summary>",
        html,
    )


def test_findings_filter_sort_and_page_through_query_parameters(
    platform: Platform, owner: TenantCtx
) -> None:
    report = scanned(platform, owner)
    path = f"/portal/reports/{report['report_id']}"
    findings = report["findings"]

    high = rows_of(platform.client.get(path, params={"severity": "high"}).text)
    assert high == [("high", f["check_id"]) for f in findings if f["severity"] == "high"]
    check = findings[0]["check_id"]
    by_check = rows_of(platform.client.get(path, params={"check": check}).text)
    assert by_check
    assert {c for _, c in by_check} == {check}
    name = findings[0]["resource_name"]
    by_resource = rows_of(platform.client.get(path, params={"resource": name.upper()}).text)
    assert len(by_resource) == sum(name in f["resource"].lower() for f in findings) > 0
    by_framework = platform.client.get(path, params={"framework": "sr11_7", "sort": "check"}).text
    checks = [c for _, c in rows_of(by_framework)]
    assert checks == sorted(checks)
    expected = sorted(f["check_id"] for f in findings if f["framework"] == "sr11_7")
    assert checks == expected[:FINDINGS_SHOWN]

    everything = [c for _, c in rows_of(platform.client.get(path).text)]
    assert everything == [f["check_id"] for f in findings][:FINDINGS_SHOWN]  # severity order
    if len(findings) > FINDINGS_SHOWN:
        second = platform.client.get(path, params={"page": "2"}).text
        assert [c for _, c in rows_of(second)] == [f["check_id"] for f in findings][FINDINGS_SHOWN:]
    nothing = platform.client.get(path, params={"resource": "no-such-resource"}).text
    assert "No finding matches these filters" in nothing


def test_another_tenants_report_is_the_not_found_page(platform: Platform, owner: TenantCtx) -> None:
    theirs = store(platform, platform.tenant("professional"), minutes_ago(1))
    mine = store(platform, owner, minutes_ago(2))

    for path in (
        f"/portal/reports/{theirs}",
        "/portal/reports/COMP-20000101-000000",
        f"/portal/diff?a={mine}&b={theirs}",
        f"/portal/diff?a={theirs}&b={mine}",
    ):
        response = platform.client.get(path)
        assert response.status_code == 404, path
        assert f"Report {theirs}" in response.text or "COMP-20000101-000000" in response.text
        assert "<table" not in response.text
    odd = platform.client.get("/portal/reports/<script>")
    assert odd.status_code == 404
    assert "The report asked for" in odd.text


def test_the_diff_page_shows_what_changed(platform: Platform, owner: TenantCtx) -> None:
    earlier = store(platform, owner, minutes_ago(10))
    document = a_document()
    fixed = [f for f in document["findings"] if f["severity"] != "critical"]
    critical = len(document["findings"]) - len(fixed)
    later = store(platform, owner, minutes_ago(5), document={**document, "findings": fixed})

    api = platform.client.get(f"/reports/diff?report_a={earlier}&report_b={later}").json()
    html = platform.client.get(f"/portal/diff?a={earlier}&b={later}").text

    assert f"Resolved findings ({len(api['resolved'])})" in html
    assert len(api["resolved"]) == critical > 0
    assert "New findings (0)" in html
    assert f'href="/reports/diff?report_a={earlier}&amp;report_b={later}"' in html
    for finding in api["resolved"]:
        assert finding["check_id"] in html


def test_the_diff_page_asks_for_two_different_reports(platform: Platform, owner: TenantCtx) -> None:
    later, earlier = stored_many(platform, owner, 2)

    same = platform.client.get(f"/portal/diff?a={later}&b={later}")
    assert same.status_code == 200
    assert f"Report {later} was asked for on both sides" in same.text
    assert f'<option value="{later}" selected>' in same.text  # as the earlier report,
    assert f'<option value="{earlier}" selected>' in same.text  # and another as the later
    chooser = platform.client.get("/portal/diff").text
    selects = [a for t, a in parsed(chooser).tags if t == "select"]
    assert [s["name"] for s in selects] == ["a", "b"]
    a_options, b_options = chooser.split('name="b"')
    assert f'<option value="{earlier}" selected>' in a_options
    assert f'<option value="{later}" selected>' in b_options


def test_no_page_here_has_inline_code(platform: Platform, owner: TenantCtx) -> None:
    first, second = stored_many(platform, owner, 2)
    for path in (
        "/portal/reports",
        f"/portal/reports/{first}",
        f"/portal/diff?a={second}&b={first}",
    ):
        markup = parsed(platform.client.get(path).text)
        assert markup.inline == []
        for _, attributes in markup.tags:
            assert "style" not in attributes
            assert not [a for a in attributes if a.startswith("on")]


def test_a_large_reports_page_holds_only_its_rows(platform: Platform, tmp_path: Path) -> None:
    """Its JSON is read a slice at a time and only the page's findings are kept: the page costs
    a fraction of the report, not copies of it."""
    sys.path.insert(0, str(BENCH))  # bench/ is not a package
    try:
        import generate
    finally:
        sys.path.remove(str(BENCH))
    generate.generate(5000, 42, tmp_path)
    estate, _ = read_iac((tmp_path / "template.json").read_bytes())
    tenant = platform.tenant("enterprise")
    frameworks = list(platform.runtime.catalog.framework_ids)
    document = assess_estate(
        platform.runtime, tenant.id, estate, frameworks, utcnow(), narrate=True, label=None
    )
    with platform.db() as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        report_id = store_report(
            session,
            platform.document_key(),
            row,
            document,
            report_type="manual",
            label=None,
            scan_ts=utcnow(),
        ).report_id
    size = sum(len(chunk) for chunk in document.compact_chunks())
    del document
    platform.sign_in(platform.set_password(tenant.owner_id, PASSWORD), PASSWORD)

    tracemalloc.start()
    try:
        response = platform.client.get(
            f"/portal/reports/{report_id}", params={"sort": "resource", "page": "3"}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 200
    assert "page 3 of" in response.text
    assert size > 60 * 2**20
    assert peak < size / 2, (peak, size)  # (a constant part: slices and one batch)


def accepted_rows(html: str) -> list[list[str]]:
    """The cells of the "Accepted risks" table, tags stripped, whitespace folded."""
    if 'id="accepted-h"' not in html:
        return []
    table = html.split('id="accepted-h"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def test_a_report_page_lists_its_accepted_risks_with_their_acceptance(
    platform: Platform, owner: TenantCtx
) -> None:
    document = accepted_document()
    report_id = store(platform, owner, minutes_ago(1), document=document)
    plain = store(platform, owner, minutes_ago(2))

    html = platform.client.get(f"/portal/reports/{report_id}").text

    [entry] = document["accepted"]
    acceptance = entry["acceptance"]
    assert f"Accepted risks ({document['checks_accepted']})" in html
    assert accepted_rows(html) == [
        [
            f"Critical {entry['title']} {entry['check_id']}",
            f"{entry['resource_name']} {entry['resource_type']}",
            "Public base images only &lt;b&gt;for now&lt;/b&gt;. A pull-through cache replaces it "
            "in Q1.",
            acceptance["approver"],
            acceptance["ticket"],
            acceptance["expires"],
        ]
    ]
    assert "<b>for now</b>" not in html  # what a person typed is text, never markup
    assert '<a href="#accepted">1 accepted as risk</a>' in html
    # Accepted pairs are not findings: the table of findings does not hold the registry's.
    assert all(check != entry["check_id"] for _, check in rows_of(html))
    without = platform.client.get(f"/portal/reports/{plain}").text
    assert accepted_rows(without) == []
    assert "Accepted risks" not in without


def test_the_diff_page_lists_accepted_findings_apart_from_resolved_ones(
    platform: Platform, owner: TenantCtx
) -> None:
    earlier = store(platform, owner, minutes_ago(10))
    later = store(platform, owner, minutes_ago(5), document=accepted_document())

    api = platform.client.get(f"/reports/diff?report_a={earlier}&report_b={later}").json()
    html = platform.client.get(f"/portal/diff?a={earlier}&b={later}").text

    assert api["accepted"]
    assert not api["resolved"]
    assert f"Accepted ({len(api['accepted'])})" in html
    assert f'Accepted as risks <span class="figure-sm">{len(api["accepted"])}</span>' in html
    assert "Resolved findings (0)" in html
    assert 'Resolved <span class="figure-sm">0</span>' in html
    accepted_section = html.split('id="accepted-h"', 1)[1].split("</section>", 1)[0]
    for finding in api["accepted"]:
        assert finding["check_id"] in accepted_section
        assert finding["control_id"] in accepted_section
    assert f'href="/portal/reports/{later}#accepted"' in accepted_section

    # Back the other way, the accepted pair fails again: new, not accepted.
    back = platform.client.get(f"/portal/diff?a={later}&b={earlier}").text
    assert 'id="accepted-h"' not in back
    assert f"New findings ({len(api['accepted'])})" in back
