"""The scan page: who may open it, what it offers (the plan's frameworks, the linked
subscriptions and their snapshots), and its actions sent as portal.js sends them."""

from __future__ import annotations

import json
import re

import pytest

from tests.platform import Platform, TenantCtx
from tests.server.scans.estates import DEV, PROD, export, link, link_sample_snapshot, sample_records
from tests.server.web.test_portal_pages import PASSWORD, parsed
from tutela.server.web.rendering import CONTENT_SECURITY_POLICY

ARM_TEMPLATE = json.dumps(
    {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
        "deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.MachineLearningServices/workspaces",
                "apiVersion": "2024-04-01",
                "name": "ml",
                "location": "westeurope",
                "properties": {},
            }
        ],
    }
).encode()


def signed_in(platform: Platform, tenant: TenantCtx, role: str = "owner") -> dict[str, str]:
    """Sign a person of ``role`` in; the CSRF header portal.js sends with each action."""
    user_id = tenant.owner_id if role == "owner" else platform.user(tenant, role)[0]
    return platform.sign_in(platform.set_password(user_id, PASSWORD), PASSWORD)


def actions(html: str) -> set[str]:
    """Every ``data-api`` of the page: forms and the buttons that send their form elsewhere."""
    return {a["data-api"] or "" for _, a in parsed(html).tags if "data-api" in a} - {
        "POST /auth/sign-out"
    }


def boxes(html: str) -> list[str]:
    return [
        a["value"] or ""
        for t, a in parsed(html).tags
        if t == "input" and a.get("name") == "frameworks"
    ]


def scan_count(platform: Platform) -> int:
    count: int = platform.client.get("/tenant/me").json()["scan_count"]
    return count


