"""Keys that cannot be abused: a cap on live keys per user, no reach over a stronger key."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.platform import Platform, TenantCtx, auth
from tests.server.scans.test_quota import InFlight, serving
from tutela.server.auth.scopes import Scope

CAP = 3


def create(platform: Platform, key: str, name: str = "ci") -> httpx.Response:
    response: httpx.Response = platform.client.post(
        "/api-keys", headers=auth(key), json={"name": name, "scopes": ["tenant:read"]}
    )
    return response


def test_live_keys_per_user_are_capped(settings_factory: Any) -> None:
    with Platform(settings_factory(max_keys_per_user=CAP)) as platform:
        owner = platform.tenant()  # its first key is one of the CAP
        made = [create(platform, owner.owner_key, f"k{i}") for i in range(CAP)]
        assert [r.status_code for r in made] == [201, 201, 409]
        refused = made[-1].json()["detail"]
        assert "TUTELA_MAX_KEYS_PER_USER" in refused
        assert str(CAP) in refused
        assert "k2" not in refused

        # A revoked or expired key frees its place; another user has places of its own.
        first = made[0].json()
        platform.client.delete(f"/api-keys/{first['id']}", headers=owner.headers)
        assert create(platform, owner.owner_key).status_code == 201
        platform.expire(str(made[1].json()["key"]))
        assert create(platform, owner.owner_key).status_code == 201
        assert create(platform, owner.owner_key).status_code == 409
        _, member_key = platform.user(owner, role="member")
        assert create(platform, member_key).status_code == 201


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_fifty_parallel_creations_never_overshoot_the_cap(
    backend: str, settings_factory: Any, request: pytest.FixtureRequest
) -> None:
    overrides: dict[str, object] = {"max_keys_per_user": 5}
    if backend == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    parallel = 50
    with Platform(settings_factory(**overrides)) as platform:
        owner = platform.tenant()
        observed = InFlight(platform.app)
        barrier = threading.Barrier(parallel)
        with (
            serving(observed) as base_url,
            httpx.Client(
                base_url=base_url,
                headers=owner.headers,
                timeout=60,
                limits=httpx.Limits(max_connections=parallel),
            ) as client,
        ):

            def one(index: int) -> int:
                barrier.wait(timeout=30)
                body = {"name": f"race-{index}", "scopes": ["tenant:read"]}
                return client.post("/api-keys", json=body).status_code

            with ThreadPoolExecutor(max_workers=parallel) as pool:
                statuses = Counter(pool.map(one, range(parallel)))
        assert statuses == {201: 4, 409: parallel - 4}  # the owner's first key is the fifth
        assert observed.most >= 10, f"requests did not overlap (at most {observed.most})"
        listed = platform.client.get("/api-keys", headers=owner.headers).json()["items"]
        assert len([k for k in listed if k["status"] == "active"]) == 5


@pytest.fixture
def owner(platform: Platform) -> TenantCtx:
    return platform.tenant("enterprise")


def test_a_key_cannot_touch_a_key_holding_more(platform: Platform, owner: TenantCtx) -> None:
    narrow = platform.key(owner, [Scope.KEYS_READ, Scope.KEYS_WRITE, Scope.TENANT_READ])
    narrower = platform.key(owner, [Scope.TENANT_READ])
    strong_id, narrower_id = platform.key_id(owner.owner_key), platform.key_id(narrower)

    listed = platform.client.get("/api-keys", headers=auth(narrow)).json()["items"]
    scopes = {item["id"]: item["scopes"] for item in listed}
    assert scopes[strong_id] is None  # listed, but what it holds is not shown
    assert scopes[narrower_id] == ["tenant:read"]
    shown = platform.client.get(f"/api-keys/{strong_id}", headers=auth(narrow))
    assert (shown.status_code, shown.json()["scopes"]) == (200, None)

    renamed = platform.client.patch(
        f"/api-keys/{strong_id}", headers=auth(narrow), json={"name": "mine now"}
    )
    revoked = platform.client.delete(f"/api-keys/{strong_id}", headers=auth(narrow))
    for response in (renamed, revoked):
        assert response.status_code == 403
        assert "scopes the calling key lacks" in response.json()["detail"]
        assert "report:delete" not in response.text  # the missing scopes are not named
    strong = platform.client.get(f"/api-keys/{strong_id}", headers=owner.headers).json()
    assert (strong["name"], strong["status"]) == ("owner key", "active")

    # Within its reach (a subset of its own scopes), the narrow key may act.
    assert (
        platform.client.patch(
            f"/api-keys/{narrower_id}", headers=auth(narrow), json={"name": "ok"}
        ).status_code
        == 200
    )
    assert (
        platform.client.delete(f"/api-keys/{narrower_id}", headers=auth(narrow)).status_code == 200
    )
    assert platform.client.get("/tenant/me", headers=auth(narrower)).status_code == 401


def test_a_demoted_users_keys_stay_within_its_reach(platform: Platform, owner: TenantCtx) -> None:
    """What a key holds is what it can use now: its scopes within its owner's current role."""
    user_id, first = platform.user(owner, role="admin")
    made = platform.client.post(
        "/api-keys",
        headers=auth(first),
        json={"name": "deleter", "scopes": ["report:delete", "keys:write"]},
    )
    assert made.status_code == 201
    deleter = made.json()
    narrow = platform.client.post(
        "/api-keys", headers=auth(first), json={"name": "n", "scopes": ["keys:read", "keys:write"]}
    ).json()
    # While an admin, the narrow key cannot touch the key holding report:delete...
    assert (
        platform.client.delete(
            f"/api-keys/{deleter['id']}", headers=auth(narrow["key"])
        ).status_code
        == 403
    )
    platform.client.put(
        f"/admin/tenants/{owner.id}/users/{user_id}/role",
        headers=auth(platform.operator_key()),
        json={"role": "member"},
    ).raise_for_status()
    # ...demoted to member, report:delete is no longer usable by any of its keys: within reach.
    listed = platform.client.get("/api-keys", headers=auth(narrow["key"])).json()["items"]
    assert {k["id"]: k["scopes"] for k in listed}[deleter["id"]] == [
        "report:delete",
        "keys:write",
    ]
    gone = platform.client.delete(f"/api-keys/{deleter['id']}", headers=auth(narrow["key"]))
    assert gone.status_code == 200
    # A key may always revoke itself.
    itself = platform.client.delete(f"/api-keys/{narrow['id']}", headers=auth(narrow["key"]))
    assert itself.status_code == 200
