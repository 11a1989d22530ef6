"""Documents under a customer-managed key: sealed with the tenant's current Key Vault version and
opened with the one that sealed them; a vault that refuses stops scans, uploads and reads with a
503 (nothing written, no garbage) and marks the tenant blocked until the key works again."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.platform import Platform, TenantCtx
from tests.server.encryption.fake_vault import CLIENT_SECRET, VAULT_URL, FakeVault
from tests.server.encryption.helpers import (
    cmk_tenant,
    enable,
    mails_to,
    owner_email,
    status,
    with_principal,
)
from tests.server.governance.helpers import governance_reports
from tests.server.scans.estates import DEV, export, link, sample_records, scan_count
from tutela.server.governance.scans import run_due
from tutela.server.idempotency.models import IdempotencyRecord
from tutela.server.reports.envelope import (
    DocumentUnreadable,
    context,
    open_compressed,
    open_document,
)
from tutela.server.reports.models import Report, Snapshot
from tutela.server.snapshots.service import snapshot_resources
from tutela.server.tenants.models import Tenant

TEMPLATE = (
    Path(__file__).parents[2] / "scanner" / "sources" / "fixtures" / "arm_ai_landing_zone.json"
).read_bytes()
MATERIAL = {"secret": {}, "key": {"key": "tutela-kek"}}


def iac_scan(platform: Platform, tenant: TenantCtx, **headers: str) -> httpx.Response:
    response: httpx.Response = platform.client.post(
        "/scan/iac",
        headers={**tenant.headers, "content-type": "application/json", **headers},
        content=TEMPLATE,
    )
    return response


def stored_scan(platform: Platform, tenant: TenantCtx) -> dict[str, Any]:
    response = iac_scan(platform, tenant)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def report_row(platform: Platform, tenant: TenantCtx, report_id: str) -> Report:
    with platform.db() as session:
        row = session.scalars(
            select(Report).where(Report.tenant_id == tenant.id, Report.report_id == report_id)
        ).one()
        session.expunge(row)
        return row


def report_count(platform: Platform, tenant: TenantCtx) -> int:
    with platform.db() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Report).where(Report.tenant_id == tenant.id)
            )
            or 0
        )


def current_ref(vault: FakeVault, kind: str) -> str:
    if kind == "secret":
        return f"{VAULT_URL}secrets/tutela-key/{vault.secrets['tutela-key'][-1].version}"
    return f"{VAULT_URL}keys/tutela-kek/{vault.keys['tutela-kek'][-1].version}"


def read(platform: Platform, tenant: TenantCtx, report_id: str) -> httpx.Response:
    response: httpx.Response = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
    return response


def upload(platform: Platform, tenant: TenantCtx) -> httpx.Response:
    response: httpx.Response = platform.client.put(
        f"/tenant/subscriptions/{DEV}/snapshot",
        headers=tenant.headers,
        json=export(sample_records(DEV)),
    )
    return response


def tenant_row(platform: Platform, tenant: TenantCtx) -> Tenant:
    with platform.db() as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        session.expunge(row)
        return row


@pytest.mark.parametrize("kind", MATERIAL)
def test_a_report_is_sealed_under_the_tenants_key_and_not_the_platform_key(
    platform: Platform, vault: FakeVault, kind: str
) -> None:
    tenant = cmk_tenant(platform, **MATERIAL[kind])
    report = stored_scan(platform, tenant)

    row = report_row(platform, tenant, report["report_id"])
    assert (row.key_mode, row.key_ref) == ("cmk", current_ref(vault, kind))
    bound = context("report", tenant.id, row.report_id)
    with pytest.raises(DocumentUnreadable):
        open_compressed(platform.document_key(), row.wrapped_key, row.body, bound)
    assert read(platform, tenant, report["report_id"]).json() == report


@pytest.mark.parametrize("kind", MATERIAL)
def test_a_snapshot_is_sealed_under_the_tenants_key(
    platform: Platform, vault: FakeVault, kind: str
) -> None:
    tenant = cmk_tenant(platform, **MATERIAL[kind])
    link(platform, tenant, DEV)
    assert upload(platform, tenant).status_code == 200

    with platform.db() as session:
        row = session.get(Snapshot, (tenant.id, DEV))
        assert row is not None
        assert (row.key_mode, row.key_ref) == ("cmk", current_ref(vault, kind))
        bound = f"tutela/snapshot/v1|{tenant.id}|{DEV}".encode()
        with pytest.raises(DocumentUnreadable):
            open_document(platform.document_key(), row.wrapped_key, row.body, bound)
        resources = snapshot_resources(session, tenant.id, DEV, platform.runtime.keyring)
        assert resources is not None
        assert len(resources) == row.resources > 0


@pytest.mark.parametrize("kind", MATERIAL)
def test_after_a_rotation_each_report_opens_with_the_version_that_sealed_it(
    platform: Platform, vault: FakeVault, kind: str
) -> None:
    tenant = cmk_tenant(platform, **MATERIAL[kind])
    old_ref = current_ref(vault, kind)
    before = stored_scan(platform, tenant)
    if kind == "secret":
        vault.rotate_secret("tutela-key")
    else:
        vault.rotate_key("tutela-kek")
    rotated = platform.client.post("/tenant/encryption/rotate", headers=tenant.headers)
    assert rotated.json()["rotated"] is True, rotated.text
    after = stored_scan(platform, tenant)

    assert report_row(platform, tenant, before["report_id"]).key_ref == old_ref
    assert report_row(platform, tenant, after["report_id"]).key_ref == current_ref(vault, kind)
    assert current_ref(vault, kind) != old_ref
    platform.runtime.keyring.forget()  # each version is asked of the vault again
    assert read(platform, tenant, before["report_id"]).json() == before
    assert read(platform, tenant, after["report_id"]).json() == after


def test_a_cmk_report_still_opens_after_the_switch_back_to_pmk(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)
    cmk_report = stored_scan(platform, tenant)
    with platform.db() as session:  # as confirm-pmk leaves the tenant
        row = session.get(Tenant, tenant.id)
        assert row is not None
        row.encryption_mode = "pmk"
        row.cmk_vault_url = row.cmk_secret_name = row.cmk_key_version = None

    pmk_report = stored_scan(platform, tenant)

    assert report_row(platform, tenant, pmk_report["report_id"]).key_mode == "pmk"
    assert report_row(platform, tenant, pmk_report["report_id"]).key_ref is None
    platform.runtime.keyring.forget()
    assert read(platform, tenant, cmk_report["report_id"]).json() == cmk_report
    assert read(platform, tenant, pmk_report["report_id"]).json() == pmk_report


def test_a_denied_key_stops_scans_uploads_and_reads_until_access_is_back(
    platform: Platform, vault: FakeVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = with_principal(platform, "enterprise")  # the scorecard is an Enterprise feature
    assert enable(platform, tenant, key="tutela-kek").status_code == 200
    link(platform, tenant, DEV)
    report = stored_scan(platform, tenant)
    reports, scans = report_count(platform, tenant), scan_count(platform, tenant)

    vault.deny()
    refused = [
        iac_scan(platform, tenant),
        platform.client.post("/scan", headers=tenant.headers, json={"frameworks": ["dora"]}),
        upload(platform, tenant),
        read(platform, tenant, report["report_id"]),
        platform.client.get(f"/report/{report['report_id']}/scorecard", headers=tenant.headers),
    ]

    for response in refused:
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert detail.startswith("Your customer-managed key is unavailable: ")
        assert "access denied" in detail
        assert VAULT_URL in detail
    assert report_count(platform, tenant) == reports  # nothing stored, under any key
    assert scan_count(platform, tenant) == scans
    with platform.db() as session:
        assert session.get(Snapshot, (tenant.id, DEV)) is None
    seen = status(platform, tenant)
    assert seen["cmk_blocked"] is True
    assert seen["cmk_last_error"].startswith("access_denied: ")
    owner = owner_email(platform, tenant)
    alerts = [s for s, _ in mails_to(platform, owner) if "unavailable" in s]
    assert len(alerts) == 1  # one email for the transition, not one per refused request

    vault.restore()
    assert read(platform, tenant, report["report_id"]).json() == report
    seen = status(platform, tenant)
    assert (seen["cmk_blocked"], seen["cmk_last_error"]) == (False, None)
    assert upload(platform, tenant).status_code == 200

    logged = caplog.text
    assert CLIENT_SECRET not in logged
    assert not any(token in logged for token in vault.tokens)


def test_an_unreachable_vault_is_a_503_naming_it(platform: Platform, vault: FakeVault) -> None:
    tenant = cmk_tenant(platform)
    report = stored_scan(platform, tenant)
    vault.unreachable = True
    platform.runtime.keyring.forget()  # a secret's wrapper holds its key while cached

    for response in (iac_scan(platform, tenant), read(platform, tenant, report["report_id"])):
        assert response.status_code == 503, response.text
        assert "unreachable" in response.json()["detail"]
    assert tenant_row(platform, tenant).cmk_last_error.startswith("unreachable: ")  # type: ignore[union-attr]
    assert report_count(platform, tenant) == 1


def test_a_wrapped_key_from_another_report_is_refused_never_garbage(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform, key="tutela-kek")
    first, second = stored_scan(platform, tenant), stored_scan(platform, tenant)
    with platform.db() as session:
        rows = {
            r.report_id: r
            for r in session.scalars(select(Report).where(Report.tenant_id == tenant.id))
        }
        rows[first["report_id"]].wrapped_key = rows[second["report_id"]].wrapped_key

    response = read(platform, tenant, first["report_id"])
    assert response.status_code == 500
    assert "cannot be decrypted" in response.json()["detail"]
    assert tenant_row(platform, tenant).cmk_blocked is False  # the key works; the row does not


def test_a_kept_idempotent_answer_is_sealed_under_the_tenants_key(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)
    first = iac_scan(platform, tenant, **{"Idempotency-Key": "cmk-answer-1"})
    assert first.status_code == 200, first.text
    with platform.db() as session:
        record = session.scalars(
            select(IdempotencyRecord).where(IdempotencyRecord.owner == tenant.id)
        ).one()
        assert (record.key_mode, record.key_ref) == ("cmk", current_ref(vault, "secret"))

    platform.runtime.keyring.forget()
    replay = iac_scan(platform, tenant, **{"Idempotency-Key": "cmk-answer-1"})
    assert replay.status_code == 200
    assert replay.headers.get("Idempotency-Replayed") == "true"
    assert replay.json() == first.json()


def test_a_governance_scan_under_a_refused_key_fails_naming_it_and_stores_nothing(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)
    link(platform, tenant, DEV)
    vault.deny()
    platform.runtime.keyring.forget()

    later = dt.datetime(2027, 11, 1, 6, 0, tzinfo=dt.UTC)  # the first scan is due by then
    [outcome] = [o for o in run_due(platform.runtime, later) if o.tenant_id == tenant.id]

    assert outcome.status == "failed"
    assert "customer-managed key is unavailable" in str(outcome.detail)
    assert governance_reports(platform, tenant.id) == []
    assert status(platform, tenant)["cmk_blocked"] is True


def test_an_answer_the_refused_key_cannot_seal_is_not_kept_and_the_log_says_why(
    platform: Platform, vault: FakeVault, caplog: pytest.LogCaptureFixture
) -> None:
    """The request succeeded (creating an API key never reads the vault), but its answer
    cannot be sealed: it is not kept, the key is released, and the log names the cause."""
    caplog.set_level(logging.INFO)
    tenant = cmk_tenant(platform)
    vault.deny()
    platform.runtime.keyring.forget()
    headers = {**tenant.headers, "Idempotency-Key": "refused-1"}

    first = platform.client.post(
        "/api-keys", headers=headers, json={"name": "ci", "scopes": ["tenant:read"]}
    )

    assert first.status_code == 201, first.text
    reasons = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith("idempotent_answer_not_kept")
    ]
    assert reasons == ["idempotent_answer_not_kept reason=key_unavailable"]
    with platform.db() as session:
        assert (
            session.scalars(
                select(IdempotencyRecord).where(IdempotencyRecord.owner == tenant.id)
            ).all()
            == []
        )
    retry = platform.client.post(
        "/api-keys", headers=headers, json={"name": "ci", "scopes": ["tenant:read"]}
    )
    assert retry.status_code == 201  # run again, not replayed: nothing was kept
    assert "Idempotency-Replayed" not in retry.headers
    assert retry.json()["id"] != first.json()["id"]
