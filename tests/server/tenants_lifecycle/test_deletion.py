"""DELETE /admin/tenants/{id}: refused at once, cancellable, then purged for good after the
grace period, its data keys destroyed (and committed) before its rows go."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.platform import Platform, auth
from tests.server.tenants_lifecycle.helpers import audit_actions, export, rows_of, seed
from tutela.server.audit.models import AuditEvent
from tutela.server.db import transaction, utcnow
from tutela.server.governance.scans import due_tenants
from tutela.server.idempotency.models import IdempotencyRecord
from tutela.server.jobs.inprocess import run_job
from tutela.server.jobs.registry import TENANTS_PURGE, tenants_purge
from tutela.server.reports.envelope import DocumentUnreadable, context, open_document
from tutela.server.reports.models import Report
from tutela.server.tenants.models import Tenant


def purge_job(platform: Platform, now: dt.datetime) -> str:
    runtime = platform.runtime
    return run_job(runtime, TENANTS_PURGE, lambda: tenants_purge(runtime, now)).detail


def test_a_tenant_in_deletion_is_refused_but_intact_and_exportable(
    platform: Platform, operator: dict[str, str]
) -> None:
    seeded = seed(platform)
    tenant = seeded.tenant
    user_id, _ = platform.user(tenant, "admin")
    email = platform.set_password(user_id, "correct horse battery staple")
    before = utcnow()

    response = platform.client.delete(f"/admin/tenants/{tenant.id}", headers=operator)

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "deleting"
    delete_after = dt.datetime.fromisoformat(body["delete_after"])
    assert dt.timedelta(days=30) <= delete_after - before < dt.timedelta(days=30, minutes=1)
    refused = platform.client.get("/tenant/me", headers=tenant.headers)
    assert (refused.status_code, refused.json()["detail"]) == (403, "Tenant is being deleted")
    signed_in = platform.client.post(
        "/auth/sign-in", json={"email": email, "password": "correct horse battery staple"}
    )
    assert (signed_in.status_code, signed_in.json()["detail"]) == (403, "Tenant is being deleted")
    listed = platform.client.get("/admin/tenants", headers=operator, params={"status": "deleting"})
    assert [t["id"] for t in listed.json()["items"]] == [tenant.id]
    assert tenant.id not in due_tenants(platform.runtime, utcnow() + dt.timedelta(days=60))
    assert len(export(platform, tenant.id, operator).namelist()) > 10
    again = platform.client.delete(f"/admin/tenants/{tenant.id}", headers=operator)
    assert again.status_code == 409
    reactivated = platform.client.post(f"/admin/tenants/{tenant.id}/reactivate", headers=operator)
    assert reactivated.status_code == 409  # only a cancellation brings it back
    purge_job(platform, utcnow())  # not due yet
    assert rows_of(platform, tenant.id)["reports"] == 3
    actions = [a for a in audit_actions(platform, tenant.id) if a.startswith("tenant.")]
    assert actions[-2:] == ["tenant.deletion_requested", "tenant.exported"]


def test_cancelling_restores_the_status_it_had(
    platform: Platform, operator: dict[str, str]
) -> None:
    active, suspended = platform.tenant(), platform.tenant()
    platform.client.post(f"/admin/tenants/{suspended.id}/suspend", headers=operator)
    for tenant in (active, suspended):
        deleted = platform.client.delete(f"/admin/tenants/{tenant.id}", headers=operator)
        assert deleted.status_code == 202

    restored = [
        platform.client.post(f"/admin/tenants/{t.id}/cancel-deletion", headers=operator)
        for t in (active, suspended)
    ]

    assert [r.json()["status"] for r in restored] == ["active", "suspended"]
    assert restored[0].json()["delete_after"] is None
    assert platform.client.get("/tenant/me", headers=active.headers).status_code == 200
    assert platform.client.get("/tenant/me", headers=suspended.headers).status_code == 403
    twice = platform.client.post(f"/admin/tenants/{active.id}/cancel-deletion", headers=operator)
    assert twice.status_code == 409
    purge_job(platform, utcnow() + dt.timedelta(days=365))
    assert rows_of(platform, active.id)["tenants"] == 1
    assert rows_of(platform, suspended.id)["tenants"] == 1
    actions = [a for a in audit_actions(platform, active.id) if a.startswith("tenant.")]
    assert actions[-2:] == ["tenant.deletion_requested", "tenant.deletion_cancelled"]


def test_unknown_tenants_are_404s(platform: Platform, operator: dict[str, str]) -> None:
    for method, path, body in [
        ("DELETE", "/admin/tenants/nope", None),
        ("POST", "/admin/tenants/nope/cancel-deletion", None),
        ("POST", "/admin/tenants/nope/purge", {"confirm_tenant_id": "nope"}),
    ]:
        response = platform.client.request(method, path, headers=operator, json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json() == {"detail": "Tenant not found"}


def _retained(platform: Platform, tenant_id: str) -> list[dict[str, Any]]:
    """A copy of the tenant's report rows, as a backup of the database would hold them."""
    with platform.db() as session:
        rows = session.scalars(select(Report).where(Report.tenant_id == tenant_id)).all()
        return [
            {
                "report_id": r.report_id,
                "key_ref": r.key_ref,
                "wrapped_key": r.wrapped_key,
                "body": r.body,
            }
            for r in rows
        ]


