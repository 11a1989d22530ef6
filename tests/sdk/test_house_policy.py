"""The SDK's house-policy calls, sync and async, against a real server: read, change, scan."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest

from tests.sdk.conftest import LiveServer, Tenant
from tutela import AsyncSession
from tutela.sdk import HousePolicy, PermissionDeniedError, ValidationError

SUBSCRIPTION = "2d7e4a91-3b5c-4f08-9e6a-1c0b8d7f5e32"


def workspace_export(days_since_validation: int) -> list[dict[str, object]]:
    """A classic-ML workspace with every inventory tag, validated so many days ago."""
    validated = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_since_validation)
    return [
        {
            "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ml/providers"
            "/Microsoft.MachineLearningServices/workspaces/mlw-credit",
            "name": "mlw-credit",
            "type": "microsoft.machinelearningservices/workspaces",
            "kind": "Default",
            "location": "westeurope",
            "subscriptionId": SUBSCRIPTION,
            "resourceGroup": "rg-ml",
            "tags": {
                "model-id": "MRM-0042",
                "model-owner": "credit-risk",
                "model-risk-tier": "tier-2",
                "model-validation-date": validated.isoformat(),
            },
            "properties": {},
        }
    ]


def test_read_change_and_scan_under_the_house_policy(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        policy = session.tenant.house_policy()
        assert isinstance(policy, HousePolicy)
        assert (policy.review_period_days, policy.customised, policy.updated_at) == (
            365,
            False,
            None,
        )
        assert policy.review_period_days_by_tier == {"tier-1": 180, "high": 180}
        assert "not a regulatory requirement" in policy.basis

        session.tenant.set_subscriptions([SUBSCRIPTION])
        session.snapshots.put(SUBSCRIPTION, workspace_export(200))

        def overdue() -> list[str]:
            report = session.scans.dry_run(["sr11_7"])
            return [f.resource_name for f in report.findings if f.check_id == "INV-VALIDATION-DATE"]

        assert overdue() == []  # 200 days: within the default 365
        changed = session.tenant.set_house_policy(review_period_days=180)
        assert (changed.review_period_days, changed.customised) == (180, True)
        assert changed.defaults is not None
        assert changed.defaults.review_period_days == 365
        assert overdue() == ["mlw-credit"]

        tiers = session.tenant.set_house_policy(
            risk_tiers=("gold", "silver"), review_period_days_by_tier={"gold": 90}
        )
        assert (tiers.review_period_days, tiers.risk_tiers) == (180, ["gold", "silver"])
        with pytest.raises(ValidationError):
            session.tenant.set_house_policy(review_period_days=0)
        assert session.tenant.house_policy().review_period_days == 180

    other = new_tenant("enterprise")
    with server.session(other.key) as session:
        assert session.tenant.house_policy().review_period_days == 365  # its own: the defaults


def test_the_async_session_reads_and_changes_it(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("starter")

    async def run() -> tuple[HousePolicy, HousePolicy]:
        async with AsyncSession(server.url, tenant.key) as session:
            before = await session.tenant.house_policy()
            after = await session.tenant.set_house_policy(
                review_period_days_by_tier={"tier-1": 120, "high": 90}
            )
            return before, after

    before, after = asyncio.run(run())
    assert before.review_period_days_by_tier == {"tier-1": 180, "high": 180}
    assert after.review_period_days_by_tier == {"tier-1": 120, "high": 90}
    assert after.review_period_days == 365


def test_a_key_without_tenant_write_cannot_change_it(server: LiveServer) -> None:
    with server.session() as owner:
        limited = owner.keys.create("house-policy reader", ["tenant:read"], expires_in_days=1)
    with server.session(limited.key.get_secret_value()) as session:
        assert session.tenant.house_policy().review_period_days > 0
        with pytest.raises(PermissionDeniedError):
            session.tenant.set_house_policy(review_period_days=30)


def test_the_tenant_s_own_tag_names(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    export = workspace_export(30)
    tags = export[0]["tags"]
    assert isinstance(tags, dict)
    tags["x-mrm-ref"] = tags.pop("model-id")
    with server.session(tenant.key) as session:
        assert session.tenant.house_policy().inventory_tag_keys.model_id == []
        session.tenant.set_subscriptions([SUBSCRIPTION])
        session.snapshots.put(SUBSCRIPTION, export)

        def unlinked() -> list[str]:
            report = session.scans.dry_run(["sr11_7"])
            return [f.resource_name for f in report.findings if f.check_id == "INV-MODEL-ID"]

        assert unlinked() == ["mlw-credit"]
        changed = session.tenant.set_house_policy(inventory_tag_keys={"model_id": "x-mrm-ref"})
        assert changed.inventory_tag_keys.model_id == ["x-mrm-ref"]
        assert changed.inventory_tag_keys.risk_tier == []
        assert changed.review_period_days == 365
        assert unlinked() == []
        with pytest.raises(ValidationError):
            session.tenant.set_house_policy(inventory_tag_keys={"model_id": ["a/b"]})
        assert session.tenant.house_policy().inventory_tag_keys.model_id == ["x-mrm-ref"]
