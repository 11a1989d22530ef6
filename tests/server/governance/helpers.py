"""Shared steps of the governance tests: the state, the outbox, the governance reports."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.platform import Platform, TenantCtx
from tests.server.notify.mail import parse
from tutela.server.governance.models import GovernanceState
from tutela.server.reports.models import Report


def governance(platform: Platform, tenant: TenantCtx) -> dict[str, Any]:
    response = platform.client.get("/governance", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def state(platform: Platform, tenant_id: str) -> GovernanceState:
    with platform.db() as session:
        row = session.get(GovernanceState, tenant_id)
        assert row is not None
        session.expunge(row)
        return row


def governance_reports(platform: Platform, tenant_id: str) -> list[Report]:
    with platform.db() as session:
        rows = list(
            session.scalars(
                select(Report)
                .where(Report.tenant_id == tenant_id, Report.type == "governance")
                .order_by(Report.created_at)
            )
        )
        session.expunge_all()
        return rows


def outbox(platform: Platform) -> list[EmailMessage]:
    folder = Path(platform.settings.resolved_outbox_dir)
    if not folder.exists():
        return []
    return [parse(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