def _wrapped_keys(platform: Platform, tenant_id: str) -> dict[str, bytes]:
    with transaction(platform.runtime.sessions, readonly=True) as session:
        rows = session.execute(
            select(Report.report_id, Report.wrapped_key).where(Report.tenant_id == tenant_id)
        )
        return {report_id: wrapped for report_id, wrapped in rows}


def _opens(platform: Platform, tenant_id: str, row: dict[str, Any]) -> bool:
    with platform.db() as session:
        wrapper = platform.runtime.platform_keys.opening(session, row["key_ref"])
    try:
        open_document(
            wrapper, row["wrapped_key"], row["body"], context("report", tenant_id, row["report_id"])
        )
    except DocumentUnreadable:
        return False
    return True


def test_the_purge_destroys_the_data_keys_first_then_every_row(
    platform: Platform, operator: dict[str, str]
) -> None:
    seeded, other = seed(platform), seed(platform)
    tenant = seeded.tenant
    keyed = platform.client.post(
        "/scan",
        headers={**tenant.headers, "Idempotency-Key": "purge-me"},
        json={"frameworks": ["sox"]},
    )
    assert keyed.status_code == 200, keyed.text
    retained = _retained(platform, tenant.id)
    assert len(retained) == 4
    assert all(_opens(platform, tenant.id, row) for row in retained)
    deleted = platform.client.delete(f"/admin/tenants/{tenant.id}", headers=operator)
    delete_after = dt.datetime.fromisoformat(deleted.json()["delete_after"])

    statements: list[str] = []
    # What the database holds for the tenant's reports once the purge starts deleting them,
    # read by another connection: the committed state.
    held: dict[str, bytes] = {}

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()).upper())
        if statements[-1].startswith("DELETE FROM REPORTS") and not held:
            held.update(_wrapped_keys(platform, tenant.id))

    def committed(_conn: Any) -> None:
        statements.append("COMMIT")

    engine = platform.runtime.engine
    event.listen(engine, "before_cursor_execute", seen)
    event.listen(engine, "commit", committed)
    try:
        detail = purge_job(platform, delete_after + dt.timedelta(seconds=1))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        event.remove(engine, "commit", committed)

    # (on the shared PostgreSQL database, other tests' tenants may be purged by the same run)
    assert detail.startswith("Purged "), detail
    destroyed = next(i for i, s in enumerate(statements) if s.startswith("UPDATE REPORTS SET"))
    row_gone = next(i for i, s in enumerate(statements) if s.startswith("DELETE FROM TENANTS"))
    assert "COMMIT" in statements[destroyed:row_gone]  # the keys' destruction is durable first
    assert set(held) == {row["report_id"] for row in retained}
    for row in retained:  # a copy of a body no longer opens with what the database held
        assert not _opens(platform, tenant.id, {**row, "wrapped_key": held[row["report_id"]]})
    assert set(rows_of(platform, tenant.id).values()) == {0}  # every tenant table, generically
    with platform.db() as session:
        kept = session.scalars(
            select(IdempotencyRecord).where(IdempotencyRecord.owner == tenant.id)
        ).all()
        assert kept == []
        purged = session.scalars(
            select(AuditEvent).where(
                AuditEvent.tenant_id == tenant.id, AuditEvent.action == "tenant.purged"
            )
        ).one()
    assert purged.details == {"reports": 4, "snapshots": 1}
    assert "tenant.created" in audit_actions(platform, tenant.id)  # the trail outlives it
    for path in ("", "/export", "/users"):
        shown = platform.client.get(f"/admin/tenants/{tenant.id}{path}", headers=operator)
        assert shown.status_code == 404, path
    assert platform.client.get("/tenant/me", headers=tenant.headers).status_code == 401
    # The other tenant is untouched: its rows, and its reports still open.
    assert rows_of(platform, other.tenant.id)["reports"] == 3
    for report_id in other.report_ids:
        read = platform.client.get(f"/report/{report_id}", headers=other.tenant.headers)
        assert read.status_code == 200


