"""The plan's resources per scan: every way in is refused with 413 before anything is assessed.

The limits are made small by giving the running platform a catalogue whose plan allows a few
resources (the shipped values are thousands): the same check, with inputs a test can hold.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from tests.platform import Platform, TenantCtx
from tests.scanner.sources.replay import ReplayTransport
from tests.server.governance.test_scans import NOW, due
from tests.server.scans.estates import (
    DEV,
    PROD,
    export,
    link,
    link_sample_snapshot,
    live_tenant,
    sample_records,
    scan_count,
)
from tests.server.scans.test_scan import (
    FIXTURES,
    iac,
    stored_reports,
)
from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.sources.arg import resources_from_arg
from tutela.server.reports.models import Snapshot

PLAN_FILE = FIXTURES / "tf_plan_ai_landing_zone.json"  # 25 resources (a replication included)
TEMPLATE_FILE = FIXTURES / "arm_ai_landing_zone.json"  # 9 resources
DEV_RESOURCES = len(resources_from_arg(export(sample_records(DEV)), "test"))  # 24


def with_limit(catalog: Catalog, plan_id: str, limit: int) -> Catalog:
    """The catalogue with one plan's resources per scan set to ``limit``."""
    plans = tuple(
        p.model_copy(update={"max_resources_per_scan": limit}) if p.id == plan_id else p
        for p in catalog.plans
    )
    return catalog.model_copy(update={"plans": plans})


def limit(platform: Platform, plan_id: str, resources: int) -> None:
    platform.runtime.catalog = with_limit(platform.runtime.catalog, plan_id, resources)


def detail(response: httpx.Response) -> str:
    return str(response.json()["detail"])


def assert_refused(response: httpx.Response, what: str, count: int, plan: str, most: int) -> None:
    assert response.status_code == 413, response.text
    assert detail(response).startswith(
        f"{count} resources in {what}; plan '{plan}' allows at most {most} per scan "
        "(max_resources_per_scan"
    )
    assert response.headers["x-correlation-id"]


def nothing_done(platform: Platform, tenant: TenantCtx) -> None:
    assert scan_count(platform, tenant) == 0
    assert stored_reports(platform, tenant) == 0


# --- the catalogue ------------------------------------------------------------------------------


def test_every_plan_has_a_growing_limit_shown_by_plans(platform: Platform) -> None:
    shipped = {p.id: p.max_resources_per_scan for p in load_catalog().plans}
    assert list(shipped) == ["free_trial", "starter", "professional", "enterprise"]
    assert list(shipped.values()) == sorted(shipped.values())
    assert all(isinstance(v, int) and v > 0 for v in shipped.values())
    tenant = platform.tenant("starter")
    listed = platform.client.get("/plans", headers=tenant.headers).json()
    assert {p["id"]: p["max_resources_per_scan"] for p in listed} == shipped


def test_the_413_is_in_the_openapi_document_of_every_limited_route(platform: Platform) -> None:
    paths = platform.client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/scan", "post"),
        ("/scan/dry-run", "post"),
        ("/scan/iac", "post"),
        ("/tenant/subscriptions/{subscription_id}/snapshot", "put"),
    ]:
        response = paths[path][method]["responses"]["413"]
        assert "max_resources_per_scan" in response["description"], path


# --- POST /scan/iac -----------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", ["false", "true"])
def test_a_plan_over_the_limit_is_413_counting_and_storing_nothing(
    platform: Platform, dry_run: str
) -> None:
    tenant = platform.tenant("starter")
    limit(platform, "starter", 23)
    response = iac(platform, tenant, PLAN_FILE.read_bytes(), dry_run=dry_run)
    assert_refused(response, "the Terraform plan", 24, "starter", 23)
    nothing_done(platform, tenant)


def test_a_template_over_the_limit_is_413_and_one_at_the_limit_is_scanned(
    platform: Platform,
) -> None:
    tenant = platform.tenant("professional")
    limit(platform, "professional", 7)
    response = iac(platform, tenant, TEMPLATE_FILE.read_bytes())
    assert_refused(response, "the ARM template", 8, "professional", 7)
    nothing_done(platform, tenant)

    limit(platform, "professional", 8)
    scanned = iac(platform, tenant, TEMPLATE_FILE.read_bytes())
    assert scanned.status_code == 200, scanned.text
    assert scanned.json()["resources_scanned"] == 8
    assert scan_count(platform, tenant) == 1


def test_the_limit_is_the_tenants_plans(platform: Platform) -> None:
    small, large = platform.tenant("free_trial"), platform.tenant("enterprise")
    limit(platform, "free_trial", 5)
    assert iac(platform, small, TEMPLATE_FILE.read_bytes()).status_code == 413
    assert iac(platform, large, TEMPLATE_FILE.read_bytes()).status_code == 200


# --- POST /scan and /scan/dry-run ---------------------------------------------------------------


