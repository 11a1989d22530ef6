"""The portal in a real browser, as people use it: an owner invites someone, who accepts, signs
in, makes an API key, sees it once and uses it, runs scans, reads and filters a report, compares
two, changes governance, revokes the key and signs out. Every page is screenshot at two widths
and checked with axe-core; a cross-site form post and another tenant's report are refused."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.harness import LiveServer, check_accessibility, snap, watched_page
from tests.platform import TenantCtx
from tests.scanner.outputs.test_scope_honesty import VNET, account
from tests.server.encryption.helpers import mails_to
from tests.server.exceptions.helpers import CHECK, accepted_by
from tests.server.scans.estates import DEV, link_sample_snapshot
from tests.server.scans.test_iac_not_evaluated import LINKED, template
from tests.server.sso.provider import CLIENT_ID, CLIENT_SECRET, LocalProvider
from tutela.server.governance.scans import run_due
from tutela.server.sso.service import redirect_uri

PASSWORD = "a long enough passphrase"


def look(page: Page, name: str) -> None:
    """Screenshots at both widths, nothing wider than a phone's screen (wide tables scroll in
    their own box), and no serious or critical accessibility violation."""
    snap(page, name)
    viewport = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name}: {widths[0]}px wide on a 390px screen"
    if viewport is not None:
        page.set_viewport_size(viewport)
    check_accessibility(page)


def sign_in(page: Page, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").first.fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{server.url}/portal/")


def owner_with_password(server: LiveServer) -> tuple[TenantCtx, str]:
    tenant = server.platform.tenant("enterprise")
    return tenant, server.platform.set_password(tenant.owner_id, PASSWORD)


def test_an_invited_person_joins_makes_a_key_uses_it_revokes_it_and_signs_out(
    page: Page, live_server: LiveServer
) -> None:
    server = live_server
    tenant, owner_email = owner_with_password(server)
    page.goto(f"{server.url}/portal/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fportal%2F$"))
    look(page, "sign-in")

    sign_in(page, server, owner_email)
    look(page, "dashboard-empty")
    page.get_by_role("link", name="Account").click()
    look(page, "account")
    invitee = f"analyst-{tenant.id[:8]}@example.com"
    page.get_by_label("Email", exact=True).fill(invitee)
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("cell", name=invitee, exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/login")

    [(subject, text)] = mails_to(server.platform, invitee)
    assert subject == "Tutela: you are invited"
    [link] = re.findall(r"http\S+/portal/accept-invitation\?token=\S+", text)
    page.goto(link.replace(server.settings.resolved_public_url, server.url))
    look(page, "accept-invitation")
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Choose password and sign in").click()
    expect(page.locator('[data-error-for="password"]')).to_contain_text("at least 12")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_role("button", name="Choose password and sign in").click()
    page.wait_for_url(f"{server.url}/portal/")
    expect(page.get_by_text(invitee)).to_be_visible()

    # A key, shown once, that works against the API like any client would use it.
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    secret_box = page.get_by_label(re.compile("^Key"))
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    assert secret.startswith("tut_")
    look(page, "api-key-created")
    me = httpx.get(f"{server.url}/tenant/me", headers={"X-API-Key": secret}, timeout=10)
    assert me.status_code == 200
    assert me.json()["tenant_id"] == tenant.id
    page.reload()
    assert secret not in page.content()  # shown once
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke laptop").click()
    expect(page.get_by_role("cell", name="revoked")).to_be_visible()
    refused = httpx.get(f"{server.url}/tenant/me", headers={"X-API-Key": secret}, timeout=10)
    assert refused.status_code == 401

    # Two scans of the tenant's subscription, the second report read, filtered, compared.
    link_sample_snapshot(server.platform, tenant)
    report_ids = []
    for _ in range(2):
        page.get_by_role("link", name="Scan", exact=True).click()
        look(page, "scan")
        page.get_by_role("button", name="Scan and save the report").first.click()
        page.wait_for_url(re.compile(r"/portal/reports/COMP-"))
        report_ids.append(page.url.rsplit("/", 1)[-1].split("#")[0])
    assert report_ids[0] != report_ids[1]
    look(page, "report")
    page.get_by_label("Severity", exact=True).select_option("critical")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"severity=critical"))
    severities = page.locator('[aria-labelledby="findings-h"] tbody td.sev').all_inner_texts()
    assert severities
    assert {text.strip().lower() for text in severities} == {"critical"}
    look(page, "report-filtered")
    page.get_by_label("Compare with…").select_option(report_ids[0])
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"/portal/diff\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Changes from {report_ids[0]} to {report_ids[1]}"
    )
    look(page, "diff")
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("link", name=report_ids[1])).to_be_visible()
    look(page, "reports")

    # Governance: the admin chooses a slower cadence.
    page.get_by_role("link", name="Governance").click()
    look(page, "governance")
    page.get_by_label("Cadence").select_option("biweekly")
    with page.expect_navigation():  # saved, the page reloads
        page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_label("Cadence")).to_have_value("biweekly")
    governance = httpx.get(f"{server.url}/governance", headers=tenant.headers, timeout=10)
    assert governance.json()["cadence"] == "biweekly"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/login")
    page.goto(f"{server.url}/portal/api-keys")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_cross_site_form_post_is_refused(page: Page, live_server: LiveServer) -> None:
    """Another site's page posts a form to the API while the person is signed in: the browser
    keeps the SameSite cookie home, so the request is not signed in (401) and nothing changes.
    Were the cookie sent, no CSRF token could come with it (403: see test_sessions.py)."""
    server = live_server
    tenant, email = owner_with_password(server)
    sign_in(page, server, email)
    page.route(
        "https://evil.example/**",
        lambda route: route.fulfill(
            content_type="text/html",
            body=(
                f'<form method="post" action="{server.url}/tenant/users" '
                'enctype="text/plain"><input name=\'{"email":"x@evil.example","role":"admin",'
                '"pad":"\' value=\'"}\'></form>'
            ),
        ),
    )
    page.goto("https://evil.example/attack")
    with page.expect_response(f"{server.url}/tenant/users") as answer:
        page.locator("form").evaluate("form => form.submit()")
    assert answer.value.status == 401
    with server.platform.db() as session:
        from sqlalchemy import select

        from tutela.server.tenants.models import User

        emails = set(session.scalars(select(User.email).where(User.tenant_id == tenant.id)))
    assert "x@evil.example" not in emails


def test_another_tenants_report_is_a_not_found_page(page: Page, live_server: LiveServer) -> None:
    server = live_server
    other = server.platform.tenant("enterprise")
    scanned = httpx.post(
        f"{server.url}/scan/iac",
        headers={**other.headers, "content-type": "application/json"},
        content=b'{"resources": []}',
        timeout=30,
    )
    _, email = owner_with_password(server)
    sign_in(page, server, email)
    report_id = scanned.json().get("report_id", "COMP-20260101-000000")

    answer = page.goto(f"{server.url}/portal/reports/{report_id}")

    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    look(page, "not-found")


@pytest.mark.parametrize("path", ["/login", "/portal/forgot-password"])
def test_the_public_pages_are_accessible(page: Page, live_server: LiveServer, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    look(page, path.strip("/").replace("/", "-"))


def test_single_sign_on_through_the_local_openid_provider(
    browser: Browser, live_server: LiveServer
) -> None:
    """The browser goes to the tenant's provider and back: the provider (the tests', on this
    machine) approves the person, and they land signed in on the portal."""
    server = live_server
    with LocalProvider(redirect_uri(server.settings)) as provider:
        tenant, email = owner_with_password(server)
        configured = httpx.put(
            f"{server.url}/tenant/sso",
            headers=tenant.headers,
            json={
                "issuer": provider.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "required": True,
            },
            timeout=10,
        )
        assert configured.status_code == 200, configured.text
        provider.claims = {"email": email, "email_verified": True}

        with watched_page(browser, server.url, provider.issuer) as (page, watch):
            page.goto(f"{server.url}/login")
            page.get_by_label("Email", exact=True).fill(email)  # a password is refused now
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in", exact=True).click()
            expect(page.locator("[data-form-error]")).to_contain_text("requires single sign-on")
            page.get_by_label("Work email").fill(email)
            page.get_by_role("button", name="Sign in with single sign-on").click()
            page.wait_for_url(f"{server.url}/portal/")
            expect(page.get_by_text(email)).to_be_visible()
            look(page, "signed-in-with-sso")
            assert watch.problems() == []
        assert provider.token_requests  # the code was redeemed by the server, not the browser


def test_every_other_page_is_screenshot_and_accessible(page: Page, live_server: LiveServer) -> None:
    """The pages the journey does not pass through, with data on them: the dashboard, one
    report's Enterprise pages, encryption, the emailed-link pages, and the operators' pages."""
    server = live_server
    tenant, email = owner_with_password(server)
    link_sample_snapshot(server.platform, tenant)
    report_id = ""
    for _ in range(2):
        scanned = httpx.post(
            f"{server.url}/scan",
            headers=tenant.headers,
            json={"frameworks": ["iso42001", "dora", "eu_ai_act"]},
            timeout=60,
        )
        assert scanned.status_code == 200, scanned.text
        report_id = scanned.json()["report_id"]
    # A template with a linked one, a type no check applies to and an undecided condition.
    body = template(account("stmaybe", condition="[parameters('deploy')]"), LINKED, VNET)
    iac = httpx.post(
        f"{server.url}/scan/iac",
        headers={**tenant.headers, "content-type": "application/json"},
        content=body,
        timeout=60,
    )
    assert iac.status_code == 200, iac.text
    sign_in(page, server, email)
    page.goto(f"{server.url}/portal/reports/{iac.json()['report_id']}")
    expect(page.locator('[aria-labelledby="left-out-h"] li')).to_have_count(2)
    expect(page.locator("strong.conditional").first).to_be_visible()
    look(page, "report-left-out")
    for path, name in (
        ("/portal/", "dashboard"),
        (f"/portal/reports/{report_id}/scorecard", "scorecard"),
        (f"/portal/reports/{report_id}/roadmap", "roadmap"),
        ("/portal/encryption", "encryption"),
        ("/portal/encryption/confirm-pmk?token=not-pending", "confirm-pmk"),
        ("/portal/reset-password?token=from-an-email", "reset-password"),
    ):
        answer = page.goto(f"{server.url}{path}")
        assert answer is not None
        assert answer.status == 200, path
        look(page, name)

    page.goto(f"{server.url}/portal/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/login")
    with server.platform.db() as session:
        from tutela.server.admin import service as admin

        operator = admin.ensure_operator(session, actor="tests", email="ops@example.com")
        operator_id = operator.id
    sign_in(page, server, server.platform.set_password(operator_id, PASSWORD))
    look(page, "operator")
    for path, name in (
        ("/portal/admin/tenants", "admin-tenants"),
        ("/portal/admin/audit", "admin-audit"),
    ):
        page.goto(f"{server.url}{path}")
        look(page, name)


def test_signing_in_works_from_the_keyboard_alone(page: Page, live_server: LiveServer) -> None:
    server = live_server
    _, email = owner_with_password(server)
    page.goto(f"{server.url}/login")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")  # to the page's main content
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-email":
            break
    assert page.evaluate("document.activeElement.id") == "f-email"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    page.wait_for_url(f"{server.url}/portal/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link, again
    assert page.evaluate("document.activeElement.id") == "main"


def test_accepted_risks_are_shown_wherever_a_report_is_read(
    page: Page, live_server: LiveServer
) -> None:
    """An exception approved between two governance scans: the later report lists the accepted
    pair, the comparison shows it apart from the resolved findings, governance counts it, and
    the scorecard says it is out of the score; each page accessible and phone-wide."""
    server = live_server
    tenant, email = owner_with_password(server)
    link_sample_snapshot(server.platform, tenant, DEV)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ids = []
    for moment in (now, now + dt.timedelta(days=1, hours=1)):
        [outcome] = [o for o in run_due(server.runtime, moment) if o.tenant_id == tenant.id]
        assert outcome.report_id is not None, outcome
        ids.append(outcome.report_id)
        if len(ids) == 1:  # a member asks, an admin approves, before the next scan
            accepted_by(server.platform, tenant)
    earlier, later = ids
    sign_in(page, server, email)

    page.goto(f"{server.url}/portal/reports/{later}")
    accepted = page.locator('[aria-labelledby="accepted-h"]')
    expect(accepted.get_by_role("heading", level=2)).to_have_text("Accepted risks (1)")
    expect(accepted.locator("tbody tr")).to_have_count(1)
    expect(accepted.locator("tbody")).to_contain_text(CHECK)
    look(page, "report-accepted")

    page.goto(f"{server.url}/portal/diff?a={earlier}&b={later}")
    expect(page.locator("#accepted-h")).to_contain_text("Accepted (")
    expect(page.locator("#resolved-h")).to_have_text("Resolved findings (0)")
    look(page, "diff-accepted")

    page.goto(f"{server.url}/portal/governance")
    expect(page.locator('[aria-labelledby="drift-h"]')).to_contain_text("accepted as risk")
    look(page, "governance-accepted")

    page.goto(f"{server.url}/portal/reports/{later}/scorecard")
    expect(page.locator("#accepted-risks")).to_contain_text("excluded from the score")
    look(page, "scorecard-accepted")
