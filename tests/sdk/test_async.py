"""Every typed call of ``AsyncSession`` against the real server (same flows as ``Session``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

import tutela
from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tests.sdk.test_resources import SECRET, export_for
from tutela import AsyncSession
from tutela.sdk import (
    ApiKeyCreated,
    AuthenticationError,
    Finding,
    NotFoundError,
    PermissionDeniedError,
    Report,
    ReportSummary,
    ValidationError,
)

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def test_platform_calls(server: LiveServer) -> None:
    async def scenario() -> None:
        async with AsyncSession(server.url, server.demo_key) as session:
            health, frameworks, plans, scopes, me, whoami = await asyncio.gather(
                session.health(),
                session.frameworks.list(),
                session.plans.list(),
                session.scopes(),
                session.tenant.me(),
                session.keys.current(),
            )
        assert health.version == tutela.__version__
        assert len(frameworks) == 7
        assert frameworks[0].id == "iso42001"
        assert [p.id for p in plans] == ["free_trial", "starter", "professional", "enterprise"]
        assert "scan:run" in {s.scope for s in scopes}
        assert me.plan_id == whoami.plan == "enterprise"

    run(scenario())


def test_tenant_snapshot_scan_and_credentials(
    server: LiveServer, new_tenant: Callable[[str], Tenant], tmp_path: Path
) -> None:
    tenant = new_tenant("enterprise")
    subscription = str(uuid.uuid4())
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export_for(subscription)))

    async def scenario() -> None:
        async with AsyncSession(server.url, tenant.key) as session:
            linked = await session.tenant.set_subscriptions([subscription])
            assert linked.azure_subscription_ids == [subscription]
            snapshot = await session.snapshots.put(subscription, path)
            assert snapshot.size_bytes == path.stat().st_size
            assert (await session.snapshots.get(subscription)).resources == snapshot.resources

            report = await session.scans.run(subscription_id=subscription, label="async")
            assert isinstance(report, Report)
            assert report.report_id
            assert len(report.frameworks) == 7
            assert report.scan_label == "async"
            dry = await session.scans.dry_run(["iso42001"], generate_narrative=False)
            assert dry.report_id is None
            assert dry.findings
            assert all(f.narrative is None for f in dry.findings)

            assert (await session.snapshots.delete(subscription)).status == "ok"
            with pytest.raises(NotFoundError):
                await session.snapshots.get(subscription)

            stored = await session.tenant.set_credentials(
                tenant_id=str(uuid.uuid4()), client_id=str(uuid.uuid4()), client_secret=SECRET
            )
            assert stored.azure_credentials_set
            assert SECRET not in repr(stored)
            with pytest.raises(ValidationError) as caught:
                await session.tenant.set_credentials(
                    tenant_id="not-a-uuid", client_id=str(uuid.uuid4()), client_secret=SECRET
                )
            assert caught.value.errors[0]["loc"] == ["body", "tenant_id"]
            assert SECRET not in str(caught.value)

    run(scenario())


def test_reports_async_iteration_get_diff_delete(
    server: LiveServer, new_tenant: Callable[[str], Tenant], tmp_path: Path
) -> None:
    tenant = new_tenant("enterprise")
    path = tmp_path / "template.json"
    path.write_text(json.dumps(ARM_TEMPLATE))

    async def scenario() -> None:
        async with AsyncSession(server.url, tenant.key) as session:
            first = await session.scans.iac(ARM_TEMPLATE, ["iso42001"], label="a")
            second = await session.scans.iac(str(path), ["iso42001", "sox"], label="b")
            dry = await session.scans.iac(path, dry_run=True, generate_narrative=False)
            assert dry.report_id is None
            assert len(dry.frameworks) == 7
            assert first.report_id
            assert second.report_id

            listed = [r async for r in session.reports.list(page_size=1)]
            assert all(isinstance(r, ReportSummary) for r in listed)
            assert [r.report_id for r in listed] == [second.report_id, first.report_id]
            assert [r.label for r in listed] == ["b", "a"]
            assert [r async for r in session.reports.list(type="governance")] == []

            fetched = await session.reports.get(first.report_id)
            assert fetched.raw == first.raw
            diff = await session.reports.diff(first.report_id, second.report_id)
            assert (diff.report_a, diff.report_b) == (first.report_id, second.report_id)
            assert diff.new_findings
            assert isinstance(diff.new_findings[0], Finding)
            assert {f.framework for f in diff.new_findings} == {"sox"}

            assert (await session.reports.delete(first.report_id)).deleted == 1
            assert (await session.reports.delete_manual()).deleted == 1
            assert [r async for r in session.reports.list()] == []

    run(scenario())


def test_keys_async(server: LiveServer, new_tenant: Callable[[str], Tenant]) -> None:
    tenant = new_tenant("enterprise")

    async def scenario() -> None:
        async with AsyncSession(server.url, tenant.key) as session:
            created = await session.keys.create("async-ci", ["report:read"], expires_in_days=3)
            assert isinstance(created, ApiKeyCreated)
            secret = created.key.get_secret_value()
            await session.keys.create("another", ["report:read"])
            listed = [k.name async for k in session.keys.list(page_size=1)]
            assert len(listed) == 3
            assert {"another", "async-ci"} <= set(listed)
            assert (await session.keys.get(created.id)).name == "async-ci"
            assert (await session.keys.rename(created.id, "renamed")).name == "renamed"

            async with AsyncSession(server.url, secret) as reader:
                assert (await reader.keys.current()).key_id == created.id
                with pytest.raises(PermissionDeniedError):
                    await reader.scans.iac(ARM_TEMPLATE, dry_run=True)
                assert (await session.keys.revoke(created.id)).revoked == created.id
                with pytest.raises(AuthenticationError):
                    await reader.keys.current()

    run(scenario())


def test_async_connection_verbs(server: LiveServer, new_tenant: Callable[[str], Tenant]) -> None:
    tenant = new_tenant("enterprise")

    async def scenario() -> None:
        async with AsyncSession(server.url, tenant.key) as session:
            status, report = await session.connection.create(
                "scan", "/iac?frameworks=iso42001", ARM_TEMPLATE
            )
            assert status == 200
            assert report["report_id"].startswith("COMP-")
            assert (await session.connection.fetch("report", f"/{report['report_id']}")) == (
                200,
                report,
            )
            status, key = await session.connection.create(
                "api-keys", "", {"name": "raw", "scopes": ["report:read"]}
            )
            assert status == 201
            status, renamed = await session.connection.update(
                "api-keys", f"/{key['id']}", {"name": "raw-2"}
            )
            assert (status, renamed["name"]) == (200, "raw-2")
            status, body = await session.connection.remove("report", f"/{report['report_id']}")
            assert (status, body["deleted"]) == (200, 1)
            assert (await session.connection.fetch("report", f"/{report['report_id']}"))[0] == 404

    run(scenario())


def test_async_session_takes_an_httpx_transport(server: LiveServer) -> None:
    async def scenario() -> str:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.1")
        async with AsyncSession(server.url, server.demo_key, transport=transport) as session:
            return (await session.health()).status

    assert run(scenario()) == "ok"
