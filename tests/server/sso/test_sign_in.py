"""Signing in through the tenant's OpenID provider, against a real local provider: the whole
round trip, every way it is refused (each audited), required single sign-on, and no secret,
code or token in a log line or a response."""

from __future__ import annotations

import datetime as dt
import html
import logging
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from tests.platform import Platform
from tests.server.encryption.helpers import mails_to
from tests.server.sso.conftest import SsoTenant, configure
from tests.server.sso.provider import CLIENT_SECRET, MISBEHAVIOURS, LocalProvider
from tutela.server.audit.models import AuditEvent
from tutela.server.auth import links
from tutela.server.auth.models import WebSession
from tutela.server.db import utcnow
from tutela.server.sso.flow import SIGN_IN_ERRORS
from tutela.server.sso.models import SsoAttempt
from tutela.server.tenants.models import User

PASSWORD = "correct horse battery staple"


def start(platform: Platform, email: str, **params: str) -> httpx.Response:
    return platform.client.get(
        "/auth/sso/start", params={"email": email, **params}, follow_redirects=False
    )


def at_provider(location: str) -> str:
    """The browser at the provider, which signs the person in at once: the callback's URL,
    as a path and query of the platform (the test client is the platform's browser)."""
    with httpx.Client() as browser:
        answer = browser.get(location)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    return f"{back.path}?{back.query}"


def sign_in(platform: Platform, email: str, **params: str) -> httpx.Response:
    """The whole round trip; the platform's answer to the provider's redirect."""
    out = start(platform, email, **params)
    assert out.status_code == 303, out.text
    return platform.client.get(at_provider(out.headers["location"]), follow_redirects=False)


def refused_with(response: httpx.Response) -> str:
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    [code] = parse_qs(location.query)["sso_error"]
    return code


def failures(platform: Platform) -> list[dict[str, Any]]:
    with platform.db() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "signin.failed"))
        return [{"tenant_id": row.tenant_id, "actor": row.actor, **row.details} for row in rows]


def signed_in_as(platform: Platform) -> str | None:
    session = platform.client.get("/auth/session")
    return session.json()["email"] if session.status_code == 200 else None


@pytest.mark.parametrize("auth_method", ["client_secret_post", "client_secret_basic"])
def test_a_person_signs_in_through_the_provider(platform: Platform, auth_method: str) -> None:
    with LocalProvider(
        "http://127.0.0.1:8000/auth/sso/callback", auth_method=auth_method
    ) as provider:
        tenant = platform.tenant("professional")
        email = platform.set_password(tenant.owner_id, PASSWORD)
        assert configure(platform, tenant, provider.issuer).status_code == 200
        provider.claims = {"email": email.upper(), "email_verified": True}  # any case

        out = start(platform, email, next="/portal/reports")
        asked = parse_qs(urlsplit(out.headers["location"]).query)
        back = platform.client.get(at_provider(out.headers["location"]), follow_redirects=False)

        [token_request] = provider.token_requests
    assert out.headers["location"].startswith(f"{provider.issuer}/authorize?")
    assert asked["response_type"] == ["code"]
    assert asked["scope"] == ["openid email profile"]
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["login_hint"] == [email]
    assert {"state", "nonce", "code_challenge"} <= asked.keys()
    assert "code_verifier=" in token_request["body"]  # PKCE: the provider checked it
    sent_secret = CLIENT_SECRET in token_request["body"]
    assert sent_secret is (auth_method == "client_secret_post")
    assert (token_request["authorization"] is not None) is (auth_method == "client_secret_basic")
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/portal/reports"
    assert back.cookies["tutela_session"]
    assert signed_in_as(platform) == email
    with platform.db() as session:
        [web] = session.scalars(select(WebSession))
        assert web.method == "sso"
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "signin.succeeded"))
        assert (event.tenant_id, event.details["method"]) == (tenant.id, "sso")


def test_the_email_may_come_from_preferred_username(
    platform: Platform, provider: LocalProvider, sso_tenant: SsoTenant
) -> None:
    tenant, email = sso_tenant.tenant, sso_tenant.email
    configure(platform, tenant, provider.issuer, email_claim="preferred_username")
    provider.claims = {"preferred_username": email}

    assert sign_in(platform, email).status_code == 303
    assert signed_in_as(platform) == email


