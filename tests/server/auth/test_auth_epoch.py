"""Two API processes on one database: a change made through one applies at once in the other.

Each ``Platform`` is its own ``Runtime`` with its own key cache, as two ``tutela serve``
processes would be. The cache lifetime is an hour, so only the auth epoch can explain a change
being seen by the other process on its very next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.platform import Platform, auth
from tutela.server.auth.scopes import Scope


@pytest.fixture(params=["sqlite", "postgres"])
def two_processes(
    request: pytest.FixtureRequest, settings_factory: Any
) -> Iterator[tuple[Platform, Platform]]:
    overrides: dict[str, object] = {"key_cache_seconds": 3600}
    if request.param == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    with ExitStack() as stack:
        first = stack.enter_context(Platform(settings_factory(**overrides)))
        second = stack.enter_context(Platform(settings_factory(**overrides)))
        assert first.runtime.auth_cache is not second.runtime.auth_cache
        yield first, second


def test_a_revocation_through_one_process_is_401_in_the_other(
    two_processes: tuple[Platform, Platform],
) -> None:
    here, there = two_processes
    tenant = here.tenant()
    key = here.key(tenant, [Scope.TENANT_READ, Scope.KEYS_WRITE])
    bystander = here.key(tenant, [Scope.TENANT_READ])
    for _ in range(2):  # now cached in the other process
        assert there.client.get("/tenant/me", headers=auth(key)).status_code == 200
        assert there.client.get("/tenant/me", headers=auth(bystander)).status_code == 200

    revoked = here.client.delete(f"/api-keys/{here.key_id(key)}", headers=auth(key))
    assert revoked.status_code == 200

    response = there.client.get("/tenant/me", headers=auth(key))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert there.client.get("/tenant/me", headers=auth(bystander)).status_code == 200


def test_demotion_suspension_and_plan_change_apply_at_once_elsewhere(
    two_processes: tuple[Platform, Platform],
) -> None:
    here, there = two_processes
    operator = auth(here.operator_key())
    tenant = here.tenant("enterprise")
    user_id, admin_key = here.user(tenant, role="admin")
    subscriptions = {"subscription_ids": []}
    allowed = there.client.put("/tenant/subscriptions", headers=auth(admin_key), json=subscriptions)
    assert allowed.status_code == 200
    assert there.client.get("/api-keys/current", headers=tenant.headers).json()["plan"] == (
        "enterprise"
    )

    here.client.put(
        f"/admin/tenants/{tenant.id}/users/{user_id}/role",
        headers=operator,
        json={"role": "member"},
    ).raise_for_status()
    demoted = there.client.put("/tenant/subscriptions", headers=auth(admin_key), json=subscriptions)
    assert demoted.status_code == 403

    here.client.put(
        f"/admin/tenants/{tenant.id}/plan", headers=operator, json={"plan": "starter"}
    ).raise_for_status()
    assert there.client.get("/api-keys/current", headers=tenant.headers).json()["plan"] == (
        "starter"
    )

    here.client.post(f"/admin/tenants/{tenant.id}/suspend", headers=operator).raise_for_status()
    suspended = there.client.get("/tenant/me", headers=tenant.headers)
    assert suspended.status_code == 403
    assert "suspended" in suspended.json()["detail"]


def test_a_key_revoked_by_the_operator_cli_path_is_401_everywhere(
    two_processes: tuple[Platform, Platform],
) -> None:
    """The CLI revokes through the same service, in a process with no HTTP at all."""
    from tutela.server.db import transaction
    from tutela.server.keys.models import ApiKey
    from tutela.server.keys.service import revoke

    here, there = two_processes
    tenant = here.tenant()
    assert there.client.get("/tenant/me", headers=tenant.headers).status_code == 200
    with transaction(here.runtime.sessions) as session:
        key = session.get(ApiKey, here.key_id(tenant.owner_key))
        assert key is not None
        revoke(session, here.runtime.auth_cache, key, actor="tutela (cli)")
    assert there.client.get("/tenant/me", headers=tenant.headers).status_code == 401
