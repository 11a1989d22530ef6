"""POST /scan, /scan/dry-run and /scan/iac: the seed's report, plan gates, sources, Azure errors."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.platform import Platform, TenantCtx
from tests.scanner.sources.replay import ReplayTransport
from tests.server.scans.estates import (
    ANONYMOUS_REGISTRY,
    AZURE_CLIENT,
    AZURE_SUBSCRIPTION,
    AZURE_TENANT,
    CLUSTER_WITHOUT_RBAC,
    DEV,
    PROD,
    RECORDED_SECRET,
    clean_records,
    export,
    link,
    link_sample_snapshot,
    listed,
    live_tenant,
    offline_report,
    sample_records,
    scan,
    scan_count,
    upload_snapshot,
)
from tutela.server.config import Settings
from tutela.server.reports.ids import REPORT_ID_PATTERN
from tutela.server.reports.models import Report
from tutela.server.reports.schemas import ReportOut
from tutela.server.scans.sources import AzureCredentialsRejected, SourceUnavailable, live_estate
from tutela.server.tenants.service import AzureCredentials

SettingsFactory = Callable[..., Settings]

FIXTURES = Path(__file__).parents[2] / "scanner" / "sources" / "fixtures"
ALL_FRAMEWORKS = ["iso42001", "sr11_7", "eu_ai_act", "nist_ai_rmf", "mas_trm", "dora", "sox"]
SEED_FINDING_FIELDS = {
    "control_id",
    "framework",
    "resource",
    "severity",
    "status",
    "title",
    "description",
    "narrative",
    "remediation",
}
REPORT_ID = re.compile(REPORT_ID_PATTERN)
SCAN_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def detail(response: httpx.Response) -> str:
    body = response.json()["detail"]
    return str(body[0]["msg"]) if isinstance(body, list) else str(body)


def stored_reports(platform: Platform, tenant: TenantCtx) -> int:
    with platform.db() as session:
        count = session.scalar(
            select(func.count()).select_from(Report).where(Report.tenant_id == tenant.id)
        )
        return int(count or 0)


def finding_keys(report: dict[str, Any]) -> Counter[tuple[str, str, str, str, str]]:
    return Counter(
        (f["framework"], f["control_id"], f["check_id"], f["resource"], f["severity"])
        for f in report["findings"]
    )


# --- POST /scan: the seed's report --------------------------------------------------------------


def test_scan_returns_the_seeds_report(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant, DEV)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)

    report = scan(platform, tenant, ["sr11_7", "iso42001"], scan_label="ci-run-4711")

    after = dt.datetime.now(dt.UTC)
    # The seed's fields.
    assert REPORT_ID.match(report["report_id"])
    assert report["tenant_id"] == tenant.id
    assert SCAN_TS.match(report["scan_ts"])
    scan_ts = dt.datetime.fromisoformat(report["scan_ts"])
    assert before <= scan_ts <= after
    assert report["report_id"] == scan_ts.strftime("COMP-%Y%m%d-%H%M%S")
    assert report["frameworks"] == ["iso42001", "sr11_7"]  # catalogue order
    assert isinstance(report["aggregate_score"], int)
    assert 0 <= report["aggregate_score"] <= 100
    severities = Counter(f["severity"] for f in report["findings"])
    for severity in ("critical", "high", "medium", "low"):
        assert report[f"{severity}_count"] == severities[severity], severity
    assert report["critical_count"] >= 1
    assert report["findings"]
    for finding in report["findings"]:
        assert finding.keys() >= SEED_FINDING_FIELDS
        assert finding["framework"] in {"iso42001", "sr11_7"}
        assert finding["status"] == "fail"
        assert finding["resource"].startswith(f"/subscriptions/{DEV}")
        for field in ("control_id", "title", "description", "narrative", "remediation"):
            assert isinstance(finding[field], str), field
            assert finding[field].strip(), field
    registry = [f for f in report["findings"] if f["resource_name"] == ANONYMOUS_REGISTRY]
    assert {(f["check_id"], f["severity"]) for f in registry} >= {("ACR-ANON-PULL", "critical")}
    # Tutela's coverage fields.
    assert set(report["framework_scores"]) == {"iso42001", "sr11_7"}
    assert report["checks_evaluated"] > 0
    assert isinstance(report["checks_unknown"], int)
    assert report["checks_evaluated"] == (
        report["checks_passed"] + report["checks_failed"] + report["checks_unknown"]
    )
    assert report["resources_scanned"] > 0
    assert report["scan_label"] == "ci-run-4711"
    assert report["subscriptions"] == [DEV]
    assert report["source"] == "snapshot"
    # Written straight from the document, it still is the report the OpenAPI schema declares.
    ReportOut.model_validate(report)

    # The report is the scanner's own assessment of the uploaded snapshot.
    offline = offline_report(sample_records(DEV), report["frameworks"], scan_ts)
    for field in (
        "aggregate_score",
        "critical_count",
        "high_count",
        "medium_count",
        "low_count",
        "framework_scores",
        "checks_evaluated",
        "checks_unknown",
        "resources_scanned",
    ):
        assert report[field] == offline[field], field
    assert finding_keys(report) == finding_keys(offline)


def test_scan_is_counted_and_stored_with_its_label(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    assert scan_count(platform, tenant) == 0

    report = scan(platform, tenant, scan_label="deadbeef42")

    assert scan_count(platform, tenant) == 1
    [item] = listed(platform, tenant)
    assert item["report_id"] == report["report_id"]
    assert item["label"] == "deadbeef42"
    assert item["type"] == "manual"
    assert item["critical_count"] == report["critical_count"]
    stored = platform.client.get(f"/report/{report['report_id']}", headers=tenant.headers)
    assert stored.json()["scan_label"] == "deadbeef42"
    # The report is encoded once: what /scan answered is what was sealed and is served back.
    assert stored.json() == report
    assert report["tenant_id"] == tenant.id


def test_scan_of_all_linked_subscriptions_or_one(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link(platform, tenant, PROD, DEV)
    upload_snapshot(platform, tenant, PROD, sample_records(PROD))
    upload_snapshot(platform, tenant, DEV, sample_records(DEV))

    both = scan(platform, tenant)
    assert both["subscriptions"] == [PROD, DEV]
    assert {f["resource"].split("/")[2] for f in both["findings"]} == {PROD, DEV}

    one = scan(platform, tenant, subscription_id=PROD)
    assert one["subscriptions"] == [PROD]
    assert {f["resource"].split("/")[2] for f in one["findings"]} == {PROD}
    assert one["resources_scanned"] < both["resources_scanned"]


def test_the_clean_estate_has_no_critical_finding(platform: Platform) -> None:
    """The helper the report and gate tests rely on: every critical fixed, the rest kept."""
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant, DEV, clean=True)
    report = scan(platform, tenant, ALL_FRAMEWORKS)
    assert report["critical_count"] == 0
    assert report["high_count"] > 0
    names = {f["resource_name"] for f in report["findings"]}
    assert names  # the other failures are still there
    assert len(clean_records(sample_records(DEV))) == len(sample_records(DEV))
    dirty = offline_report(sample_records(DEV), ALL_FRAMEWORKS, dt.datetime.now(dt.UTC))
    critical = {f["resource_name"] for f in dirty["findings"] if f["severity"] == "critical"}
    assert critical == {ANONYMOUS_REGISTRY, CLUSTER_WITHOUT_RBAC}


# --- request errors ---------------------------------------------------------------------------


def test_unknown_frameworks_are_422_naming_positions_and_the_valid_ids(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    script = "<script>alert(1)</script>"
    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001", script, "gdpr"]}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "frameworks"]
    # The caller's text is never echoed: positions name what was wrong.
    assert script not in response.text
    assert "gdpr" not in response.text
    assert error["msg"].startswith("Not a framework id: frameworks[1], frameworks[2];")
    assert error["msg"].endswith("valid ids: " + ", ".join(ALL_FRAMEWORKS))
    assert scan_count(platform, tenant) == 0
    assert stored_reports(platform, tenant) == 0


def test_no_framework_is_422(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    response = platform.client.post("/scan", headers=tenant.headers, json={"frameworks": []})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "frameworks"]


def test_a_framework_outside_the_plan_is_403_naming_it_and_the_plan(platform: Platform) -> None:
    tenant = platform.tenant("free_trial")
    link_sample_snapshot(platform, tenant)
    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001", "dora"]}
    )
    assert response.status_code == 403
    message = detail(response)
    assert "dora" in message
    assert "'free_trial'" in message
    assert "iso42001" not in message.split("(")[0]  # only the framework refused is named
    assert scan_count(platform, tenant) == 0
    # The plan's own frameworks scan.
    assert scan(platform, tenant, ["iso42001", "sr11_7"])["frameworks"] == ["iso42001", "sr11_7"]


def test_a_subscription_not_linked_is_404(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant, DEV)
    other = str(uuid.uuid4())
    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"], "subscription_id": other}
    )
    assert response.status_code == 404
    assert other in detail(response)
    assert scan_count(platform, tenant) == 0


def test_no_linked_subscription_is_409_saying_how_to_link_one(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    for path in ("/scan", "/scan/dry-run"):
        response = platform.client.post(
            path, headers=tenant.headers, json={"frameworks": ["iso42001"]}
        )
        assert response.status_code == 409, path
        message = detail(response)
        assert "No Azure subscription is linked" in message
        assert "PUT /tenant/subscriptions" in message
    assert scan_count(platform, tenant) == 0


def test_a_subscription_without_snapshot_or_credentials_is_409_naming_it(
    platform: Platform,
) -> None:
    tenant = platform.tenant("starter")
    bare = str(uuid.uuid4())
    link(platform, tenant, DEV, bare)
    upload_snapshot(platform, tenant, DEV, sample_records(DEV))

    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )
    assert response.status_code == 409
    message = detail(response)
    assert bare in message
    assert DEV not in message  # the one with a snapshot is not blamed
    assert "PUT /tenant/credentials" in message
    assert "/snapshot" in message
    assert scan_count(platform, tenant) == 0
    assert stored_reports(platform, tenant) == 0
    # Only the subscription with a snapshot: it scans.
    assert scan(platform, tenant, subscription_id=DEV)["subscriptions"] == [DEV]


# --- narratives -------------------------------------------------------------------------------


def narratives(report: dict[str, Any]) -> set[bool]:
    """Whether each finding has a narrative: {True}, {False} or both."""
    assert report["findings"]
    return {isinstance(f["narrative"], str) and bool(f["narrative"]) for f in report["findings"]}


def test_narratives_default_on_for_paid_plans_off_for_the_free_trial(platform: Platform) -> None:
    paid, free = platform.tenant("starter"), platform.tenant("free_trial")
    link_sample_snapshot(platform, paid)
    link_sample_snapshot(platform, free)

    assert narratives(scan(platform, paid)) == {True}
    assert {f["narrative"] for f in scan(platform, free)["findings"]} == {None}
    assert narratives(scan(platform, free, generate_narrative=True)) == {True}
    assert {f["narrative"] for f in scan(platform, paid, generate_narrative=False)["findings"]} == {
        None
    }


def test_a_stored_report_keeps_its_narratives(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    report = scan(platform, tenant)
    stored = platform.client.get(f"/report/{report['report_id']}", headers=tenant.headers).json()
    assert [f["narrative"] for f in stored["findings"]] == [
        f["narrative"] for f in report["findings"]
    ]


# --- live Azure failures ------------------------------------------------------------------------

WRONG_SECRET = "wrong-secret-value~123"


def test_live_estate_reads_azure_through_the_given_transport() -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json")
    credentials = AzureCredentials(AZURE_TENANT, AZURE_CLIENT, RECORDED_SECRET)
    estate = live_estate(credentials, [AZURE_SUBSCRIPTION], transport=transport)
    assert estate.get(f"/subscriptions/{AZURE_SUBSCRIPTION}") is not None
    assert transport.requests


def test_bad_credentials_are_422_naming_the_cause() -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json", "sign_in_invalid_secret.json")
    credentials = AzureCredentials(AZURE_TENANT, AZURE_CLIENT, WRONG_SECRET)
    with pytest.raises(AzureCredentialsRejected) as raised:
        live_estate(credentials, [AZURE_SUBSCRIPTION], transport=transport)
    error = raised.value
    assert error.status_code == 422
    assert error.headers == {}
    assert error.detail == (
        f"Azure rejected the stored credentials: sign-in failed for service principal "
        f"{AZURE_CLIENT} in tenant {AZURE_TENANT}: AADSTS7000215: Invalid client secret "
        "provided. Correct them with PUT /tenant/credentials."
    )
    assert WRONG_SECRET not in error.detail


def test_throttling_is_503_with_retry_after() -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json", "throttled_always.json")
    credentials = AzureCredentials(AZURE_TENANT, AZURE_CLIENT, RECORDED_SECRET)
    with pytest.raises(SourceUnavailable) as raised:
        live_estate(credentials, [AZURE_SUBSCRIPTION], transport=transport)
    error = raised.value
    assert error.status_code == 503
    assert error.headers == {"Retry-After": "60"}
    assert str(error.detail).startswith("Azure could not be scanned: Azure kept throttling")
    assert "HTTP 429" in str(error.detail)


@pytest.mark.usefixtures("azure_unreachable")
def test_a_failed_live_scan_is_502_and_counts_nothing(platform: Platform) -> None:
    secret = "Zp4~verySecretValue.Qq81-nRt~kW7x"
    tenant = live_tenant(platform, "starter", secret=secret)

    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )

    assert response.status_code == 502, response.text
    message = detail(response)
    assert message.startswith(
        f"Azure could not be scanned: sign-in failed for service principal {AZURE_CLIENT} "
        f"in tenant {AZURE_TENANT}"
    )
    assert secret not in response.text
    assert "Traceback" not in response.text
    assert scan_count(platform, tenant) == 0
    assert stored_reports(platform, tenant) == 0


# --- POST /scan/dry-run -------------------------------------------------------------------------


def test_dry_run_is_a_full_report_neither_stored_nor_counted(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    body = {"frameworks": ["iso42001", "sr11_7"], "scan_label": "preview"}

    response = platform.client.post("/scan/dry-run", headers=tenant.headers, json=body)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert "report_id" not in report
    ReportOut.model_validate(report)
    assert report["tenant_id"] == tenant.id
    assert report["frameworks"] == ["iso42001", "sr11_7"]
    assert report["critical_count"] >= 1
    assert report["findings"]
    assert narratives(report) == {True}
    assert listed(platform, tenant) == []
    assert stored_reports(platform, tenant) == 0
    assert scan_count(platform, tenant) == 0
    # The same scan for real finds the same.
    real = scan(platform, tenant, **{k: v for k, v in body.items() if k != "frameworks"})
    assert finding_keys(real) == finding_keys(report)
    assert scan_count(platform, tenant) == 1


def test_dry_run_is_allowed_with_the_quota_used_up(platform: Platform) -> None:
    tenant = platform.tenant("free_trial")
    link_sample_snapshot(platform, tenant)
    for _ in range(3):
        scan(platform, tenant)
    refused = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )
    assert refused.status_code == 403
    assert detail(refused) == "Scan quota exceeded for plan 'free_trial' (3/3 used this month)"
    dry = platform.client.post(
        "/scan/dry-run", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )
    assert dry.status_code == 200
    assert scan_count(platform, tenant) == 3


def test_dry_run_checks_the_plan_like_a_scan(platform: Platform) -> None:
    tenant = platform.tenant("free_trial")
    link_sample_snapshot(platform, tenant)
    response = platform.client.post(
        "/scan/dry-run", headers=tenant.headers, json={"frameworks": ["sox"]}
    )
    assert response.status_code == 403
    assert "sox" in detail(response)


# --- POST /scan/iac -----------------------------------------------------------------------------


def iac(platform: Platform, tenant: TenantCtx, content: bytes, **params: str) -> httpx.Response:
    response: httpx.Response = platform.client.post(
        "/scan/iac",
        headers={**tenant.headers, "content-type": "application/json"},
        content=content,
        params=params,
    )
    return response


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [("tf_plan_ai_landing_zone.json", "terraform"), ("arm_ai_landing_zone.json", "arm")],
)
def test_iac_scan_reports_stores_and_counts(platform: Platform, fixture: str, kind: str) -> None:
    tenant = platform.tenant("starter")  # no subscription is needed for a pre-deploy scan
    response = iac(platform, tenant, (FIXTURES / fixture).read_bytes(), scan_label="pr-17")

    assert response.status_code == 200, response.text
    report = response.json()
    assert REPORT_ID.match(report["report_id"])
    assert report["source"] == kind
    assert report["frameworks"] == ALL_FRAMEWORKS  # default: every framework of the plan
    assert report["findings"]
    assert report["resources_scanned"] > 0
    assert report["scan_label"] == "pr-17"
    ReportOut.model_validate(report)
    assert scan_count(platform, tenant) == 1
    [item] = listed(platform, tenant)
    assert (item["report_id"], item["label"]) == (report["report_id"], "pr-17")
    stored = platform.client.get(f"/report/{report['report_id']}", headers=tenant.headers)
    assert stored.json() == report


def test_iac_dry_run_is_not_stored(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    content = (FIXTURES / "tf_plan_ai_landing_zone.json").read_bytes()
    response = iac(platform, tenant, content, dry_run="true")
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    assert "report_id" not in response.json()
    assert response.json()["findings"]
    assert listed(platform, tenant) == []
    assert scan_count(platform, tenant) == 0


def test_iac_frameworks_restrict_the_report(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    content = (FIXTURES / "arm_ai_landing_zone.json").read_bytes()
    report = iac(platform, tenant, content, frameworks="sox, iso42001").json()
    assert report["frameworks"] == ["iso42001", "sox"]
    assert set(report["framework_scores"]) == {"iso42001", "sox"}
    assert {f["framework"] for f in report["findings"]} <= {"iso42001", "sox"}

    unknown = iac(platform, tenant, content, frameworks="iso42001,hipaa")
    assert unknown.status_code == 422
    assert "hipaa" not in detail(unknown)  # the position is named, not the caller's text
    assert detail(unknown).startswith("Not a framework id: frameworks[1];")
    assert unknown.json()["detail"][0]["loc"] == ["query", "frameworks"]  # where it was sent
    free = platform.tenant("free_trial")
    assert iac(platform, free, content).json()["frameworks"] == ["iso42001", "sr11_7"]
    outside = iac(platform, free, content, frameworks="dora")
    assert outside.status_code == 403
    assert "dora" in detail(outside)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (json.dumps(export(sample_records(DEV))).encode(), "not a Terraform plan or an ARM"),
        (json.dumps(sample_records(DEV)).encode(), "not a Terraform plan or an ARM"),
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'"just a string"', "not an Azure Resource Graph export, an ARM template"),
        (b'{"hello": "world"}', "not an Azure Resource Graph export, an ARM template"),
    ],
    ids=["resource-graph-export", "resource-graph-list", "garbage", "empty", "string", "object"],
)
def test_iac_refuses_what_is_not_a_plan_or_template(
    platform: Platform, content: bytes, expected: str
) -> None:
    tenant = platform.tenant("starter")
    response = iac(platform, tenant, content)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert expected in detail(response)
    assert scan_count(platform, tenant) == 0
    assert stored_reports(platform, tenant) == 0


def test_iac_over_the_upload_limit_is_413(settings_factory: SettingsFactory) -> None:
    content = (FIXTURES / "tf_plan_ai_landing_zone.json").read_bytes()
    assert len(content) > 4096
    with Platform(settings_factory(max_upload_bytes=4096)) as platform:
        tenant = platform.tenant("starter")
        response = iac(platform, tenant, content)
        assert response.status_code == 413
        assert "4096" in detail(response)
        assert scan_count(platform, tenant) == 0


def test_iac_has_the_upload_limit_not_the_default(settings_factory: SettingsFactory) -> None:
    content = (FIXTURES / "tf_plan_ai_landing_zone.json").read_bytes()
    assert len(content) > 1024
    settings = settings_factory(max_body_bytes=1024, max_upload_bytes=len(content) + 1)
    with Platform(settings) as platform:
        tenant = platform.tenant("starter")
        response = iac(platform, tenant, content)
        assert response.status_code == 200, response.text