def test_the_providers_answer_works_once(
    platform: Platform, provider: LocalProvider, sso_tenant: SsoTenant
) -> None:
    out = start(platform, sso_tenant.email)
    callback = at_provider(out.headers["location"])
    assert platform.client.get(callback, follow_redirects=False).status_code == 303
    platform.client.cookies.clear()

    replayed = platform.client.get(callback, follow_redirects=False)

    assert refused_with(replayed) == "expired"
    assert signed_in_as(platform) is None
    assert failures(platform)[-1]["reason"] == "state already used"


def test_an_expired_sign_in_is_refused(
    platform: Platform, provider: LocalProvider, sso_tenant: SsoTenant
) -> None:
    out = start(platform, sso_tenant.email)
    with platform.db() as session:
        session.execute(update(SsoAttempt).values(expires_at=utcnow() - dt.timedelta(seconds=1)))

    back = platform.client.get(at_provider(out.headers["location"]), follow_redirects=False)

    assert refused_with(back) == "expired"
    assert signed_in_as(platform) is None
    [failure] = failures(platform)
    assert (failure["reason"], failure["method"]) == ("sign-in expired", "sso")
    assert failure["tenant_id"] == sso_tenant.tenant.id


def test_a_forged_state_is_refused(platform: Platform, sso_tenant: SsoTenant) -> None:
    back = platform.client.get(
        "/auth/sso/callback", params={"code": "c", "state": "forged"}, follow_redirects=False
    )

    assert refused_with(back) == "expired"
    assert failures(platform)[0]["reason"] == "unknown state"


@pytest.mark.parametrize("how", MISBEHAVIOURS)
def test_an_id_token_that_does_not_hold_is_refused(
    platform: Platform, provider: LocalProvider, sso_tenant: SsoTenant, how: str
) -> None:
    with provider.misbehaving(how):
        back = sign_in(platform, sso_tenant.email)

    assert refused_with(back) == "failed"
    assert signed_in_as(platform) is None
    [failure] = failures(platform)
    assert failure["reason"].startswith("ID token refused"), failure
    assert failure["tenant_id"] == sso_tenant.tenant.id
    expected = {"audience": "aud", "signature": "bad_signature", "nonce": "nonce"}[how]
    assert expected in failure["reason"]


def test_the_providers_refusal_is_audited(
    platform: Platform, provider: LocalProvider, sso_tenant: SsoTenant
) -> None:
    out = start(platform, sso_tenant.email)
    [state] = parse_qs(urlsplit(out.headers["location"]).query)["state"]

    back = platform.client.get(
        "/auth/sso/callback",
        params={"state": state, "error": "access_denied", "error_description": "no"},
        follow_redirects=False,
    )

    assert refused_with(back) == "refused"
    assert failures(platform)[0]["reason"] == "provider error: access_denied"


def test_single_sign_on_creates_no_account(
    platform: Platform, provider: LocalProvider, sso_tenant: SsoTenant
) -> None:
    elsewhere = platform.tenant()  # a user of another tenant is no user of this one
    with platform.db() as session:
        other = session.get(User, elsewhere.owner_id)
        assert other is not None
        other_email = other.email
    for email in ("stranger@example.com", other_email):
        provider.claims = {"email": email}

        back = sign_in(platform, sso_tenant.email)

        assert refused_with(back) == "no-account"
        assert signed_in_as(platform) is None
    reasons = [(f["reason"], f["actor"]) for f in failures(platform)]
    assert reasons == [
        ("the provider's email is not a user of the tenant", "stranger@example.com"),
        ("the provider's email is not a user of the tenant", other_email),
    ]


def test_no_such_person_and_no_provider_get_the_same_answer(
    platform: Platform, sso_tenant: SsoTenant
) -> None:
    without = platform.tenant()
    email = platform.set_password(without.owner_id, PASSWORD)

    unknown = start(platform, "nobody@example.com", next="/portal/reports")
    no_provider = start(platform, email, next="/portal/reports")

    assert unknown.headers["location"] == no_provider.headers["location"]
    assert refused_with(unknown) == "unavailable"
    assert "next=%2Fportal%2Freports" in unknown.headers["location"]
    assert [f["reason"] for f in failures(platform)] == [
        "unavailable: no single provider for this email"
    ] * 2