def test_a_stranger_is_sent_to_sign_in_and_back(platform: Platform) -> None:
    response = platform.client.get("/portal/scan", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fportal%2Fscan"


def test_an_auditor_cannot_run_scans_so_the_page_is_not_found(platform: Platform) -> None:
    signed_in(platform, platform.tenant("professional"), "auditor")

    response = platform.client.get("/portal/scan")

    assert response.status_code == 404
    assert "POST /scan" not in response.text
    assert 'href="/portal/scan"' not in response.text  # not in the navigation either


def test_without_a_linked_subscription_the_page_says_how_to_link_one(
    platform: Platform,
) -> None:
    signed_in(platform, platform.tenant("professional"))

    response = platform.client.get("/portal/scan")

    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert parsed(response.text).inline == []
    assert "No Azure subscription is linked yet" in response.text
    assert "PUT /tenant/subscriptions" in response.text
    assert actions(response.text) == {"POST /scan/iac"}  # an IaC file needs no subscription


@pytest.mark.parametrize("plan", ["starter", "professional"])
def test_the_frameworks_offered_are_the_plans_and_the_api_refuses_others(
    platform: Platform, plan: str
) -> None:
    tenant = platform.tenant(plan)
    link_sample_snapshot(platform, tenant)
    csrf = signed_in(platform, tenant)
    catalog = platform.runtime.catalog

    html = platform.client.get("/portal/scan").text

    offered = set(boxes(html))
    assert offered == set(catalog.plan(plan).frameworks)
    assert len(boxes(html)) == 2 * len(offered)  # the scan form's and the IaC form's
    outside = [f for f in catalog.framework_ids if f not in offered]
    if outside:
        refused = platform.client.post("/scan", headers=csrf, json={"frameworks": outside[:1]})
        assert refused.status_code == 403


def test_a_scan_is_stored_and_a_dry_run_is_not(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant)
    csrf = signed_in(platform, tenant)
    html = platform.client.get("/portal/scan").text
    assert actions(html) == {
        "POST /scan",
        "POST /scan/dry-run",
        "POST /scan/iac",
        "PUT /tenant/subscriptions/{subscription_id}/snapshot",
    }
    assert 'data-then="go:report"' in html
    assert 'data-then="show:scan-result"' in html
    assert 'id="scan-result"' in html
    sent = {"frameworks": boxes(html)[:1], "scan_label": "from the portal"}  # as portal.js

    dry = platform.client.post("/scan/dry-run", headers=csrf, json=sent)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert "report_id" not in dry.json()
    assert scan_count(platform) == 0

    stored = platform.client.post("/scan", headers=csrf, json=sent)
    assert stored.status_code == 200, stored.text
    report_id = stored.json()["report_id"]
    assert stored.json()["scan_label"] == "from the portal"
    assert scan_count(platform) == 1
    listed = platform.client.get("/reports").json()
    assert [r["report_id"] for r in listed["items"]] == [report_id]


def test_a_scan_without_frameworks_names_the_field(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant)
    csrf = signed_in(platform, tenant)

    response = platform.client.post("/scan", headers=csrf, json={"frameworks": []})

    assert response.status_code == 422
    html = platform.client.get("/portal/scan").text
    [loc] = [item["loc"] for item in response.json()["detail"]]
    assert f'data-error-for="{loc[-1]}"' in html  # the page has a slot for the error


def test_an_iac_file_is_sent_as_the_body_with_the_fields_as_query(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    csrf = signed_in(platform, tenant)
    html = platform.client.get("/portal/scan").text
    [form] = [a for t, a in parsed(html).tags if a.get("data-api") == "POST /scan/iac"]
    assert form["data-body-file"] == "body"
    [dry_button] = [a for t, a in parsed(html).tags if t == "button" and a.get("name")]
    assert (dry_button["name"], dry_button["value"]) == ("dry_run", "true")
    headers = {**csrf, "content-type": "application/json"}
    frameworks = ",".join(boxes(html)[:2])

    dry = platform.client.post(
        "/scan/iac",
        params={"frameworks": frameworks, "scan_label": "PR 12", "dry_run": "true"},
        headers=headers,
        content=ARM_TEMPLATE,
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["dry_run"], "report_id" in dry.json()) == (True, False)

    stored = platform.client.post(
        "/scan/iac", params={"frameworks": frameworks}, headers=headers, content=ARM_TEMPLATE
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["report_id"]
    assert stored.json()["frameworks"] == boxes(html)[:2]


def test_the_snapshots_are_listed_and_an_upload_replaces_one(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    link(platform, tenant, DEV, PROD)
    csrf = signed_in(platform, tenant)
    html = platform.client.get("/portal/scan").text
    assert html.count("None yet: upload an export") == 2
    uploads = [a for t, a in parsed(html).tags if t == "form" and "data-subscription_id" in a]
    assert {a["data-subscription_id"] for a in uploads} == {DEV, PROD}

    response = platform.client.put(
        f"/tenant/subscriptions/{DEV}/snapshot",
        headers={**csrf, "content-type": "application/json"},
        content=json.dumps(export(sample_records(DEV))).encode(),
    )

    assert response.status_code == 200, response.text
    html = platform.client.get("/portal/scan").text
    assert html.count("None yet") == 1
    stored = response.json()["resources"]
    assert re.search(rf"{DEV}</td>\s*<td>{stored} resources, uploaded", html)


def test_a_member_scans_but_does_not_upload_snapshots(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant)
    csrf = signed_in(platform, tenant, "member")

    html = platform.client.get("/portal/scan").text

    assert "PUT /tenant/subscriptions/{subscription_id}/snapshot" not in actions(html)
    assert "resources, uploaded" in html  # the snapshot is shown, as GET /…/snapshot shows it
    refused = platform.client.put(
        f"/tenant/subscriptions/{DEV}/snapshot", headers=csrf, json=export(sample_records())
    )
    assert refused.status_code == 403


def test_the_page_shows_the_persons_tenant_only(platform: Platform) -> None:
    other = platform.tenant("professional")
    link_sample_snapshot(platform, other, PROD)
    signed_in(platform, platform.tenant("professional"))

    html = platform.client.get("/portal/scan").text

    assert PROD not in html
    assert "No Azure subscription is linked yet" in html
