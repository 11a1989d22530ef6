"""People signed in to the portal: password sign-in, the session cookie in place of an API key,
CSRF on every state-changing request, lock-out, rate limits, sign-out, idle and absolute expiry,
password resets, and nothing secret in a log line."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.platform import Platform, TenantCtx
from tests.server.encryption.helpers import mails_to
from tutela.server.audit.models import AuditEvent
from tutela.server.auth.models import WebSession
from tutela.server.db import utcnow
from tutela.server.tenants.models import Tenant, User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def platform(settings_factory: Any) -> Iterator[Platform]:
    with Platform(settings_factory(sign_in_limit="1000/minute")) as running:
        yield running


@pytest.fixture
def person(platform: Platform) -> tuple[TenantCtx, str]:
    """A tenant whose owner has a password: (tenant, owner's email)."""
    tenant = platform.tenant("professional")
    return tenant, platform.set_password(tenant.owner_id, PASSWORD)


def actions(platform: Platform, action: str) -> list[AuditEvent]:
    with platform.db() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        for row in rows:
            session.expunge(row)
        return rows


def sign_in(platform: Platform, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return platform.client.post(
        "/auth/sign-in", json={"email": email, "password": password, **extra}
    )


def test_a_person_signs_in_and_the_cookie_stands_in_for_a_key(
    platform: Platform, person: tuple[TenantCtx, str]
) -> None:
    tenant, email = person
    response = sign_in(platform, email.upper())  # emails match whatever their case

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["email"], body["role"], body["tenant_id"], body["plan"]) == (
        email,
        "owner",
        tenant.id,
        "professional",
    )
    assert "encryption:write" in body["scopes"]
    assert re.fullmatch(r"[0-9a-f]{64}", body["csrf_token"])
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("tutela_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    me = platform.client.get("/tenant/me")  # no key: the session
    assert me.status_code == 200, me.text
    assert me.json()["tenant_id"] == tenant.id
    assert platform.client.get("/auth/session").json()["csrf_token"] == body["csrf_token"]
    [event] = actions(platform, "signin.succeeded")
    assert event.details["method"] == "password"
    assert event.tenant_id == tenant.id


def test_a_state_changing_request_needs_the_sessions_csrf_token(
    platform: Platform, person: tuple[TenantCtx, str]
) -> None:
    _, email = person
    csrf = platform.sign_in(email, PASSWORD)
    body = {"subscription_ids": ["00000000-0000-0000-0000-000000000001"]}

    missing = platform.client.put("/tenant/subscriptions", json=body)
    wrong = platform.client.put(
        "/tenant/subscriptions", json=body, headers={"X-CSRF-Token": "0" * 64}
    )
    cross_site = platform.client.put(
        "/tenant/subscriptions", json=body, headers={**csrf, "Origin": "https://evil.example"}
    )
    right = platform.client.put(  # the TestClient's own address is this site's
        "/tenant/subscriptions", json=body, headers={**csrf, "Origin": "http://testserver"}
    )
    public = platform.client.put(  # and so is TUTELA_PUBLIC_URL's
        "/tenant/subscriptions", json=body, headers={**csrf, "Origin": "http://127.0.0.1:8000"}
    )
    assert public.status_code == 200, public.text

    assert (missing.status_code, wrong.status_code, cross_site.status_code) == (403, 403, 403)
    assert "X-CSRF-Token" in missing.json()["detail"]
    assert cross_site.json()["detail"] == "Cross-site request refused"
    assert right.status_code == 200, right.text
    linked = platform.client.get("/tenant/me").json()["azure_subscription_ids"]
    assert linked == body["subscription_ids"]


def test_a_session_has_its_roles_scopes_and_no_more(platform: Platform) -> None:
    tenant = platform.tenant()
    auditor_id, _ = platform.user(tenant, "auditor")
    csrf = platform.sign_in(platform.set_password(auditor_id, PASSWORD), PASSWORD)

    refused = platform.client.post("/scan", json={"frameworks": ["dora"]}, headers=csrf)

    assert refused.status_code == 403
    assert refused.json()["detail"] == "Your role lacks the required scope: scan:run"
    assert platform.client.get("/reports").status_code == 200


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    platform: Platform, person: tuple[TenantCtx, str]
) -> None:
    _, email = person
    wrong = sign_in(platform, email, "not the password at all")
    unknown = sign_in(platform, "nobody@example.com")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Email or password is incorrect"}
    assert "set-cookie" not in wrong.headers
    assert platform.client.get("/tenant/me").status_code == 401
    reasons = sorted(event.details["reason"] for event in actions(platform, "signin.failed"))
    assert reasons == ["no such account", "wrong password"]


def test_consecutive_failures_lock_the_account_until_the_lock_ends(
    platform: Platform, person: tuple[TenantCtx, str]
) -> None:
    tenant, email = person
    for _ in range(4):
        assert sign_in(platform, email, "guess guess guess").status_code == 401
    assert sign_in(platform, email, "guess guess guess").status_code == 401  # the fifth locks

    locked = sign_in(platform, email)  # even with the right password

    assert locked.status_code == 429
    assert 800 < int(locked.headers["retry-after"]) <= 900
    assert "locked" in locked.json()["detail"]
    assert actions(platform, "signin.failed")[-1].details["locked"] is True
    with platform.db() as session:  # the lock runs out
        session.execute(
            update(User)
            .where(User.id == tenant.owner_id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1))
        )
    assert sign_in(platform, email).status_code == 200
    with platform.db() as session:
        owner = session.get(User, tenant.owner_id)
        assert owner is not None
        assert (owner.failed_sign_ins, owner.locked_until) == (0, None)


