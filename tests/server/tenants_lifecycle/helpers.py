"""Shared steps of the lifecycle tests: a tenant with something of everything, its archive."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from tests.platform import Platform, TenantCtx
from tests.server.scans.estates import link_sample_snapshot, scan
from tutela.server.audit.models import AuditEvent
from tutela.server.db import Base, utcnow
from tutela.server.jobs.registry import governance_scan


@dataclass
class Seeded:
    tenant: TenantCtx
    report_ids: list[str]  # manual, then the governance report


def seed(platform: Platform, plan: str = "professional") -> Seeded:
    """A tenant with a snapshot, two manual reports, a governance report and a member."""
    tenant = platform.tenant(plan)
    link_sample_snapshot(platform, tenant)
    reports = [scan(platform, tenant)["report_id"], scan(platform, tenant, ["sox"])["report_id"]]
    enabled = platform.client.put(
        "/governance", headers=tenant.headers, json={"governance_enabled": True}
    )
    assert enabled.status_code == 200, enabled.text
    # A week on, its first scheduled governance scan is due.
    outcome = governance_scan(platform.runtime, tenant.id, utcnow() + dt.timedelta(days=8))
    assert outcome.detail.split()[2:3] == ["scanned"], outcome.detail
    governance = platform.client.get("/governance", headers=tenant.headers).json()
    reports.append(governance["history"][0]["report_id"])
    platform.user(tenant, "member")
    return Seeded(tenant, reports)


def export(platform: Platform, tenant_id: str, operator: dict[str, str]) -> zipfile.ZipFile:
    response = platform.client.get(f"/admin/tenants/{tenant_id}/export", headers=operator)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return zipfile.ZipFile(io.BytesIO(response.content))


def member_json(archive: zipfile.ZipFile, name: str) -> Any:
    import orjson

    return orjson.loads(archive.read(name))


def rows_of(platform: Platform, tenant_id: str) -> dict[str, int]:
    """Rows naming the tenant in every table with a tenant_id column (the audit log aside)."""
    counts: dict[str, int] = {}
    with platform.db() as session:
        for table in Base.metadata.sorted_tables:
            if "tenant_id" not in table.c or table.name == AuditEvent.__tablename__:
                continue
            counts[table.name] = session.scalar(
                select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
            )
        tenants = Base.metadata.tables["tenants"]
        counts["tenants"] = session.scalar(
            select(func.count()).select_from(tenants).where(tenants.c.id == tenant_id)
        )
    return counts


def audit_actions(platform: Platform, tenant_id: str) -> list[str]:
    with platform.db() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.tenant_id == tenant_id)
                .order_by(AuditEvent.created_at, AuditEvent.id)
            )
        )
