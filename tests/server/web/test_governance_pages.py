"""The governance and encryption pages: plan and role gates, what they show (and not of another
tenant), and their actions sent as portal.js sends them, down to the emailed link that confirms
the switch back to the platform key."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.platform import Platform, TenantCtx
from tests.server.encryption.fake_vault import FakeVault
from tests.server.encryption.helpers import cmk_tenant, mails_to, owner_email, with_principal
from tests.server.exceptions.helpers import accepted_by
from tests.server.scans.estates import DEV, link_sample_snapshot
from tests.server.web.test_portal_pages import PASSWORD, parsed
from tests.server.web.test_scan_pages import actions, signed_in
from tutela.server.governance.scans import run_due

LATER = dt.datetime(2027, 11, 1, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
FORTNIGHT = 14 * DAY
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def vault(platform: Platform) -> FakeVault:
    """A Key Vault with a secret ``tutela-key``, reached by the platform's Azure transport."""
    fake = FakeVault()
    fake.add_secret("tutela-key")
    platform.runtime.azure_transport = fake
    return fake


def governance_scans(
    platform: Platform, tenant: TenantCtx, count: int, start: dt.datetime = LATER
) -> list[str]:
    """Run the tenant's scheduled scans ``count`` times, a fortnight apart; the report ids
    (made of the time: another tenant's scans start at another time to tell them apart)."""
    link_sample_snapshot(platform, tenant)
    ids = []
    for n in range(count):
        moment = start + n * FORTNIGHT
        [outcome] = [o for o in run_due(platform.runtime, moment) if o.tenant_id == tenant.id]
        assert outcome.report_id is not None, outcome
        ids.append(outcome.report_id)
    return ids


def confirm_pmk_link(platform: Platform, tenant: TenantCtx) -> str:
    """The path and query of the last link mailed to the owner."""
    _, text = mails_to(platform, owner_email(platform, tenant))[-1]
    [link] = LINK.findall(text)
    url = urlsplit(link)
    return f"{url.path}?{url.query}"


# --- governance ---------------------------------------------------------------------------------


def test_below_professional_the_page_says_the_plan_does_not_include_it(
    platform: Platform,
) -> None:
    signed_in(platform, platform.tenant("starter"))

    response = platform.client.get("/portal/governance")

    assert response.status_code == 403
    assert "Your plan does not include continuous governance" in response.text
    assert actions(response.text) == set()
    assert platform.client.get("/governance").status_code == 403  # as the API


def test_the_state_settings_and_history_of_the_tenant(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    ids = governance_scans(platform, tenant, 2)
    other = platform.tenant("professional")
    [other_id] = governance_scans(platform, other, 1, start=LATER + DAY)
    signed_in(platform, tenant)

    response = platform.client.get("/portal/governance")

    assert response.status_code == 200, response.text
    html = response.text
    assert parsed(html).inline == []
    for report_id in ids:
        assert f'<a href="/portal/reports/{report_id}">{report_id}</a>' in html
    assert other_id not in html
    [chart] = [a for t, a in parsed(html).tags if t == "img"]
    assert (chart["src"] or "").startswith("data:image/svg+xml;base64,")
    assert "over 2 reports" in (chart["alt"] or "")
    assert actions(html) == {"PUT /governance", "DELETE /governance/history"}
    cadences = [a["value"] for t, a in parsed(html).tags if t == "option"]
    assert cadences == platform.client.get("/governance").json()["allowed_cadences"]
    assert "Automatic scans biweekly" in html


def test_drift_shows_the_findings_accepted_as_risks_since_the_previous_scan(
    platform: Platform,
) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant, DEV)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    run_due(platform.runtime, now)
    accepted_by(platform, tenant)  # the registry's anonymous pull, approved between two scans
    run_due(platform.runtime, now + DAY + dt.timedelta(hours=1))
    drift = platform.client.get("/governance", headers=tenant.headers).json()["drift"]
    assert drift["accepted"] > 0
    assert drift["resolved"] == 0
    signed_in(platform, tenant)

    html = platform.client.get("/portal/governance").text

    risks = "risk" if drift["accepted"] == 1 else "risks"
    assert f"<li>{drift['accepted']} accepted as {risks}: still failing, not resolved</li>" in html
    assert "<li>0 resolved</li>" in html


def test_pausing_and_choosing_a_cadence_as_the_page_sends_it(platform: Platform) -> None:
    csrf = signed_in(platform, platform.tenant("professional"))
    radios = [
        a for t, a in parsed(platform.client.get("/portal/governance").text).tags if t == "input"
    ]
    assert {(a["value"], a["data-type"]) for a in radios if a.get("type") == "radio"} == {
        ("true", "boolean"),
        ("false", "boolean"),
    }

    paused = platform.client.put(
        "/governance", headers=csrf, json={"governance_enabled": False, "cadence": "biweekly"}
    )
    assert paused.status_code == 200, paused.text
    assert "Automatic scans are paused" in platform.client.get("/portal/governance").text

    too_fast = platform.client.put(
        "/governance", headers=csrf, json={"governance_enabled": True, "cadence": "daily"}
    )
    assert too_fast.status_code == 403  # the page offers only the plan's cadences


