"""GET /metrics on TUTELA_METRICS_PORT: requests by route template, scans, findings, key cache."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.platform import Platform, TenantCtx
from tests.server.observability.iac import TEMPLATE
from tests.server.observability.scrape import sample, scrape
from tests.serving import free_port
from tutela.server.config import Settings
from tutela.server.metrics import serve_metrics, stop_metrics


@pytest.fixture
def metrics_port(any_platform: Platform) -> Iterator[int]:
    """The listener `tutela serve` starts, on a port of this test's."""
    port = free_port()
    settings = any_platform.settings.model_copy(update={"metrics_port": port})
    server = serve_metrics(settings)
    try:
        yield port
    finally:
        stop_metrics(server)


def test_the_public_port_does_not_serve_metrics(platform: Platform) -> None:
    assert platform.client.get("/metrics").status_code == 404


def test_no_listener_unless_a_port_is_set(settings_factory: Callable[..., Settings]) -> None:
    assert serve_metrics(settings_factory()) is None


def test_requests_are_counted_by_route_template_without_ids(
    any_platform: Platform, metrics_port: int
) -> None:
    tenant = any_platform.tenant()
    before = scrape(metrics_port)
    for report_id in ("COMP-20260101-000000", "COMP-20260101-000001"):
        response = any_platform.client.get(f"/report/{report_id}", headers=tenant.headers)
        assert response.status_code == 404
    assert any_platform.client.get(f"/no/such/{tenant.id}").status_code == 404
    admin = any_platform.client.get(f"/admin/tenants/{tenant.id}", headers=tenant.headers)
    assert admin.status_code == 403
    after = scrape(metrics_port)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    route = {"method": "GET", "route": "/report/{report_id}"}
    assert moved("tutela_http_requests_total", **route, status="404") == 2
    assert moved("tutela_http_request_duration_seconds_count", **route) == 2
    assert moved("tutela_http_requests_total", method="GET", route="other", status="404") == 1
    admin_route = {"method": "GET", "route": "/admin/tenants/{tenant_id}", "status": "403"}
    assert moved("tutela_http_requests_total", **admin_route) == 1
    # Neither the tenant's id nor its key's prefix is a label anywhere.
    assert tenant.id not in after
    assert tenant.owner_key[:12] not in after
    assert "COMP-2026" not in after


def test_a_stored_scan_counts_the_scan_and_its_findings(
    any_platform: Platform, metrics_port: int
) -> None:
    tenant = any_platform.tenant()
    before = scrape(metrics_port)
    report = _scan(any_platform, tenant)
    dry = any_platform.client.post(
        "/scan/iac",
        headers={**tenant.headers, "content-type": "application/json"},
        content=TEMPLATE,
        params={"dry_run": "true"},
    )
    assert dry.status_code == 200, dry.text
    after = scrape(metrics_port)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("tutela_scans_total", type="iac", outcome="stored") == 1
    assert moved("tutela_scans_total", type="iac", outcome="dry_run") == 1
    assert moved("tutela_scan_duration_seconds_count") == 2
    for severity in ("critical", "high", "medium", "low"):
        # The stored report's failed findings only: the dry run stored none.
        assert moved("tutela_findings_total", severity=severity) == report[f"{severity}_count"]
    assert report["critical_count"] + report["high_count"] > 0


def test_a_body_that_is_no_template_is_not_a_scan(
    any_platform: Platform, metrics_port: int
) -> None:
    tenant = any_platform.tenant()
    before = sample(scrape(metrics_port), "tutela_scans_total", type="iac", outcome="refused")
    response = any_platform.client.post(
        "/scan/iac",
        headers={**tenant.headers, "content-type": "application/json"},
        content=b'{"resources": "not a template"}',
    )
    assert response.status_code == 422
    # Refused while reading the body, before the engine: neither a scan nor a refused one.
    after = sample(scrape(metrics_port), "tutela_scans_total", type="iac", outcome="refused")
    assert after == before


def test_key_cache_hits_and_misses(any_platform: Platform, metrics_port: int) -> None:
    tenant = any_platform.tenant()
    key = any_platform.key(tenant, ["tenant:read"])  # a key never presented yet
    before = scrape(metrics_port)
    for _ in range(3):
        assert any_platform.client.get("/tenant/me", headers={"X-API-Key": key}).status_code == 200
    after = scrape(metrics_port)
    name = "tutela_key_cache_requests_total"
    assert sample(after, name, result="miss") - sample(before, name, result="miss") == 1
    assert sample(after, name, result="hit") - sample(before, name, result="hit") == 2


def _scan(platform: Platform, tenant: TenantCtx) -> dict[str, int]:
    response = platform.client.post(
        "/scan/iac",
        headers={**tenant.headers, "content-type": "application/json"},
        content=TEMPLATE,
    )
    assert response.status_code == 200, response.text
    body: dict[str, int] = response.json()
    return body


def test_the_listener_answers_prometheus_text(metrics_port: int) -> None:
    response = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE tutela_http_requests_total counter" in response.text
