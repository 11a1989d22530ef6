"""The Enterprise pages of a report: the board scorecard and the remediation roadmap show what
their API routes answer, their download links are the API's and work with the session, and they
refuse as the API does (403 below Enterprise or without report:read, 404 for another tenant's)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from markupsafe import escape

from tests.platform import Platform, TenantCtx
from tests.server.insights.helpers import accepted_document, sample_document, stored
from tests.server.web.test_portal_pages import PASSWORD, parsed
from tutela.scanner.catalog import load_catalog
from tutela.server.admin import service as admin
from tutela.server.insights.iac import FORMATS

PAGES = ("scorecard", "roadmap")


def signed_in(platform: Platform, plan: str = "enterprise") -> TenantCtx:
    tenant = platform.tenant(plan)
    platform.sign_in(platform.set_password(tenant.owner_id, PASSWORD), PASSWORD)
    return tenant


def api(platform: Platform, tenant: TenantCtx, path: str) -> dict[str, Any]:
    response = platform.client.get(path, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def links(page: str) -> set[str]:
    return {a["href"] or "" for tag, a in parsed(page).tags if tag == "a"}


def shown(text: str) -> str:
    """Text as the autoescaped page carries it."""
    return str(escape(text))


def test_the_scorecard_shows_what_the_api_answers_for_a_board(platform: Platform) -> None:
    tenant = signed_in(platform)
    document = sample_document()
    report_id = stored(platform, tenant, document=document)
    card = api(platform, tenant, f"/report/{report_id}/scorecard")["scorecard"]

    response = platform.client.get(f"/portal/reports/{report_id}/scorecard")

    assert response.status_code == 200, response.text
    page = response.text
    assert parsed(page).inline == []
    assert shown(card["overall_rag_reason"]) in page
    assert shown(card["board_narrative"]) in page
    assert shown(card["trajectory_note"]) in page
    for gap in card["top_gaps"]:
        assert shown(gap["gap"]) in page
        assert shown(gap["business_impact"]) in page
    catalog = load_catalog()
    for framework, rag in card["framework_rag"].items():
        assert shown(catalog.framework(framework).name) in page
        assert f"rag-{rag.lower()}" in page
    [chart] = [a for tag, a in parsed(page).tags if tag == "img"]
    assert (chart["src"] or "").startswith("data:image/svg+xml;base64,")
    scores = document["framework_scores"]
    for framework in document["frameworks"]:
        assert f"{scores[framework]['score']}" in (chart["alt"] or "")
    assert f"{document['aggregate_score']}<span" in page
    assert f"/portal/reports/{report_id}/roadmap" in links(page)


def test_the_scorecard_says_how_many_risks_are_accepted(platform: Platform) -> None:
    tenant = signed_in(platform)
    plain = stored(platform, tenant)
    report_id = stored(platform, tenant, document=accepted_document())
    card = api(platform, tenant, f"/report/{report_id}/scorecard")["scorecard"]
    assert card["accepted_risks"] == 1

    page = platform.client.get(f"/portal/reports/{report_id}/scorecard").text
    without = platform.client.get(f"/portal/reports/{plain}/scorecard").text

    note = '<p class="muted" id="accepted-risks">'
    assert f"{note}{shown(card['accepted_risks_note'])}</p>" in page
    assert "excluded from the score" in card["accepted_risks_note"]
    assert f"{note}No risk is accepted: every failing check counts.</p>" in without


def test_the_roadmap_shows_every_action_with_its_effort_resources_and_fix(
    platform: Platform,
) -> None:
    tenant = signed_in(platform)
    report_id = stored(platform, tenant)
    roadmap = api(platform, tenant, f"/report/{report_id}/roadmap")["roadmap"]

    response = platform.client.get(f"/portal/reports/{report_id}/roadmap")

    assert response.status_code == 200, response.text
    page = response.text
    assert parsed(page).inline == []
    assert shown(roadmap["summary_note"]) in page
    actions = [a for horizon in ("immediate", "short_term", "strategic") for a in roadmap[horizon]]
    assert actions
    assert len([a for tag, a in parsed(page).tags if tag == "article"]) == len(actions)
    at = 0
    for action in actions:  # in the API's order, each with what it takes and where
        found = page.index(shown(action["action"]), at)
        at = found
        card = page[found : page.find("</article>", found)]
        assert f"Effort: {action['effort']}<" in card
        assert shown(action["owner_role"]) in card
        assert shown(action["azure_steps"]) in card
        assert shown(action["remediation"]) in card
        for resource in action["resources"]:
            assert shown(resource) in card
        if action["score_gain"] is not None:
            assert f"+{action['score_gain']} points (to {action['score_after']}/100)" in card


@pytest.mark.parametrize("page", PAGES)
def test_the_download_links_are_the_apis_and_work_with_the_session(
    platform: Platform, page: str
) -> None:
    tenant = signed_in(platform)
    report_id = stored(platform, tenant)

    html_page = platform.client.get(f"/portal/reports/{report_id}/{page}").text

    base = f"/report/{report_id}"
    offered = {href for href in links(html_page) if href.startswith(base)}
    assert offered == {
        f"{base}/auditor-package?format=pdf",
        f"{base}/auditor-package",
        *(f"{base}/iac/{fmt}" for fmt in FORMATS),
    }
    # Plain GETs: the session cookie alone authenticates them, as a click in the browser would.
    pdf = platform.client.get(f"{base}/auditor-package?format=pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    package = platform.client.get(f"{base}/auditor-package")
    assert package.json()["report_id"] == report_id
    for fmt in FORMATS:
        script = platform.client.get(f"{base}/iac/{fmt}")
        assert script.status_code == 200, (fmt, script.text)
        assert report_id in script.text


def test_a_report_with_nothing_failing_says_what_there_is_to_do(platform: Platform) -> None:
    tenant = signed_in(platform)
    document = sample_document()
    document.update(findings=[], critical_count=0, high_count=0, medium_count=0, low_count=0)
    report_id = stored(platform, tenant, document=document)

    scorecard = platform.client.get(f"/portal/reports/{report_id}/scorecard").text
    roadmap = platform.client.get(f"/portal/reports/{report_id}/roadmap").text

    assert "No check fails in this report: there is no risk to list." in scorecard
    assert roadmap.count("nothing is due in this horizon") == 3
    for page in (scorecard, roadmap):
        assert "there is no script to download" in page
        assert not [href for href in links(page) if "/iac/" in href]
        assert f"/report/{report_id}/auditor-package?format=pdf" in links(page)


@pytest.mark.parametrize("page", PAGES)
def test_below_enterprise_the_page_says_the_plan_does_not_include_it(
    platform: Platform, page: str
) -> None:
    tenant = signed_in(platform, "professional")
    report_id = stored(platform, tenant)
    assert platform.client.get(f"/report/{report_id}/{page}").status_code == 403

    response = platform.client.get(f"/portal/reports/{report_id}/{page}")

    assert response.status_code == 403
    assert "part of the Enterprise plan" in response.text
    assert "&#39;professional&#39; plan" in response.text
    assert f"/portal/reports/{report_id}" in links(response.text)
    assert not [href for href in links(response.text) if href.startswith("/report/")]


def test_an_operator_has_no_report_to_read(platform: Platform) -> None:
    with platform.db() as session:
        operator = admin.ensure_operator(session, actor="tests", email="ops@example.com")
        operator_id = operator.id
    platform.sign_in(platform.set_password(operator_id, PASSWORD), PASSWORD)

    response = platform.client.get("/portal/reports/COMP-20261123-093005/scorecard")

    assert response.status_code == 403
    assert "Your role does not include reading reports" in response.text


@pytest.mark.parametrize("page", PAGES)
def test_another_tenants_report_is_the_404_page(platform: Platform, page: str) -> None:
    other = platform.tenant("enterprise")
    theirs = stored(platform, other, document=sample_document())
    their_resource = json.dumps(sample_document()["findings"][0]["resource"])[1:-1]
    signed_in(platform)
    assert platform.client.get(f"/report/{theirs}/{page}").status_code == 404

    response = platform.client.get(f"/portal/reports/{theirs}/{page}")

    assert response.status_code == 404
    assert "is not here, or it is not yours to see" in response.text
    assert their_resource not in response.text
    assert theirs not in response.text
    assert platform.client.get(f"/portal/reports/not-a-report/{page}").status_code == 404


def test_a_stranger_is_sent_to_sign_in_and_back(platform: Platform) -> None:
    path = "/portal/reports/COMP-20261123-093005/roadmap"

    response = platform.client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")
