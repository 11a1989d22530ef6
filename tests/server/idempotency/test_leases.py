"""Holding a key while the request runs: renewed leases, 5xx answers, limits on repeats.

A slow request is a live scan whose Azure (a recorded transport) answers each call slowly,
served by uvicorn in a thread so that requests really overlap.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import select

from tests.platform import Platform, auth
from tests.scanner.sources.replay import ReplayTransport
from tests.server.scans.estates import link_sample_snapshot, live_tenant, scan_count
from tests.server.scans.test_quota import serving
from tutela.server.idempotency.models import IdempotencyRecord

SCAN = {"frameworks": ["iso42001"]}


def records(platform: Platform) -> list[IdempotencyRecord]:
    with platform.db() as session:
        return list(session.scalars(select(IdempotencyRecord)))


def test_a_request_outliving_its_lease_keeps_the_key_by_renewing_it(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with Platform(settings_factory(idempotency_lease_seconds=1.2)) as platform:
        tenant = live_tenant(platform)
        # About 3.5 s of scan, nearly three times the lease: renewed every 0.4 s, never lapsed
        # (a lease this long leaves room for a loaded machine's scheduling).
        platform.runtime.azure_transport = ReplayTransport.of(
            "sign_in.json", "estate.json", latency=0.45
        )
        headers = {**tenant.headers, "Idempotency-Key": "long-scan"}
        with (
            serving(platform.app) as base_url,
            httpx.Client(base_url=base_url, timeout=60) as client,
        ):
            first: list[httpx.Response] = []
            running = threading.Thread(
                target=lambda: first.append(client.post("/scan", headers=headers, json=SCAN))
            )
            running.start()
            time.sleep(2.6)  # past two leases
            repeat = client.post("/scan", headers=headers, json=SCAN)
            running.join(timeout=60)
            after = client.post("/scan", headers=headers, json=SCAN)

        assert first[0].status_code == 200, first[0].text
        assert repeat.status_code == 409, repeat.text  # not taken over: the holder is alive
        assert after.headers["idempotency-replayed"] == "true"
        assert after.json()["report_id"] == first[0].json()["report_id"]
        assert scan_count(platform, tenant) == 1


@pytest.mark.usefixtures("azure_unreachable")
def test_a_5xx_answer_frees_the_key_for_the_retry(platform: Platform) -> None:
    tenant = live_tenant(platform)
    headers = {**tenant.headers, "Idempotency-Key": "azure-down"}

    failed = platform.client.post("/scan", headers=headers, json=SCAN)
    assert failed.status_code == 502, failed.text
    assert records(platform) == []

    platform.runtime.azure_transport = ReplayTransport.of("sign_in.json", "estate.json")
    retried = platform.client.post("/scan", headers=headers, json=SCAN)
    assert retried.status_code == 200, retried.text
    assert "idempotency-replayed" not in retried.headers
    assert scan_count(platform, tenant) == 1


def test_a_body_over_the_limit_is_413_and_holds_nothing(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with Platform(settings_factory(max_body_bytes=2048)) as platform:
        tenant = platform.tenant("enterprise")
        headers = {**tenant.headers, "Idempotency-Key": "big", "Content-Type": "application/json"}
        body = b'{"frameworks": ["iso42001"], "scan_label": "' + b"x" * 4096 + b'"}'
        response = platform.client.post("/scan", headers=headers, content=body)
        assert response.status_code == 413
        assert records(platform) == []


def test_repeats_count_against_the_rate_limit(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with Platform(settings_factory(rate_limit="2/minute")) as platform:
        tenant = platform.tenant("enterprise")
        link_sample_snapshot(platform, tenant)
        scanner = platform.key(tenant, ["scan:run"])  # a budget of its own
        headers = {**auth(scanner), "Idempotency-Key": "limited"}
        statuses = [
            platform.client.post("/scan", headers=headers, json=SCAN).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
