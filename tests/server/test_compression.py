"""Answers are gzip-compressed for clients that accept it; the others get them as they are."""

from __future__ import annotations

import gzip

import httpx
import orjson

from tests.platform import Platform, TenantCtx
from tests.server.scans.estates import link_sample_snapshot
from tests.server.scans.test_limits import limit
from tests.server.scans.test_scan import FIXTURES

TEMPLATE = (FIXTURES / "arm_ai_landing_zone.json").read_bytes()


def raw(
    platform: Platform, method: str, path: str, encoding: str, **kwargs: object
) -> tuple[httpx.Response, bytes]:
    """The response and its body as it came over the wire (not decoded)."""
    headers = {**kwargs.pop("headers", {}), "Accept-Encoding": encoding}  # type: ignore[dict-item]
    with platform.client.stream(method, path, headers=headers, **kwargs) as response:  # type: ignore[arg-type]
        return response, b"".join(response.iter_raw())


def iac(platform: Platform, tenant: TenantCtx, encoding: str) -> tuple[httpx.Response, bytes]:
    return raw(
        platform,
        "POST",
        "/scan/iac",
        encoding,
        headers={**tenant.headers, "content-type": "application/json"},
        params={"dry_run": "true"},
        content=TEMPLATE,
    )


def test_a_report_is_gzipped_for_a_client_that_accepts_it(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    plain_response, plain = iac(platform, tenant, "identity")
    gzipped_response, wire = iac(platform, tenant, "gzip")

    assert plain_response.status_code == gzipped_response.status_code == 200
    assert "content-encoding" not in plain_response.headers
    assert gzipped_response.headers["content-encoding"] == "gzip"
    assert gzipped_response.headers["vary"] == "Accept-Encoding"
    assert gzipped_response.headers["x-correlation-id"]
    assert len(wire) * 10 < len(plain), (len(wire), len(plain))
    report = orjson.loads(gzip.decompress(wire))
    assert report["findings"]
    plain_report = orjson.loads(plain)
    for volatile in ("scan_ts",):  # two scans: only their time may differ
        report.pop(volatile), plain_report.pop(volatile)
    assert report == plain_report


def test_scan_and_a_stored_report_are_gzipped(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    scanned, wire = raw(
        platform, "POST", "/scan", "gzip", headers=tenant.headers, json={"frameworks": ["sox"]}
    )
    assert scanned.status_code == 200
    assert scanned.headers["content-encoding"] == "gzip"
    report = orjson.loads(gzip.decompress(wire))

    stored, stored_wire = raw(platform, "GET", f"/report/{report['report_id']}", "gzip",
                              headers=tenant.headers)  # fmt: skip
    assert stored.status_code == 200
    assert stored.headers["content-encoding"] == "gzip"
    assert gzip.decompress(stored_wire) == gzip.decompress(wire)  # the bytes that were stored
    # The client the tests (and the SDK) use decodes it on its own.
    assert platform.client.get(f"/report/{report['report_id']}", headers=tenant.headers).json() == (
        report
    )


def test_small_answers_and_errors_keep_their_headers(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    health, body = raw(platform, "GET", "/health", "gzip")
    assert "content-encoding" not in health.headers  # under the minimum size: as it is
    assert orjson.loads(body)["status"] == "ok"

    limit(platform, "starter", 1)
    refused, body = iac(platform, tenant, "gzip")
    assert refused.status_code == 413
    assert refused.headers["x-correlation-id"]
    assert (
        "max_resources_per_scan"
        in orjson.loads(
            gzip.decompress(body) if refused.headers.get("content-encoding") == "gzip" else body
        )["detail"]
    )