def test_purge_now_needs_the_request_and_the_id_repeated(
    platform: Platform, operator: dict[str, str]
) -> None:
    tenant = platform.tenant()
    url = f"/admin/tenants/{tenant.id}/purge"
    body = {"confirm_tenant_id": tenant.id}

    assert platform.client.post(url, headers=operator, json=body).status_code == 409
    platform.client.delete(f"/admin/tenants/{tenant.id}", headers=operator)
    wrong = platform.client.post(url, headers=operator, json={"confirm_tenant_id": "other"})
    assert wrong.status_code == 422
    assert rows_of(platform, tenant.id)["tenants"] == 1

    purged = platform.client.post(url, headers=operator, json=body)

    assert purged.status_code == 200, purged.text
    assert purged.json() == {"tenant_id": tenant.id, "reports": 0, "snapshots": 0}
    assert set(rows_of(platform, tenant.id).values()) == {0}
    tenant_key = platform.client.post(url, headers=tenant.headers, json=body)
    assert tenant_key.status_code in (401, 403)


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_an_interrupted_purge_cannot_be_cancelled_and_is_finished_by_the_job(
    platform: Platform, operator: dict[str, str]
) -> None:
    tenant = platform.tenant()
    platform.client.delete(f"/admin/tenants/{tenant.id}", headers=operator)
    with platform.db() as session:  # as a purge that stopped after destroying the keys leaves it
        row = session.get(Tenant, tenant.id)
        assert row is not None
        row.status = "purging"

    cancel = platform.client.post(f"/admin/tenants/{tenant.id}/cancel-deletion", headers=operator)
    assert cancel.status_code == 409
    assert purge_job(platform, utcnow()) == "Purged 1 tenant(s) (0 report(s))."
    assert rows_of(platform, tenant.id)["tenants"] == 0


def test_a_grace_period_of_0_purges_at_the_jobs_next_run(settings_factory: Any) -> None:
    with Platform(settings_factory(tenant_deletion_grace_days=0)) as platform:
        tenant = platform.tenant()
        operator = auth(platform.operator_key())
        deleted = platform.client.delete(f"/admin/tenants/{tenant.id}", headers=operator)
        assert deleted.json()["delete_after"] == deleted.json()["deletion_requested_at"]
        assert rows_of(platform, tenant.id)["tenants"] == 1  # nothing happens in the request

        assert purge_job(platform, utcnow()) == "Purged 1 tenant(s) (0 report(s))."
        assert rows_of(platform, tenant.id)["tenants"] == 0
