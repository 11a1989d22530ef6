"""The order of checks: shape → lookup → revoked/expired/suspended → rate limit → scope → plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from tests.platform import Platform, auth
from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope


def test_plan_gate_comes_after_scope_and_names_the_plan(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with Platform(settings_factory()) as platform:
        router = APIRouter()

        @router.get("/gated")
        def gated(
            caller: Annotated[
                Caller, Depends(Authorize(Scope.GOVERNANCE_READ, min_plan="professional"))
            ],
        ) -> dict[str, str]:
            return {"plan": str(caller.plan)}

        platform.app.include_router(router)
        starter, pro, ent = (platform.tenant(p) for p in ("starter", "professional", "enterprise"))
        refused = platform.client.get("/gated", headers=starter.headers)
        assert refused.status_code == 403
        assert "professional" in refused.json()["detail"]
        assert "starter" in refused.json()["detail"]
        assert platform.client.get("/gated", headers=pro.headers).json() == {"plan": "professional"}
        assert platform.client.get("/gated", headers=ent.headers).status_code == 200
        # Missing scope is reported before the plan.
        no_scope = platform.key(starter, [Scope.TENANT_READ])
        assert "governance:read" in platform.client.get("/gated", headers=auth(no_scope)).text


def test_rate_limit_before_scope_and_after_revocation(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with Platform(settings_factory(rate_limit="2/minute")) as platform:
        tenant = platform.tenant()
        narrow = platform.key(tenant, [Scope.TENANT_READ])
        statuses = [
            platform.client.get("/api-keys", headers=auth(narrow)).status_code for _ in range(3)
        ]
        assert statuses == [403, 403, 429]  # scope failures count, then the limit answers first

        revoked = platform.key(tenant, [Scope.TENANT_READ, Scope.KEYS_WRITE])
        for _ in range(2):
            platform.client.get("/tenant/me", headers=auth(revoked))
        platform.client.delete(f"/api-keys/{platform.key_id(revoked)}", headers=tenant.headers)
        assert platform.client.get("/tenant/me", headers=auth(revoked)).status_code == 401


def test_suspension_is_reported_before_scope(platform: Platform) -> None:
    tenant = platform.tenant()
    narrow = platform.key(tenant, [Scope.TENANT_READ])
    platform.client.post(
        f"/admin/tenants/{tenant.id}/suspend", headers=auth(platform.operator_key())
    )
    response = platform.client.get("/api-keys", headers=auth(narrow))
    assert response.status_code == 403
    assert "suspended" in response.json()["detail"]