def test_sign_ins_from_one_address_are_rate_limited(settings_factory: Any) -> None:
    with Platform(settings_factory(sign_in_limit="3/minute")) as platform:
        statuses = [sign_in(platform, f"n{i}@example.com").status_code for i in range(4)]
        assert statuses == [401, 401, 401, 429]


def test_sign_out_ends_the_session_on_the_server(
    platform: Platform, person: tuple[TenantCtx, str]
) -> None:
    _, email = person
    response = sign_in(platform, email)
    token = response.cookies["tutela_session"]
    csrf = {"X-CSRF-Token": response.json()["csrf_token"]}

    assert platform.client.post("/auth/sign-out").status_code == 403  # CSRF here too
    out = platform.client.post("/auth/sign-out", headers=csrf)

    assert out.status_code == 204
    assert 'tutela_session=""' in out.headers["set-cookie"]
    # The same cookie, replayed by someone who kept it, opens nothing.
    platform.client.cookies.set("tutela_session", token)
    replayed = platform.client.get("/tenant/me")
    assert replayed.status_code == 401
    assert replayed.json()["detail"] == "Signed out: sign in again"
    assert len(actions(platform, "signout")) == 1


@pytest.mark.parametrize("which", ["idle", "absolute"])
def test_a_session_expires_when_idle_or_at_its_end(
    platform: Platform, person: tuple[TenantCtx, str], which: str
) -> None:
    _, email = person
    sign_in(platform, email)
    past = utcnow() - dt.timedelta(minutes=31 if which == "idle" else 1)
    column = "last_seen_at" if which == "idle" else "expires_at"
    with platform.db() as session:
        session.execute(update(WebSession).values({column: past}))

    response = platform.client.get("/tenant/me")

    assert response.status_code == 401
    assert response.json()["detail"] == "Session expired: sign in again"


def test_a_suspended_tenants_people_cannot_sign_in_or_use_a_session(
    platform: Platform, person: tuple[TenantCtx, str]
) -> None:
    tenant, email = person
    sign_in(platform, email)
    with platform.db() as session:
        session.execute(update(Tenant).where(Tenant.id == tenant.id).values(status="suspended"))

    assert platform.client.get("/tenant/me").status_code == 403
    assert sign_in(platform, email).status_code == 403


def test_an_api_key_wins_over_a_cookie(platform: Platform, person: tuple[TenantCtx, str]) -> None:
    _, email = person
    other = platform.tenant()
    sign_in(platform, email)

    me = platform.client.get("/tenant/me", headers=other.headers)

    assert me.json()["tenant_id"] == other.id  # the key's tenant, not the session's
    # and a key needs no CSRF token
    linked = platform.client.put(
        "/tenant/subscriptions", json={"subscription_ids": []}, headers=other.headers
    )
    assert linked.status_code == 200