def test_deleting_one_report_then_the_whole_history(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    first, second = governance_scans(platform, tenant, 2)
    [other_id] = governance_scans(platform, platform.tenant("professional"), 1, LATER + DAY)
    csrf = signed_in(platform, tenant)
    html = platform.client.get("/portal/governance").text
    hidden = {(a["name"], a["value"]) for t, a in parsed(html).tags if a.get("type") == "hidden"}
    assert hidden == {("report_id", first), ("report_id", second), ("selective", "false")}

    theirs = platform.client.request(
        "DELETE", "/governance/history", headers=csrf, json={"report_id": other_id}
    )
    assert theirs.status_code == 404
    one = platform.client.request(
        "DELETE", "/governance/history", headers=csrf, json={"report_id": first}
    )
    assert one.json() == {"status": "ok", "deleted": 1, "report_id": first}
    assert first not in platform.client.get("/portal/governance").text

    everything = platform.client.request(
        "DELETE", "/governance/history", headers=csrf, json={"selective": False}
    )
    assert everything.json() == {"status": "ok", "deleted": 1}
    html = platform.client.get("/portal/governance").text
    assert "No governance report yet" in html
    assert "DELETE /governance/history" not in actions(html)


def test_an_auditor_reads_governance_but_changes_nothing(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    governance_scans(platform, tenant, 1)
    signed_in(platform, tenant, "auditor")

    response = platform.client.get("/portal/governance")

    assert response.status_code == 200
    assert actions(response.text) == set()
    assert "Governance score" in response.text


# --- encryption ---------------------------------------------------------------------------------


def test_below_professional_encryption_says_upgrade(platform: Platform) -> None:
    signed_in(platform, platform.tenant("starter"))

    response = platform.client.get("/portal/encryption")

    assert response.status_code == 200
    assert "Your plan does not include customer-managed keys" in response.text
    assert "Platform-managed key" in response.text
    assert actions(response.text) == set()


def test_the_owner_may_enable_cmk_and_an_admin_may_not(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    signed_in(platform, tenant)
    owner_html = platform.client.get("/portal/encryption").text
    assert actions(owner_html) == {"POST /tenant/encryption/cmk"}
    assert "Prefer a key to a secret" in owner_html
    fields = {a["name"] for t, a in parsed(owner_html).tags if t == "input"}
    assert fields == {"key_vault_url", "key_vault_key_name", "key_vault_secret_name"}

    platform.client.cookies.clear()
    signed_in(platform, tenant, "admin")
    admin_html = platform.client.get("/portal/encryption").text
    assert actions(admin_html) == set()
    assert "Only the tenant's owner can change" in admin_html


def test_enabling_cmk_as_the_page_sends_it_shows_the_key_and_its_history(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = with_principal(platform)
    csrf = signed_in(platform, tenant)
    sent = {"key_vault_url": vault.vault_url, "key_vault_secret_name": "tutela-key"}

    response = platform.client.post("/tenant/encryption/cmk", headers=csrf, json=sent)

    assert response.status_code == 200, response.text
    html = platform.client.get("/portal/encryption").text
    assert "Customer-managed key" in html
    assert vault.vault_url in html
    assert "Customer-managed key set" in html  # the history's row
    assert actions(html) == {
        "POST /tenant/encryption/cmk",
        "POST /tenant/encryption/rotate",
        "POST /tenant/encryption/pmk",
    }
    rotated = platform.client.post("/tenant/encryption/rotate", headers=csrf)
    assert rotated.status_code == 200, rotated.text
    assert 'id="rotate-result"' in html
    assert 'data-field="message"' in html


def test_another_tenants_encryption_is_not_shown(platform: Platform, vault: FakeVault) -> None:
    cmk_tenant(platform)
    signed_in(platform, platform.tenant("professional"))

    html = platform.client.get("/portal/encryption").text

    assert vault.vault_url not in html
    assert "No change yet" in html


def test_the_emailed_link_confirms_the_switch_back(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    csrf = signed_in(platform, tenant)
    started = platform.client.post("/tenant/encryption/pmk", headers=csrf)
    assert started.status_code == 200, started.text
    link = confirm_pmk_link(platform, tenant)
    [token] = parse_qs(urlsplit(link).query)["token"]

    html = platform.client.get(link).text

    [form] = [a for t, a in parsed(html).tags if t == "form" and "data-token" in a]
    assert form["data-api"] == "POST /tenant/encryption/confirm-pmk?token={token}"
    assert form["data-token"] == token
    assert form["data-then"] == "show:pmk-done"
    assert "do not delete or disable the key" in html
    confirmed = platform.client.post(
        "/tenant/encryption/confirm-pmk?token=" + quote(token, safe=""), headers=csrf
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["cmk_was_accessible"] is True
    assert {"message", "cmk_was_accessible", "warning"} <= {
        a["data-field"] for t, a in parsed(html).tags if "data-field" in a
    }
    again = platform.client.get(link).text
    assert "No switch is waiting to be confirmed" in again
    assert actions(again) == set()


def test_the_link_sends_a_signed_out_owner_to_sign_in_and_back(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)
    assert platform.client.post("/tenant/encryption/pmk", headers=tenant.headers).is_success
    link = confirm_pmk_link(platform, tenant)

    response = platform.client.get(link, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + quote(link, safe="")
    email = platform.set_password(tenant.owner_id, PASSWORD)
    platform.sign_in(email, PASSWORD)
    assert "Confirm the switch to the platform key" in platform.client.get(link).text


def test_only_the_owner_may_confirm(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    assert platform.client.post("/tenant/encryption/pmk", headers=tenant.headers).is_success
    link = confirm_pmk_link(platform, tenant)
    signed_in(platform, tenant, "admin")

    response = platform.client.get(link)

    assert response.status_code == 403
    assert "Only the tenant's owner can confirm" in response.text
    assert actions(response.text) == set()
