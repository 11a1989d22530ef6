"""The per-tenant rate limit: every key of a tenant draws on one budget, beside its own."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.platform import Platform, auth
from tutela.server.auth.scopes import Scope


def test_more_keys_do_not_buy_more_requests(settings_factory: Any) -> None:
    settings = settings_factory(rate_limit="100/minute", tenant_rate_limit="4/minute")
    with Platform(settings) as platform:
        tenant, other = platform.tenant(), platform.tenant()
        keys = [platform.key(tenant, [Scope.TENANT_READ]) for _ in range(3)]
        responses = [platform.client.get("/tenant/me", headers=auth(keys[i % 3])) for i in range(5)]
        assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
        # The headers tell the budget that binds: the tenant's, not the key's 100.
        assert [r.headers["X-RateLimit-Limit"] for r in responses] == ["4"] * 5
        assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["3", "2", "1", "0", "0"]
        refused = responses[-1]
        assert re.fullmatch(r"[1-9][0-9]*", refused.headers["Retry-After"])
        assert int(refused.headers["Retry-After"]) <= 60
        assert "Rate limit exceeded" in refused.json()["detail"]
        # A fresh key of the same tenant is refused too; another tenant is not.
        fresh = platform.key(tenant, [Scope.TENANT_READ])
        assert platform.client.get("/tenant/me", headers=auth(fresh)).status_code == 429
        assert platform.client.get("/tenant/me", headers=other.headers).status_code == 200


def test_the_key_budget_still_binds_first(settings_factory: Any) -> None:
    settings = settings_factory(rate_limit="2/minute", tenant_rate_limit="100/minute")
    with Platform(settings) as platform:
        tenant = platform.tenant()
        responses = [platform.client.get("/tenant/me", headers=tenant.headers) for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 429]
        assert [r.headers["X-RateLimit-Limit"] for r in responses] == ["2", "2", "2"]
        other_key = platform.key(tenant, [Scope.TENANT_READ])
        assert platform.client.get("/tenant/me", headers=auth(other_key)).status_code == 200


@pytest.mark.redis
def test_the_tenant_budget_is_shared_between_processes_through_redis(
    settings_factory: Any, redis_url: str
) -> None:
    import redis

    values = {"rate_limit": "100/minute", "tenant_rate_limit": "3/minute", "redis_url": redis_url}
    client = redis.Redis.from_url(redis_url)
    with Platform(settings_factory(**values)) as one, Platform(settings_factory(**values)) as two:
        tenant = one.tenant()
        keys = [one.key(tenant, [Scope.TENANT_READ]) for _ in range(2)]
        try:
            statuses = [
                (one if i % 2 else two).client.get("/tenant/me", headers=auth(keys[i % 2]))
                for i in range(4)
            ]
            assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        finally:
            for name in client.scan_iter(f"tutela-ratelimit*{tenant.id}*"):
                client.delete(name)
            client.close()
