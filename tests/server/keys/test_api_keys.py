"""API keys over HTTP: shown once, scoped within the owner, expiring, renamable, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import select

from tests.platform import Platform, TenantCtx, auth
from tutela.server.auth.scopes import Scope
from tutela.server.keys.models import ApiKey

KEY_SHAPE = re.compile(r"^tut_[0-9A-Za-z]{38}$")


@pytest.fixture
def owner(platform: Platform) -> TenantCtx:
    return platform.tenant("professional")


def create(platform: Platform, key: str, **body: object) -> dict[str, object]:
    payload = {"name": "ci", "scopes": ["tenant:read"], **body}
    response = platform.client.post("/api-keys", headers=auth(key), json=payload)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_created_key_is_shown_once_and_works(platform: Platform, owner: TenantCtx) -> None:
    created = create(platform, owner.owner_key, name="pipeline", scopes=["tenant:read"])
    secret = str(created["key"])
    assert KEY_SHAPE.match(secret)
    assert secret.startswith(str(created["prefix"]))
    assert created["never_used"] is True
    assert created["status"] == "active"

    listing = platform.client.get("/api-keys", headers=owner.headers)
    shown = platform.client.get(f"/api-keys/{created['id']}", headers=owner.headers)
    assert secret not in listing.text
    assert secret not in shown.text
    assert "key" not in shown.json()

    me = platform.client.get("/tenant/me", headers=auth(secret))
    assert me.status_code == 200
    assert me.json()["tenant_id"] == owner.id


def test_location_header_points_at_the_new_key(platform: Platform, owner: TenantCtx) -> None:
    response = platform.client.post(
        "/api-keys", headers=owner.headers, json={"name": "x", "scopes": ["tenant:read"]}
    )
    assert response.headers["location"] == f"/api-keys/{response.json()['id']}"


def test_only_an_hmac_of_the_key_is_stored(platform: Platform, owner: TenantCtx) -> None:
    secret = str(create(platform, owner.owner_key)["key"])
    with platform.db() as session:
        rows = session.scalars(select(ApiKey)).all()
    stored = " ".join(f"{r.key_hash} {r.prefix} {r.name}" for r in rows)
    assert secret not in stored
    assert secret[len("tut_") + 8 :] not in stored
    # A plain SHA-256 would let anyone with the table test guesses offline: it is peppered.
    assert hashlib.sha256(secret.encode()).hexdigest() not in stored


def test_scopes_must_be_a_subset_of_the_creators(platform: Platform, owner: TenantCtx) -> None:
    narrow = platform.key(owner, [Scope.KEYS_WRITE, Scope.TENANT_READ])
    response = platform.client.post(
        "/api-keys",
        headers=auth(narrow),
        json={"name": "escalate", "scopes": ["tenant:read", "report:delete", "scan:run"]},
    )
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "scopes"]
    assert "report:delete" in error["msg"]
    assert "scan:run" in error["msg"]
    assert "tenant:read" not in error["msg"]


def test_unknown_scope_is_rejected(platform: Platform, owner: TenantCtx) -> None:
    response = platform.client.post(
        "/api-keys", headers=owner.headers, json={"name": "x", "scopes": ["root:all"]}
    )
    assert response.status_code == 422


def test_a_tenant_key_cannot_grant_admin_scopes(platform: Platform, owner: TenantCtx) -> None:
    response = platform.client.post(
        "/api-keys", headers=owner.headers, json={"name": "x", "scopes": ["admin:write"]}
    )
    assert response.status_code == 422
    assert "admin:write" in response.json()["detail"][0]["msg"]


def test_demoting_the_owner_narrows_every_key_at_once(platform: Platform, owner: TenantCtx) -> None:
    user_id, key = platform.user(owner, role="admin")
    assert (
        platform.client.put(
            "/tenant/subscriptions", headers=auth(key), json={"subscription_ids": []}
        ).status_code
        == 200
    )

    operator = auth(platform.operator_key())
    demoted = platform.client.put(
        f"/admin/tenants/{owner.id}/users/{user_id}/role",
        headers=operator,
        json={"role": "auditor"},
    )
    assert demoted.status_code == 200

    refused = platform.client.put(
        "/tenant/subscriptions", headers=auth(key), json={"subscription_ids": []}
    )
    assert refused.status_code == 403
    assert "tenant:write" in refused.json()["detail"]
    whoami = platform.client.get("/api-keys/current", headers=auth(key)).json()
    assert "tenant:write" not in whoami["scopes"]
    assert "tenant:read" in whoami["scopes"]


def test_expiry_defaults_to_30_days_and_is_capped(platform: Platform, owner: TenantCtx) -> None:
    created = create(platform, owner.owner_key)
    lifetime = dt.datetime.fromisoformat(str(created["expires_at"])) - dt.datetime.fromisoformat(
        str(created["created_at"])
    )
    assert lifetime == dt.timedelta(days=30)

    too_long = platform.client.post(
        "/api-keys",
        headers=owner.headers,
        json={"name": "x", "scopes": ["tenant:read"], "expires_in_days": 366},
    )
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["body", "expires_in_days"]
    assert create(platform, owner.owner_key, expires_in_days=365)["status"] == "active"


def test_expired_key_is_refused_on_its_next_request(platform: Platform, owner: TenantCtx) -> None:
    key = platform.key(owner, [Scope.TENANT_READ])
    assert platform.client.get("/tenant/me", headers=auth(key)).status_code == 200
    platform.expire(key)
    response = platform.client.get("/tenant/me", headers=auth(key))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_rename(platform: Platform, owner: TenantCtx) -> None:
    key_id = create(platform, owner.owner_key, name="old")["id"]
    response = platform.client.patch(
        f"/api-keys/{key_id}", headers=owner.headers, json={"name": "new"}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "new"
    assert platform.client.get(f"/api-keys/{key_id}", headers=owner.headers).json()["name"] == "new"
    empty = platform.client.patch(f"/api-keys/{key_id}", headers=owner.headers, json={"name": ""})
    assert empty.status_code == 422


def test_a_revoked_key_keeps_its_name(platform: Platform, owner: TenantCtx) -> None:
    key_id = create(platform, owner.owner_key, name="ci")["id"]
    platform.client.delete(f"/api-keys/{key_id}", headers=owner.headers)
    response = platform.client.patch(
        f"/api-keys/{key_id}", headers=owner.headers, json={"name": "renamed"}
    )
    assert response.status_code == 409
    assert "revoked" in response.json()["detail"]
    assert platform.client.get(f"/api-keys/{key_id}", headers=owner.headers).json()["name"] == "ci"


def test_revocation_takes_effect_on_the_next_request(platform: Platform, owner: TenantCtx) -> None:
    created = create(platform, owner.owner_key)
    secret = str(created["key"])
    assert platform.client.get("/tenant/me", headers=auth(secret)).status_code == 200  # cached

    revoked = platform.client.delete(f"/api-keys/{created['id']}", headers=owner.headers)
    assert revoked.json() == {"status": "ok", "revoked": created["id"]}

    response = platform.client.get("/tenant/me", headers=auth(secret))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    listed = platform.client.get(f"/api-keys/{created['id']}", headers=owner.headers).json()
    assert listed["status"] == "revoked"


def test_last_used_is_recorded_debounced(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with Platform(settings_factory(key_last_used_debounce_seconds=3600)) as platform:
        owner = platform.tenant()
        created = create(platform, owner.owner_key)
        secret, key_id = str(created["key"]), created["id"]

        platform.client.get("/tenant/me", headers=auth(secret))
        first = platform.client.get(f"/api-keys/{key_id}", headers=owner.headers).json()
        assert first["never_used"] is False
        assert first["last_used_at"] is not None

        platform.client.get("/tenant/me", headers=auth(secret))
        second = platform.client.get(f"/api-keys/{key_id}", headers=owner.headers).json()
        assert second["last_used_at"] == first["last_used_at"]  # no write within the window


def test_last_used_moves_on_after_the_window(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with Platform(settings_factory(key_last_used_debounce_seconds=0)) as platform:
        owner = platform.tenant()
        created = create(platform, owner.owner_key)
        secret, key_id = str(created["key"]), created["id"]
        seen = set()
        for _ in range(2):
            platform.client.get("/tenant/me", headers=auth(secret))
            seen.add(
                platform.client.get(f"/api-keys/{key_id}", headers=owner.headers).json()[
                    "last_used_at"
                ]
            )
        assert len(seen) == 2


def test_bearer_and_header_rules(platform: Platform, owner: TenantCtx) -> None:
    other = platform.key(owner, [Scope.TENANT_READ])
    bearer = {"Authorization": f"Bearer {owner.owner_key}"}
    assert platform.client.get("/tenant/me", headers=bearer).status_code == 200
    both_same = {**bearer, "X-API-Key": owner.owner_key}
    assert platform.client.get("/tenant/me", headers=both_same).status_code == 200
    both_different = {**bearer, "X-API-Key": other}
    response = platform.client.get("/tenant/me", headers=both_different)
    assert response.status_code == 401
    assert "different" in response.json()["detail"]


def test_whoami_and_expiry_header(platform: Platform, owner: TenantCtx) -> None:
    key = platform.key(owner, [Scope.TENANT_READ, Scope.REPORT_READ])
    response = platform.client.get("/api-keys/current", headers=auth(key))
    body = response.json()
    assert body["scopes"] == ["tenant:read", "report:read"]
    assert body["tenant_id"] == owner.id
    assert body["plan"] == "professional"
    assert key.startswith(body["prefix"])
    assert body["key_id"] == platform.key_id(key)
    expires = dt.datetime.fromisoformat(response.headers["x-tutela-key-expires"])
    assert abs(expires - dt.datetime.fromisoformat(body["expires_at"])) < dt.timedelta(seconds=1)
    # Authenticated but refused responses carry it too.
    refused = platform.client.get("/api-keys", headers=auth(key))
    assert refused.status_code == 403
    assert "x-tutela-key-expires" in refused.headers
    assert "x-tutela-key-expires" not in platform.client.get("/health").headers


def test_scopes_lists_what_the_caller_may_grant(platform: Platform, owner: TenantCtx) -> None:
    key = platform.key(owner, [Scope.KEYS_READ, Scope.SCAN_RUN])
    listed = platform.client.get("/scopes", headers=auth(key)).json()
    assert [s["scope"] for s in listed] == ["scan:run", "keys:read"]
    assert all(s["description"] for s in listed)


def test_list_is_paginated_newest_first(platform: Platform, owner: TenantCtx) -> None:
    names = [f"k{i}" for i in range(5)]
    for name in names:
        create(platform, owner.owner_key, name=name)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = platform.client.get("/api-keys", headers=owner.headers, params=params).json()
        assert len(page["items"]) <= 2
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:5] == list(reversed(names))
    assert len(seen) == 6  # and the owner's first key, oldest, last
    bad = platform.client.get("/api-keys", headers=owner.headers, params={"cursor": "!!"})
    assert bad.status_code == 422


def test_another_users_keys_are_invisible(platform: Platform, owner: TenantCtx) -> None:
    _, member_key = platform.user(owner, role="member")
    own_id = create(platform, owner.owner_key)["id"]
    listed = platform.client.get("/api-keys", headers=auth(member_key)).json()["items"]
    assert own_id not in {k["id"] for k in listed}
    for method in ("GET", "PATCH", "DELETE"):
        response = platform.client.request(
            method, f"/api-keys/{own_id}", headers=auth(member_key), json={"name": "x"}
        )
        assert response.status_code == 404, method