def test_required_single_sign_on_refuses_passwords_and_resets(
    platform: Platform, provider: LocalProvider, sso_tenant: SsoTenant
) -> None:
    tenant, email = sso_tenant.tenant, sso_tenant.email
    platform.set_password(tenant.owner_id, PASSWORD)
    configure(platform, tenant, provider.issuer, required=True)

    right = platform.client.post("/auth/sign-in", json={"email": email, "password": PASSWORD})
    wrong = platform.client.post("/auth/sign-in", json={"email": email, "password": "x" * 20})
    reset = platform.client.post("/auth/password-reset", json={"email": email})

    assert right.status_code == 403
    assert right.json() == {"detail": "This tenant requires single sign-on"}
    assert wrong.status_code == 401  # nothing more told to whoever lacks the password
    assert reset.status_code == 202
    assert mails_to(platform, email) == []
    with platform.db() as session:
        [refusal] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "password.reset_refused")
        )
        assert refusal.tenant_id == tenant.id
    assert sign_in(platform, email).status_code == 303
    assert signed_in_as(platform) == email


@pytest.mark.parametrize("purpose", ["invitation", "reset"])
def test_required_single_sign_on_refuses_a_link_that_would_set_a_password(
    platform: Platform, provider: LocalProvider, sso_tenant: SsoTenant, purpose: str
) -> None:
    """A link mailed before SSO was required opens no session around it, and stays unused."""
    tenant = sso_tenant.tenant
    with platform.db() as session:
        owner = session.get(User, tenant.owner_id)
        assert owner is not None
        issued = links.issue(
            session, owner, purpose, lifetime=dt.timedelta(hours=1), created_by="tests"
        )
    configure(platform, tenant, provider.issuer, required=True)
    path = "/auth/invitations/accept" if purpose == "invitation" else "/auth/password-reset/confirm"
    body = {"token": issued.token, "password": "a long enough passphrase"}

    refused = platform.client.post(path, json=body)

    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("This tenant requires single sign-on")
    assert "set-cookie" not in refused.headers
    configure(platform, tenant, provider.issuer, required=False)
    assert platform.client.post(path, json=body).status_code == 200  # the link was not used up


def test_the_login_page_shows_our_sentence_for_a_code_and_nothing_else(
    platform: Platform,
) -> None:
    known = html.unescape(platform.client.get("/login", params={"sso_error": "no-account"}).text)
    crafted = platform.client.get("/login", params={"sso_error": "Call 555-0100 now"}).text

    assert f'role="alert">{SIGN_IN_ERRORS["no-account"]}' in known
    assert SIGN_IN_ERRORS["failed"] in html.unescape(crafted)
    assert "555-0100" not in crafted
    assert '<p class="form-error" role="alert">' not in platform.client.get("/login").text


def test_no_secret_code_or_token_reaches_a_log_line_or_a_response(
    platform: Platform, provider: LocalProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = platform.tenant()
    with platform.db() as session:
        owner = session.get(User, tenant.owner_id)
        assert owner is not None
        email = owner.email
    provider.claims = {"email": email}
    answers = [configure(platform, tenant, provider.issuer)]
    answers.append(platform.client.get("/tenant/sso", headers=tenant.headers))
    out = start(platform, email)
    callback = at_provider(out.headers["location"])
    answers += [out, platform.client.get(callback, follow_redirects=False)]
    answers.append(platform.client.get(callback, follow_redirects=False))  # a replay, refused
    with provider.misbehaving("signature"):
        answers.append(sign_in(platform, email))

    assert answers[3].status_code == 303
    assert answers[3].headers["location"] == "/portal/"
    secrets = [CLIENT_SECRET, *provider.issued]
    assert len(secrets) == 7  # the secret, and two codes, access tokens and ID tokens
    # The test's own HTTP clients (the browser, in this thread; the platform answers in
    # others) log the URLs they follow, the provider's redirect with the code among them: the
    # browser's side, not the platform's. The provider's own log is not the platform's either.
    platform_lines = [
        record.getMessage()
        for record in caplog.records
        if not (
            record.name.startswith(("httpx", "httpcore"))
            and record.thread == threading.main_thread().ident
        )
        and not record.name.startswith(("pyop", "oic"))
    ]
    with platform.db() as session:
        audit = [str(row.details) for row in session.scalars(select(AuditEvent))]
    for secret in secrets:
        assert not [line for line in platform_lines if secret in line]
        assert not [a for a in answers if secret in a.text or secret in str(a.headers)]
        assert not [row for row in audit if secret in row]
