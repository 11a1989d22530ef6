"""GET /admin/tenants/{id}/export: everything a tenant owns, decrypted, and never a secret."""

from __future__ import annotations

import datetime as dt
import tracemalloc
import zipfile

import orjson
import pytest
from sqlalchemy import select

from tests.platform import Platform
from tests.server.encryption.fake_vault import CLIENT_ID, CLIENT_SECRET, TENANT_ID, FakeVault
from tests.server.encryption.helpers import cmk_tenant
from tests.server.scans.estates import DEV, link_sample_snapshot, sample_records, scan
from tests.server.sso.provider import LocalProvider
from tests.server.tenants_lifecycle.helpers import audit_actions, export, member_json, seed
from tutela.server.audit.models import AuditEvent
from tutela.server.keys.models import ApiKey
from tutela.server.reports.service import store_report
from tutela.server.sso.models import TenantSso
from tutela.server.sso.service import redirect_uri
from tutela.server.tenants.models import Tenant, User
from tutela.server.tenants_lifecycle.archive import export_tenant

SSO_SECRET = "sso-client-secret-" + "q" * 30


def test_the_archive_holds_every_report_as_the_api_serves_it(
    platform: Platform, operator: dict[str, str]
) -> None:
    seeded = seed(platform)
    other = seed(platform)

    archive = export(platform, seeded.tenant.id, operator)

    names = set(archive.namelist())
    # Every member dated the day of the export (not the zip format's 1980 default), compressed.
    today = dt.datetime.now().date()
    for info in archive.infolist():
        assert abs(dt.date(*info.date_time[:3]) - today) <= dt.timedelta(days=1), info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
    # Its own reports only (the other tenant's may bear the same ids: ids are per tenant).
    assert {n for n in names if n.startswith("reports/")} == {
        f"reports/{r}.json" for r in seeded.report_ids
    }
    for report_id in seeded.report_ids:
        stored = archive.read(f"reports/{report_id}.json")
        with_passed = platform.client.get(
            f"/report/{report_id}", params={"include": "passed"}, headers=seeded.tenant.headers
        )
        plain = platform.client.get(f"/report/{report_id}", headers=seeded.tenant.headers)
        assert stored == with_passed.content
        document = orjson.loads(stored)
        document.pop("passed_recorded")
        document.pop("passed")
        assert document == plain.json()

    manifest = member_json(archive, "manifest.json")
    assert manifest["format_version"] == 1
    assert manifest["tenant_id"] == seeded.tenant.id
    assert manifest["plan"] == "professional"
    assert manifest["counts"]["reports"] == 3
    assert manifest["counts"]["governance_reports"] == 1
    assert manifest["counts"]["users"] == 2
    assert manifest["counts"]["snapshots"] == 1
    governance = member_json(archive, "governance.json")
    assert [h["report_id"] for h in governance["history"]] == seeded.report_ids[2:]
    assert governance["state"]["last_report_id"] == seeded.report_ids[2]
    snapshots = member_json(archive, "snapshots.json")
    records = member_json(archive, snapshots[0]["file"])
    assert records["data"] == sample_records(DEV)
    assert member_json(archive, "subscriptions.json") == [snapshots[0]["subscription_id"]]

    events = member_json(archive, "audit_events.json")
    assert {e["action"] for e in events} >= {"tenant.created", "user.created"}
    # Nothing of the other tenant: its id appears in no member.
    for name in names:
        assert other.tenant.id.encode() not in archive.read(name), name
    assert audit_actions(platform, seeded.tenant.id)[-1] == "tenant.exported"


