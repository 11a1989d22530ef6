"""Every typed call of ``Session`` against a real ``tutela serve --demo``."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

import tutela
from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tutela import Session
from tutela.scanner.catalog import load_catalog
from tutela.scanner.outputs.junit import junit_xml
from tutela.scanner.outputs.sarif import sarif_document
from tutela.sdk import (
    ApiKey,
    ApiKeyCreated,
    AuthenticationError,
    Evidence,
    Finding,
    Framework,
    NotFoundError,
    Plan,
    Report,
    ReportSummary,
    ScopeInfo,
    TenantMe,
)

SECRET = "client-secret-NEVER-SHOWN-7f3a9c"


def raw_get(server: LiveServer, path: str, key: str | None = None) -> httpx.Response:
    """The server's own answer, through plain httpx, to compare the SDK's models with."""
    return httpx.get(server.url + path, headers={"X-API-Key": key or server.demo_key}, timeout=30)


def export_for(subscription_id: str) -> list[dict[str, object]]:
    """A one-resource Resource Graph export of the subscription."""
    return [
        {
            "id": f"/subscriptions/{subscription_id}/resourceGroups/rg-ai/providers/"
            "Microsoft.CognitiveServices/accounts/aoai-one",
            "name": "aoai-one",
            "type": "microsoft.cognitiveservices/accounts",
            "kind": "OpenAI",
            "location": "westeurope",
            "subscriptionId": subscription_id,
            "resourceGroup": "rg-ai",
            "properties": {"publicNetworkAccess": "Enabled", "disableLocalAuth": False},
        }
    ]


# --- platform ----------------------------------------------------------------------------------


def test_health_frameworks_plans_and_scopes(session: Session) -> None:
    health = session.health()
    assert (health.status, health.version) == ("ok", tutela.__version__)

    frameworks = session.frameworks.list()
    assert all(isinstance(f, Framework) for f in frameworks)
    assert [f.id for f in frameworks] == list(load_catalog().framework_ids)  # all 7, in order
    iso = frameworks[0]
    assert "free_trial" in iso.plans
    assert iso.name

    plans = {p.id: p for p in session.plans.list()}
    assert all(isinstance(p, Plan) for p in plans.values())
    assert plans["free_trial"].scan_quota == 3
    assert plans["free_trial"].frameworks == ["iso42001", "sr11_7"]
    assert plans["enterprise"].scan_quota is None
    assert plans["enterprise"].features.scorecard is True
    assert {p.id: p.max_resources_per_scan for p in plans.values()} == {
        p.id: p.max_resources_per_scan for p in load_catalog().plans
    }

    scopes = session.scopes()
    assert all(isinstance(s, ScopeInfo) for s in scopes)
    assert {"scan:run", "report:read", "keys:write"} <= {s.scope for s in scopes}
    assert all(s.description for s in scopes)


# --- tenant and snapshots ----------------------------------------------------------------------


def test_tenant_me_matches_the_server(server: LiveServer, session: Session) -> None:
    me = session.tenant.me()
    assert isinstance(me, TenantMe)
    assert me.plan_id == "enterprise"
    assert len(me.azure_subscription_ids) == 2
    assert me.raw == raw_get(server, "/tenant/me").json()


def test_subscriptions_snapshots_and_a_scan_of_one_subscription(
    server: LiveServer, new_tenant: Callable[[str], Tenant], tmp_path: Path
) -> None:
    tenant = new_tenant("enterprise")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    with server.session(tenant.key) as session:
        assert session.tenant.set_subscriptions(first).azure_subscription_ids == [first]
        linked = session.tenant.set_subscriptions([first, second])
        assert linked.azure_subscription_ids == [first, second]
        assert session.tenant.me().azure_subscription_ids == [first, second]

        # Data, a pathlib.Path and a str path are all accepted; the file is sent as it is.
        snapshot = session.snapshots.put(first, export_for(first))
        assert snapshot.subscription_id == first
        assert snapshot.resources >= 1
        path = tmp_path / "export.json"
        path.write_text(json.dumps({"data": export_for(second)}, indent=2))
        by_path = session.snapshots.put(second, path)
        assert (by_path.resources, by_path.size_bytes) == (
            snapshot.resources,
            path.stat().st_size,
        )
        assert session.snapshots.put(second, str(path)).size_bytes == path.stat().st_size
        assert session.snapshots.get(first).uploaded_at == snapshot.uploaded_at

        report = session.scans.run(["iso42001"], subscription_id=first, label="one-sub")
        assert report.subscriptions == [first]
        assert report.resources_scanned == snapshot.resources
        assert report.scan_label == "one-sub"
        assert report.findings

        assert session.snapshots.delete(first).status == "ok"
        with pytest.raises(NotFoundError):
            session.snapshots.get(first)


def test_credentials_are_stored_and_the_secret_never_shown(
    server: LiveServer, new_tenant: Callable[[str], Tenant], caplog: pytest.LogCaptureFixture
) -> None:
    tenant = new_tenant("enterprise")
    caplog.set_level(logging.DEBUG)
    with server.session(tenant.key) as session:
        stored = session.tenant.set_credentials(
            tenant_id=str(uuid.uuid4()), client_id=str(uuid.uuid4()), client_secret=SECRET
        )
        assert stored.azure_credentials_set is True
        assert SECRET not in repr(stored)
        assert SECRET not in json.dumps(stored.raw)
        assert session.tenant.me().azure_credentials_set is True
        # A SecretStr is accepted as well.
        again = session.tenant.set_credentials(
            tenant_id=str(uuid.uuid4()),
            client_id=str(uuid.uuid4()),
            client_secret=SecretStr(SECRET),
        )
        assert again.set_at >= stored.set_at
    assert SECRET not in caplog.text
    assert tenant.key not in caplog.text


# --- scans -------------------------------------------------------------------------------------


def test_scan_without_frameworks_scans_the_plan_and_keeps_every_field(
    server: LiveServer, session: Session
) -> None:
    report = session.scans.run(label="sdk-nightly", generate_narrative=True)
    assert isinstance(report, Report)
    assert report.report_id
    assert report.report_id.startswith("COMP-")
    assert (
        report.frameworks
        == next(p for p in session.plans.list() if p.id == "enterprise").frameworks
    )
    assert report.scan_label == "sdk-nightly"
    assert report.critical_count + report.high_count + report.medium_count > 0
    finding = report.findings[0]
    assert isinstance(finding, Finding)
    assert finding.evidence
    # How strongly each finding is mapped, and why a general-purpose resource is in AI scope.
    assert {f.mapping for f in report.findings} <= {"direct", "supporting", "by analogy"}
    workloads = {
        f.ai_workload for f in report.findings if f.resource_type.startswith("microsoft.storage/")
    }
    assert None in workloads, "a storage account outside any AI workload"
    assert any(workloads), "a storage account an AI resource links to"
    assert isinstance(finding.evidence[0], Evidence)
    assert finding.narrative

    stored = raw_get(server, f"/report/{report.report_id}").json()
    assert report.raw == stored  # every field, exactly as the server sent it
    assert session.reports.get(report.report_id).raw == stored

    # The dict is what the CI gate's SARIF and JUnit writers read.
    sarif = sarif_document(report.raw)
    assert sarif["runs"][0]["results"]
    assert b"<testsuites" in junit_xml(report.raw)


def test_scan_options_reach_the_server(session: Session) -> None:
    report = session.scans.run("iso42001", generate_narrative=False)
    assert report.frameworks == ["iso42001"]
    assert all(f.narrative is None for f in report.findings)
    assert {f.framework for f in report.findings} == {"iso42001"}


def test_dry_run_is_a_full_report_without_an_id_and_not_saved(session: Session) -> None:
    before = {r.report_id for r in session.reports.list()}
    report = session.scans.dry_run(["sox", "dora"], label="try")
    assert report.report_id is None
    assert report.dry_run is True
    assert "report_id" not in report.raw
    assert report.frameworks == ["dora", "sox"]
    assert report.findings
    assert {r.report_id for r in session.reports.list()} == before


def test_iac_scan_of_data_path_and_str_path(session: Session, tmp_path: Path) -> None:
    saved = session.scans.iac(ARM_TEMPLATE, frameworks=["iso42001"], label="pr-17")
    assert saved.report_id
    assert saved.source == "arm"
    assert saved.scan_label == "pr-17"
    assert saved.frameworks == ["iso42001"]
    assert saved.findings

    path = tmp_path / "template.json"
    path.write_text(json.dumps(ARM_TEMPLATE))
    from_path = session.scans.iac(path, dry_run=True)
    assert from_path.report_id is None
    assert from_path.dry_run is True
    assert len(from_path.frameworks) == 7  # none given: every framework of the plan
    from_str = session.scans.iac(str(path), frameworks=["sox"], dry_run=True)
    assert from_str.frameworks == ["sox"]
    narrated = session.scans.iac(path, ["sox"], dry_run=True, generate_narrative=False)
    assert all(f.narrative is None for f in narrated.findings)


# --- reports -----------------------------------------------------------------------------------


def test_reports_list_follows_cursors_get_diff_delete(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        ids = [session.scans.iac(ARM_TEMPLATE, ["iso42001"]).report_id for _ in range(3)]
        one_by_one = list(session.reports.list(page_size=1))
        assert all(isinstance(r, ReportSummary) for r in one_by_one)
        assert [r.report_id for r in one_by_one] == ids[::-1]  # newest first, every page
        assert [r.report_id for r in session.reports.list(type="manual", page_size=2)] == ids[::-1]
        assert list(session.reports.list(type="governance")) == []
        listed = raw_get(server, "/reports", tenant.key).json()["items"]
        assert [r.raw for r in one_by_one] == listed

        first, _, last = ids
        assert first
        assert last
        diff = session.reports.diff(first, last)
        assert (diff.report_a, diff.report_b) == (first, last)
        assert diff.score_delta == 0
        assert not diff.new_findings
        assert not diff.resolved
        assert diff.unchanged
        assert isinstance(diff.unchanged[0], Finding)

        deleted = session.reports.delete(first)
        assert (deleted.deleted, deleted.report_id) == (1, first)
        with pytest.raises(NotFoundError):
            session.reports.get(first)
        assert session.reports.delete_manual().deleted == 2
        assert list(session.reports.list()) == []


# --- API keys ----------------------------------------------------------------------------------


def test_key_lifecycle_create_get_list_rename_revoke(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        owner = session.keys.current()
        assert owner.plan == "enterprise"
        assert owner.tenant_id == tenant.id
        assert tenant.key.startswith(owner.prefix)

        created = session.keys.create("ci", ["scan:run", "report:read"], expires_in_days=7)
        assert isinstance(created, ApiKeyCreated)
        secret = created.key.get_secret_value()
        assert secret.startswith(created.prefix)
        assert secret not in repr(created)
        assert secret not in str(created.raw)
        assert sorted(created.scopes) == ["report:read", "scan:run"]
        assert (created.expires_at - created.created_at).days == 7

        with server.session(secret) as ci:
            whoami = ci.keys.current()
            assert (whoami.key_id, sorted(whoami.scopes)) == (created.id, sorted(created.scopes))

        extra = [session.keys.create(f"k{i}", ["report:read"]).id for i in range(2)]
        listed = list(session.keys.list(page_size=1))
        assert all(isinstance(k, ApiKey) for k in listed)
        assert {k.id for k in listed} == {owner.key_id, created.id, *extra}

        assert session.keys.get(created.id).name == "ci"
        assert session.keys.rename(created.id, "ci-main").name == "ci-main"
        assert session.keys.get(created.id).name == "ci-main"

        assert session.keys.revoke(created.id).revoked == created.id
        assert session.keys.get(created.id).status == "revoked"
        with server.session(secret) as ci, pytest.raises(AuthenticationError) as caught:
            ci.keys.current()
        assert secret not in str(caught.value)