def test_snapshots_over_the_limit_together_are_413_on_scan_and_dry_run(
    platform: Platform,
) -> None:
    tenant = platform.tenant("professional")
    link(platform, tenant, DEV, PROD)
    for subscription_id in (DEV, PROD):
        uploaded = platform.client.put(
            f"/tenant/subscriptions/{subscription_id}/snapshot",
            headers=tenant.headers,
            json=export(sample_records(subscription_id)),
        )
        assert uploaded.status_code == 200, uploaded.text
    both = sum(
        platform.client.get(f"/tenant/subscriptions/{s}/snapshot", headers=tenant.headers).json()[
            "resources"
        ]
        for s in (DEV, PROD)
    )
    limit(platform, "professional", both - 1)  # each alone fits, not both together
    body = {"frameworks": ["iso42001"]}
    for path in ("/scan", "/scan/dry-run"):
        response = platform.client.post(path, headers=tenant.headers, json=body)
        assert_refused(response, "the subscriptions' snapshots", both, "professional", both - 1)
    nothing_done(platform, tenant)

    one = platform.client.post(
        "/scan/dry-run", headers=tenant.headers, json={**body, "subscription_id": DEV}
    )
    assert one.status_code == 200, one.text


def test_snapshots_are_counted_before_any_is_decrypted(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant, DEV)
    with platform.db() as session:  # a body that would not open: reading it would be a 500
        session.execute(update(Snapshot).values(body=b"tampered"))
    limit(platform, "starter", DEV_RESOURCES - 1)
    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )
    assert_refused(
        response, "the subscriptions' snapshots", DEV_RESOURCES, "starter", DEV_RESOURCES - 1
    )


def with_credentials(platform: Platform, plan: str, *recordings: str) -> TenantCtx:
    """A tenant of ``plan`` scanned live, Azure answering from the recordings."""
    return live_tenant(platform, plan, transport=ReplayTransport.of("sign_in.json", *recordings))


def graph_pages(platform: Platform) -> int:
    transport = platform.runtime.azure_transport
    assert isinstance(transport, ReplayTransport)
    return len(transport.sent("management.azure.com", "Microsoft.ResourceGraph"))


def test_a_live_estate_counted_over_the_limit_is_413_before_it_is_read(
    platform: Platform,
) -> None:
    # Resource Graph's first page counts 50,001 resources: over the shipped enterprise limit.
    tenant = with_credentials(platform, "enterprise", "estate.json", "estate_over_limit.json")
    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )
    assert_refused(response, "the live estate", 50_001, "enterprise", 50_000)
    assert graph_pages(platform) == 1  # not its next page, nor the other tables, nor ARM
    nothing_done(platform, tenant)


def test_a_live_estate_over_the_limit_once_read_is_413_before_it_is_assessed(
    platform: Platform,
) -> None:
    # Resource Graph counts 5 resources; subscriptions and ARM children add to them once read.
    tenant = with_credentials(platform, "starter", "estate.json")
    limit(platform, "starter", 5)
    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )
    assert response.status_code == 413, response.text
    assert " resources in the live estate; plan 'starter' allows at most 5 per scan" in detail(
        response
    )
    assert graph_pages(platform) == 6  # read whole, then refused
    nothing_done(platform, tenant)


# --- PUT /tenant/subscriptions/{id}/snapshot ----------------------------------------------------


def test_an_export_over_the_limit_is_413_and_not_stored(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant, DEV)  # 24 resources, within the shipped limit
    path = f"/tenant/subscriptions/{DEV}/snapshot"
    before = platform.client.get(path, headers=tenant.headers).json()
    limit(platform, "starter", DEV_RESOURCES - 1)

    response = platform.client.put(
        path, headers=tenant.headers, json=export(sample_records(DEV)[:-1] * 2)
    )

    count = len(resources_from_arg(export(sample_records(DEV)[:-1] * 2), "test"))
    assert_refused(response, "the export", count, "starter", DEV_RESOURCES - 1)
    assert platform.client.get(path, headers=tenant.headers).json() == before  # not replaced
    fresh = platform.tenant("starter")
    link(platform, fresh, DEV)
    refused = platform.client.put(path, headers=fresh.headers, json=export(sample_records(DEV)))
    assert refused.status_code == 413
    assert platform.client.get(path, headers=fresh.headers).status_code == 404  # none stored


# --- governance scans ---------------------------------------------------------------------------


def test_a_governance_scan_over_the_limit_is_a_recorded_failure(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    link_sample_snapshot(platform, tenant, DEV)
    limit(platform, "professional", DEV_RESOURCES - 1)

    [outcome] = due(platform, NOW, tenant)

    assert outcome.status == "failed"
    assert outcome.detail is not None
    assert outcome.detail.startswith(f"{DEV_RESOURCES} resources in the subscriptions' snapshots")
    assert stored_reports(platform, tenant) == 0
    error = platform.client.get("/governance", headers=tenant.headers).json()["last_error"]
    assert "max_resources_per_scan" in error["detail"]