def test_no_secret_reaches_the_archive(platform: Platform, operator: dict[str, str]) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    scan(platform, tenant)
    user_id, user_key = platform.user(tenant, "admin")
    platform.set_password(user_id, "correct horse battery staple")
    stored = platform.client.put(
        "/tenant/credentials",
        headers=tenant.headers,
        json={"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert stored.status_code == 200, stored.text
    with LocalProvider(redirect_uri(platform.settings)) as provider:
        sso = platform.client.put(
            "/tenant/sso",
            headers=tenant.headers,
            json={"issuer": provider.issuer, "client_id": "portal", "client_secret": SSO_SECRET},
        )
        assert sso.status_code == 200, sso.text

    archive = export(platform, tenant.id, operator)

    with platform.db() as session:
        key_hashes = session.scalars(select(ApiKey.key_hash).where(ApiKey.tenant_id == tenant.id))
        secrets = [h.encode() for h in key_hashes]
        password = session.scalars(select(User.password_hash).where(User.id == user_id)).one()
        row = session.get(Tenant, tenant.id)
        sso_row = session.get(TenantSso, tenant.id)
        assert row is not None
        assert row.azure_credentials is not None
        assert sso_row is not None
        secrets += [password.encode(), row.azure_credentials, sso_row.client_secret]
    secrets += [s.encode() for s in (tenant.owner_key, user_key, CLIENT_SECRET, SSO_SECRET)]
    for name in archive.namelist():
        content = archive.read(name)
        for secret in secrets:
            assert secret not in content, name
    described = member_json(archive, "tenant.json")
    assert described["azure_credentials_set"] is True
    assert described["sso"]["client_id"] == "portal"
    assert "client_secret" not in described["sso"]
    users = member_json(archive, "users.json")
    assert {u["password_set"] for u in users} == {True, False}
    assert all("password_hash" not in u for u in users)
    keys = member_json(archive, "api_keys.json")
    assert len(keys) == 2
    assert all("key_hash" not in k for k in keys)


def test_an_unknown_tenant_is_a_404_and_writes_nothing(
    platform: Platform, operator: dict[str, str]
) -> None:
    response = platform.client.get("/admin/tenants/nope/export", headers=operator)
    assert response.status_code == 404
    assert response.json() == {"detail": "Tenant not found"}
    assert list((platform.settings.data_dir / "exports").glob("*")) == []


def test_a_tenant_key_cannot_export(platform: Platform) -> None:
    tenant = platform.tenant()
    response = platform.client.get(f"/admin/tenants/{tenant.id}/export", headers=tenant.headers)
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_an_unreachable_key_vault_is_a_503_and_no_archive(
    platform: Platform, operator: dict[str, str]
) -> None:
    vault = FakeVault()
    vault.add_secret("tutela-key")
    platform.runtime.azure_transport = vault
    tenant = cmk_tenant(platform)
    link_sample_snapshot(platform, tenant)  # sealed under the tenant's Key Vault secret
    platform.runtime.keyring.forget()
    vault.deny()

    response = platform.client.get(f"/admin/tenants/{tenant.id}/export", headers=operator)

    assert response.status_code == 503, response.text
    assert "customer-managed key is unavailable" in response.json()["detail"]
    assert list((platform.settings.data_dir / "exports").glob("*")) == []
    with platform.db() as session:
        exported = session.scalars(
            select(AuditEvent).where(
                AuditEvent.tenant_id == tenant.id, AuditEvent.action == "tenant.exported"
            )
        ).all()
    assert exported == []
    vault.restore()
    assert export(platform, tenant.id, operator).namelist()


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_memory_stays_flat_whatever_the_number_of_reports(
    platform: Platform, operator: dict[str, str]
) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    template = scan(platform, tenant)
    while len(orjson.dumps(template)) < 2**20:  # about 1 MiB of JSON a report
        template["findings"] = template["findings"] * 2
    keys = platform.document_key()
    count, start = 120, dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with platform.db() as session:
        owner = session.get(Tenant, tenant.id)
        assert owner is not None
        for i in range(count):
            store_report(
                session,
                keys,
                owner,
                dict(template),
                report_type="manual",
                label=None,
                scan_ts=start + dt.timedelta(seconds=i),
            )
    total = count * len(orjson.dumps(template))

    tracemalloc.start()
    try:
        archive = export_tenant(
            platform.runtime, actor="tests", tenant_id=tenant.id, now=dt.datetime.now(dt.UTC)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    try:
        with zipfile.ZipFile(archive.path) as written:
            reports = [n for n in written.namelist() if n.startswith("reports/")]
        assert len(reports) == count + 1
    finally:
        archive.path.unlink()
    assert total > 100 * 2**20
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB for {total / 2**20:.0f} MiB of reports"