def test_over_https_the_cookie_is_secure_and_host_bound(settings_factory: Any) -> None:
    settings = settings_factory(public_url="https://tutela.example.com")
    with Platform(settings) as platform:
        tenant = platform.tenant()
        email = platform.set_password(tenant.owner_id, PASSWORD)
        response = sign_in(platform, email)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-tutela_session=")
    assert "Secure" in cookie


def test_a_password_reset_mails_a_link_that_works_once_and_ends_old_sessions(
    platform: Platform, person: tuple[TenantCtx, str]
) -> None:
    tenant, email = person
    old = sign_in(platform, email).cookies["tutela_session"]
    platform.client.cookies.clear()

    asked = platform.client.post("/auth/password-reset", json={"email": email})
    nobody = platform.client.post("/auth/password-reset", json={"email": "nobody@example.com"})

    assert asked.status_code == nobody.status_code == 202
    assert asked.json() == nobody.json()
    [(subject, text)] = mails_to(platform, email)
    assert subject == "Tutela: reset your password"
    [token] = re.findall(r"/portal/reset-password\?token=([A-Za-z0-9_-]+)", text)
    new_password = "a whole new passphrase"
    weak = platform.client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "short"}
    )
    assert weak.status_code == 422
    done = platform.client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": new_password}
    )
    assert done.status_code == 200, done.text
    assert done.json()["email"] == email
    assert platform.client.get("/tenant/me").status_code == 200  # signed in by the reset
    again = platform.client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": new_password}
    )
    assert again.status_code == 422
    platform.client.cookies.clear()
    platform.client.cookies.set("tutela_session", old)
    assert platform.client.get("/tenant/me").status_code == 401
    assert sign_in(platform, email).status_code == 401
    assert sign_in(platform, email, new_password).status_code == 200
    [reset] = actions(platform, "password.reset")
    assert (reset.tenant_id, reset.details["sessions_ended"]) == (tenant.id, 1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, settings_factory: Any) -> Iterator[Platform]:
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    with Platform(settings_factory(**overrides)) as running:
        yield running


def test_an_idempotent_post_from_the_portal_is_replayed_to_the_same_session(
    any_store: Platform,
) -> None:
    platform = any_store
    tenant = platform.tenant()
    csrf = platform.sign_in(platform.set_password(tenant.owner_id, PASSWORD), PASSWORD)
    headers = {**csrf, "Idempotency-Key": "portal-1"}
    body = {"name": "from the portal", "scopes": ["tenant:read"]}

    first = platform.client.post("/api-keys", json=body, headers=headers)
    replay = platform.client.post("/api-keys", json=body, headers=headers)
    no_csrf = platform.client.post("/api-keys", json=body, headers={"Idempotency-Key": "portal-1"})

    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert replay.json() == first.json()
    assert no_csrf.status_code == 403  # no replay of a kept answer without the token


def test_no_password_token_or_csrf_token_reaches_a_log_line(
    platform: Platform, person: tuple[TenantCtx, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, email = person
    response = sign_in(platform, email)
    csrf = response.json()["csrf_token"]
    sign_in(platform, email, "wrong wrong wrong")
    platform.client.post("/auth/sign-out", headers={"X-CSRF-Token": csrf})

    logged = caplog.text
    assert "request method=POST path=/auth/sign-in status=200" in logged
    for secret in (PASSWORD, "wrong wrong wrong", response.cookies["tutela_session"], csrf):
        assert secret not in logged


def test_an_email_in_many_tenants_signs_in_by_naming_one(platform: Platform) -> None:
    """Every account of an email costs a password check: past ten, the tenant is asked for."""
    from tutela.server.admin import service as admin

    tenants = [platform.tenant() for _ in range(11)]
    for tenant in tenants:
        with platform.db() as session:
            created = admin.add_user(
                session,
                platform.runtime.key_policy(),
                actor="tests",
                tenant_id=tenant.id,
                email="consultant@example.com",
                role="auditor",
            )
            user_id = created.user.id
        platform.set_password(user_id, PASSWORD)

    unnamed = sign_in(platform, "consultant@example.com")
    named = sign_in(platform, "consultant@example.com", tenant_id=tenants[7].id)

    assert unnamed.status_code == 403
    assert "more than 10 tenants: give tenant_id" in unnamed.json()["detail"]
    assert named.status_code == 200, named.text
    assert named.json()["tenant_id"] == tenants[7].id
