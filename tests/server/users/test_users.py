"""/tenant/users: owners and admins list, invite, re-invite, change the role of and remove people;
an invited person accepts with the emailed link's token."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.platform import Platform, TenantCtx, auth
from tests.server.encryption.helpers import mails_to
from tutela.server.audit.models import AuditEvent
from tutela.server.auth.models import OneTimeLink
from tutela.server.config import Settings
from tutela.server.tenants.models import Tenant, User

LINK = re.compile(r"https?://\S+")
PASSWORD = "correct horse battery staple"


def invite(platform: Platform, key: str, email: str, role: str = "member") -> dict[str, object]:
    response = platform.client.post(
        "/tenant/users", headers=auth(key), json={"email": email, "role": role}
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def mailed_token(platform: Platform, address: str) -> str:
    """The token of the newest invitation link mailed to ``address``."""
    _, text = mails_to(platform, address)[-1]
    [link] = LINK.findall(text)
    [token] = parse_qs(urlsplit(str(link)).query)["token"]
    return token


def accept(platform: Platform, token: str, password: str = PASSWORD) -> int:
    browser = TestClient(platform.app)
    return browser.post(
        "/auth/invitations/accept", json={"token": token, "password": password}
    ).status_code


def people(platform: Platform, key: str) -> dict[str, dict[str, object]]:
    response = platform.client.get("/tenant/users", headers=auth(key))
    assert response.status_code == 200, response.text
    return {item["email"]: item for item in response.json()["items"]}


def audited(platform: Platform, action: str, user_id: str) -> list[AuditEvent]:
    with platform.db() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == action, AuditEvent.target == f"user:{user_id}"
                )
            )
        )


def expire_invitations(platform: Platform, user_id: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with platform.db() as session:
        session.execute(
            update(OneTimeLink).where(OneTimeLink.user_id == user_id).values(expires_at=past)
        )


def test_an_invitation_is_mailed_with_a_one_time_link(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    before = dt.datetime.now(dt.UTC)

    response = platform.client.post(
        "/tenant/users",
        headers=tenant.headers,
        json={"email": "new.person@example.com", "role": "auditor"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    user = body["user"]
    assert response.headers["location"] == f"/tenant/users/{user['id']}"
    assert (user["email"], user["role"], user["status"]) == (
        "new.person@example.com",
        "auditor",
        "invited",
    )
    assert body["invitation_sent"] is True
    expires = dt.datetime.fromisoformat(body["invitation_expires_at"])
    assert user["invitation_expires_at"] == body["invitation_expires_at"]
    assert before + dt.timedelta(days=7) <= expires <= before + dt.timedelta(days=7, minutes=1)
    assert "password" not in response.text

    [(subject, text)] = mails_to(platform, "new.person@example.com")
    assert subject == "Tutela: you are invited"
    with platform.db() as session:
        tenant_name = session.get(Tenant, tenant.id).name  # type: ignore[union-attr]
        owner = session.get(User, tenant.owner_id)
        assert owner is not None
    assert f"{owner.email} invited you to {tenant_name} on Tutela, as auditor." in text
    [link] = LINK.findall(text)
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}" == platform.settings.resolved_public_url
    assert url.path == "/portal/accept-invitation"
    token = mailed_token(platform, "new.person@example.com")
    assert len(token) >= 43
    assert text.count(token) == 1  # in the link only, and nothing else secret
    assert tenant.owner_key not in text
    assert expires.strftime("until %Y-%m-%d %H:%M UTC") in text
    assert token not in response.text

    [event] = audited(platform, "user.invited", user["id"])
    assert event.tenant_id == tenant.id
    assert event.details["role"] == "auditor"
    assert token not in str(event.details)
    assert token not in event.actor


def test_who_may_be_invited_and_by_whom(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    _, admin_key = platform.user(tenant, role="admin")
    _, member_key = platform.user(tenant, role="member")
    invite(platform, tenant.owner_key, "taken@example.com")

    def post(key: str, email: str, role: str) -> int:
        body = {"email": email, "role": role}
        return platform.client.post("/tenant/users", headers=auth(key), json=body).status_code

    assert post(tenant.owner_key, "taken@example.com", "member") == 409
    assert post(tenant.owner_key, "Taken@Example.com", "auditor") == 409  # case aside, the same
    assert post(tenant.owner_key, "second@example.com", "owner") == 422
    assert post(tenant.owner_key, "not an email", "member") == 422
    assert post(tenant.owner_key, "someone@invalid", "member") == 422
    assert post(admin_key, "would-be-admin@example.com", "admin") == 403
    assert post(member_key, "by-a-member@example.com", "member") == 403  # lacks tenant:write
    assert post(admin_key, "by-an-admin@example.com", "member") == 201
    assert post(tenant.owner_key, "an-admin@example.com", "admin") == 201
    assert mails_to(platform, "would-be-admin@example.com") == []


def test_the_list_shows_each_persons_status_and_never_a_hash(any_platform: Platform) -> None:
    platform = any_platform
    tenant, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    active_id, _ = platform.user(tenant, role="admin")
    active_email = platform.set_password(active_id, PASSWORD)
    invited = invite(platform, tenant.owner_key, "invited@example.com")["user"]
    lapsed = invite(platform, tenant.owner_key, "lapsed@example.com")["user"]
    expire_invitations(platform, lapsed["id"])  # type: ignore[index]
    locked_until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15)
    with platform.db() as session:
        session.execute(update(User).where(User.id == active_id).values(locked_until=locked_until))
    invite(platform, other.owner_key, "elsewhere@example.com")

    listed = people(platform, tenant.owner_key)

    assert set(listed) >= {active_email, "invited@example.com", "lapsed@example.com"}
    assert "elsewhere@example.com" not in listed
    assert listed[active_email]["status"] == "active"
    assert listed[active_email]["invitation_expires_at"] is None
    assert dt.datetime.fromisoformat(str(listed[active_email]["locked_until"])) == locked_until
    assert listed["invited@example.com"]["status"] == "invited"
    assert listed["invited@example.com"]["id"] == invited["id"]  # type: ignore[index]
    assert listed["invited@example.com"]["locked_until"] is None
    assert listed["lapsed@example.com"]["status"] == "invitation expired"
    assert listed["lapsed@example.com"]["invitation_expires_at"] is None
    text = platform.client.get("/tenant/users", headers=tenant.headers).text
    assert "argon2" not in text
    assert "password" not in text

    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = platform.client.get("/tenant/users", headers=tenant.headers, params=params).json()
        seen += [item["email"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert sorted(seen) == sorted(listed)
    assert seen[0] == "lapsed@example.com"  # newest first


def test_a_new_invitation_replaces_the_old_link(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    user = invite(platform, tenant.owner_key, "twice@example.com")["user"]
    user_id = user["id"]  # type: ignore[index]
    first = mailed_token(platform, "twice@example.com")
    expire_invitations(platform, user_id)
    assert people(platform, tenant.owner_key)["twice@example.com"]["status"] == (
        "invitation expired"
    )

    response = platform.client.post(f"/tenant/users/{user_id}/invitation", headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["status"] == "invited"
    assert response.json()["invitation_sent"] is True
    second = mailed_token(platform, "twice@example.com")
    assert second != first
    assert len(mails_to(platform, "twice@example.com")) == 2
    assert accept(platform, first) == 422
    assert accept(platform, second) == 200
    assert len(audited(platform, "user.invitation_resent", user_id)) == 1
    again = platform.client.post(f"/tenant/users/{user_id}/invitation", headers=tenant.headers)
    assert again.status_code == 409  # a password is set: nothing to accept any more


def test_accepting_an_invitation_sets_the_password_and_signs_in(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    invite(platform, tenant.owner_key, "joiner@example.com")
    token = mailed_token(platform, "joiner@example.com")

    assert accept(platform, token, "a" * 16) == 422  # too few different characters
    assert accept(platform, token, "joiner@example.com") == 422  # the email address
    assert people(platform, tenant.owner_key)["joiner@example.com"]["status"] == "invited"

    browser = TestClient(platform.app)
    accepted = browser.post("/auth/invitations/accept", json={"token": token, "password": PASSWORD})

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["email"] == "joiner@example.com"
    assert "tutela_session" in accepted.headers["set-cookie"]
    assert browser.get("/tenant/me").status_code == 200  # the cookie is a member's session
    assert people(platform, tenant.owner_key)["joiner@example.com"]["status"] == "active"
    assert accept(platform, token) == 422  # once only
    signed_in = TestClient(platform.app).post(
        "/auth/sign-in", json={"email": "joiner@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 200


def test_an_expired_invitation_cannot_be_accepted(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    user = invite(platform, tenant.owner_key, "late@example.com")["user"]
    token = mailed_token(platform, "late@example.com")
    expire_invitations(platform, user["id"])  # type: ignore[index]

    assert accept(platform, token) == 422
    assert people(platform, tenant.owner_key)["late@example.com"]["status"] == (
        "invitation expired"
    )


def test_a_role_change_narrows_the_persons_keys_at_once(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    admin_id, admin_key = platform.user(tenant, role="admin")
    member_id, _ = platform.user(tenant, role="member")
    assert platform.client.get("/tenant/users", headers=auth(admin_key)).status_code == 200

    response = platform.client.put(
        f"/tenant/users/{admin_id}/role", headers=tenant.headers, json={"role": "member"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "member"
    refused = platform.client.get("/tenant/users", headers=auth(admin_key))
    assert refused.status_code == 403
    assert "tenant:write" in refused.json()["detail"]
    [event] = audited(platform, "user.role_changed", admin_id)
    assert (event.details["from"], event.details["to"]) == ("admin", "member")

    promoted = platform.client.put(
        f"/tenant/users/{member_id}/role", headers=tenant.headers, json={"role": "admin"}
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "admin"


def test_role_changes_the_rules_refuse(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    admin_id, admin_key = platform.user(tenant, role="admin")
    other_admin_id, _ = platform.user(tenant, role="admin")
    member_id, _ = platform.user(tenant, role="member")

    def put(key: str, user_id: str, role: str) -> int:
        url = f"/tenant/users/{user_id}/role"
        return platform.client.put(url, headers=auth(key), json={"role": role}).status_code

    assert put(tenant.owner_key, tenant.owner_id, "admin") == 409  # the owner's role
    assert put(admin_key, tenant.owner_id, "member") == 409
    assert put(admin_key, admin_id, "member") == 409  # one's own
    assert put(tenant.owner_key, member_id, "owner") == 422
    assert put(admin_key, member_id, "admin") == 403  # only the owner makes admins
    assert put(admin_key, other_admin_id, "member") == 403  # nor demotes them
    assert put(admin_key, member_id, "auditor") == 200
    assert audited(platform, "user.role_changed", other_admin_id) == []


def test_removing_a_person_ends_their_keys_and_sessions(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    member_id, member_key = platform.user(tenant, role="member")
    browser = TestClient(platform.app)
    email = platform.set_password(member_id, PASSWORD)
    signed_in = browser.post("/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200
    assert browser.get("/tenant/me").status_code == 200
    assert platform.client.get("/tenant/me", headers=auth(member_key)).status_code == 200

    response = platform.client.delete(f"/tenant/users/{member_id}", headers=tenant.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert platform.client.get("/tenant/me", headers=auth(member_key)).status_code == 401
    assert browser.get("/tenant/me").status_code == 401
    gone = platform.client.get(f"/tenant/users/{member_id}", headers=tenant.headers)
    assert gone.status_code == 404
    assert email not in people(platform, tenant.owner_key)
    [event] = audited(platform, "user.removed", member_id)
    assert event.details == {"email": email, "role": "member"}


def test_removals_the_rules_refuse(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    admin_id, admin_key = platform.user(tenant, role="admin")
    other_admin_id, _ = platform.user(tenant, role="admin")
    auditor_id, _ = platform.user(tenant, role="auditor")

    def delete(key: str, user_id: str) -> int:
        return platform.client.delete(f"/tenant/users/{user_id}", headers=auth(key)).status_code

    assert delete(admin_key, tenant.owner_id) == 409
    assert delete(tenant.owner_key, tenant.owner_id) == 409
    assert delete(admin_key, admin_id) == 409
    assert delete(admin_key, other_admin_id) == 403
    assert delete(admin_key, auditor_id) == 204
    assert delete(tenant.owner_key, other_admin_id) == 204
    assert audited(platform, "user.removed", admin_id) == []


def test_another_tenants_person_is_not_found(platform: Platform) -> None:
    tenant, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    stranger = invite(platform, other.owner_key, "stranger@example.com")["user"]
    url = f"/tenant/users/{stranger['id']}"  # type: ignore[index]

    answers = [
        platform.client.get(url, headers=tenant.headers),
        platform.client.post(f"{url}/invitation", headers=tenant.headers),
        platform.client.put(f"{url}/role", headers=tenant.headers, json={"role": "auditor"}),
        platform.client.delete(url, headers=tenant.headers),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert people(platform, other.owner_key)["stranger@example.com"]["role"] == "member"
    assert len(mails_to(platform, "stranger@example.com")) == 1


def test_an_invitation_that_cannot_be_mailed_still_adds_the_person(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the outbox folder should be")
    with Platform(settings_factory(outbox_dir=blocked)) as platform:
        tenant: TenantCtx = platform.tenant("enterprise")

        body = invite(platform, tenant.owner_key, "unlucky@example.com")

        assert body["invitation_sent"] is False
        assert people(platform, tenant.owner_key)["unlucky@example.com"]["status"] == "invited"
        user_id = body["user"]["id"]  # type: ignore[index]
        again = platform.client.post(f"/tenant/users/{user_id}/invitation", headers=tenant.headers)
        assert again.status_code == 200
        assert again.json()["invitation_sent"] is False


@pytest.mark.parametrize("role", ["admin", "member", "auditor"])
def test_an_invited_person_gets_their_roles_scopes(platform: Platform, role: str) -> None:
    tenant = platform.tenant("enterprise")
    invite(platform, tenant.owner_key, f"{role}@example.com", role)
    browser = TestClient(platform.app)
    accepted = browser.post(
        "/auth/invitations/accept",
        json={"token": mailed_token(platform, f"{role}@example.com"), "password": PASSWORD},
    )
    assert accepted.status_code == 200
    assert accepted.json()["role"] == role
    assert (browser.get("/tenant/users").status_code == 200) == (role == "admin")
