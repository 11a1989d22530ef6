"""A keyed scan is answered like an unkeyed one, in the report's stored stream, and kept in
the coding it was sent in: replayed as kept, or decoded for a client that does not accept it."""

from __future__ import annotations

import gzip
import uuid
import zlib
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from tests.platform import Platform, TenantCtx
from tests.server.reports.test_encoded_reports import deflate_data, stored_body
from tests.server.scans.estates import link_sample_snapshot, scan_count
from tests.server.test_compression import raw
from tutela.server.idempotency.answers import replayed
from tutela.server.idempotency.models import IdempotencyRecord
from tutela.server.reports import streams

SCAN = {"frameworks": ["iso42001", "sox"], "generate_narrative": False}
VOLATILE = ("report_id", "scan_ts")  # what two scans of the same estate differ in


def keyed(tenant: TenantCtx, key: str | None = None) -> dict[str, str]:
    return {**tenant.headers, "Idempotency-Key": key or str(uuid.uuid4())}


def report(body: bytes) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(body)
    return {k: v for k, v in document.items() if k not in VOLATILE}


def kept_headers(platform: Platform, headers: dict[str, str]) -> dict[str, str]:
    """The headers kept for the answer to the request sent with ``headers`` (its key's record:
    a PostgreSQL database holds other tests' records too)."""
    with platform.db() as session:
        key = headers["Idempotency-Key"]
        [record] = session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
        return dict(record.headers or {})


@pytest.fixture
def tenant(platform: Platform) -> TenantCtx:
    created = platform.tenant("enterprise")
    link_sample_snapshot(platform, created)
    return created


def test_a_keyed_scan_is_sent_and_replayed_as_the_stored_stream(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    headers = keyed(tenant)

    first, wire = raw(platform, "POST", "/scan", "gzip", headers=headers, json=SCAN)
    again, again_wire = raw(platform, "POST", "/scan", "gzip", headers=headers, json=SCAN)
    unkeyed, unkeyed_wire = raw(platform, "POST", "/scan", "gzip", headers=tenant.headers,
                                json=SCAN)  # fmt: skip

    assert first.status_code == again.status_code == unkeyed.status_code == 200, first.text
    assert first.headers["content-encoding"] == unkeyed.headers["content-encoding"] == "gzip"
    assert first.headers["vary"] == "Accept-Encoding"
    assert "idempotency-replayed" not in first.headers
    first_json = gzip.decompress(wire)
    assert report(first_json) == report(gzip.decompress(unkeyed_wire))
    # The report's own stream, byte for byte: neither encoded again nor gzipped a second time.
    body = stored_body(platform, tenant, orjson.loads(first_json)["report_id"])
    assert wire[10:-8] == deflate_data(body[: streams.measure(body).end])
    assert kept_headers(platform, headers)["content-encoding"] == "gzip"

    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["content-encoding"] == "gzip"
    assert again.headers["vary"] == "Accept-Encoding"
    assert int(again.headers["content-length"]) == len(again_wire)
    assert again_wire == wire
    assert scan_count(platform, tenant) == 2


@pytest.mark.parametrize("accepted", ["identity", "deflate", "gzip;q=0", ""])
def test_a_replay_to_a_client_that_refuses_gzip_is_the_json(
    platform: Platform, tenant: TenantCtx, accepted: str
) -> None:
    headers = keyed(tenant)
    first, wire = raw(platform, "POST", "/scan", "gzip", headers=headers, json=SCAN)
    assert first.headers["content-encoding"] == "gzip"

    again, again_wire = raw(platform, "POST", "/scan", accepted, headers=headers, json=SCAN)

    assert again.status_code == 200, again.text
    assert again.headers["idempotency-replayed"] == "true"
    if accepted == "gzip;q=0":  # GZipMiddleware still gzips it (it looks for "gzip" only)
        again_wire = gzip.decompress(again_wire)
    else:
        assert "content-encoding" not in again.headers
    assert again_wire == gzip.decompress(wire)
    assert orjson.loads(again_wire)["findings"]
    assert scan_count(platform, tenant) == 1


def test_an_answer_kept_in_deflate_is_replayed_as_kept_or_as_the_json(
    platform: Platform, tenant: TenantCtx
) -> None:
    headers = keyed(tenant)
    first, wire = raw(platform, "POST", "/scan", "deflate", headers=headers, json=SCAN)
    assert first.headers["content-encoding"] == "deflate"
    as_kept, as_kept_wire = raw(platform, "POST", "/scan", "deflate", headers=headers, json=SCAN)
    plain, plain_wire = raw(platform, "POST", "/scan", "identity", headers=headers, json=SCAN)
    # A gzip client gets the JSON, which GZipMiddleware compresses as any other answer.
    gzipped, gzipped_wire = raw(platform, "POST", "/scan", "gzip", headers=headers, json=SCAN)

    assert as_kept.headers["content-encoding"] == "deflate"
    assert as_kept_wire == wire
    assert "content-encoding" not in plain.headers
    assert plain_wire == zlib.decompress(wire)
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(gzipped_wire) == plain_wire
    assert gzipped.headers["vary"] == "Accept-Encoding"
    assert scan_count(platform, tenant) == 1


def test_answers_without_a_coding_are_kept_and_replayed_as_before(
    platform: Platform, tenant: TenantCtx
) -> None:
    headers = keyed(tenant)
    first, wire = raw(platform, "POST", "/scan", "identity", headers=headers, json=SCAN)
    again, again_wire = raw(platform, "POST", "/scan", "identity", headers=headers, json=SCAN)

    assert "content-encoding" not in first.headers
    assert "content-encoding" not in kept_headers(platform, headers)
    assert again.headers["idempotency-replayed"] == "true"
    assert again_wire == wire


def test_replayed_decodes_a_block_at_a_time_and_drops_the_encoded_length() -> None:
    document = b'{"findings":[' + b'{"check_id":"X"},' * 200_000 + b"{}]}"
    kept = gzip.compress(document)
    headers = {"content-type": "application/json", "content-encoding": "gzip",
               "content-length": str(len(kept))}  # fmt: skip

    sent, blocks = replayed(headers, kept, "deflate")
    parts = list(blocks)

    assert sent == {"content-type": "application/json"}
    assert len(parts) > 1
    assert b"".join(parts) == document
    as_kept, body = replayed(headers, kept, "gzip, deflate")
    assert as_kept == {**headers, "vary": "Accept-Encoding"}
    assert b"".join(body) == kept
