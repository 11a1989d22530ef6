"""A report goes out as its stored zlib stream (deflate, or gzip around the same deflate data)
to a client that accepts it: the JSON is the same bytes the identity answer carries."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest
from sqlalchemy import select

from tests.platform import Platform, TenantCtx
from tests.server.scans.estates import link_sample_snapshot
from tests.server.test_compression import raw
from tutela.server.reports import streams
from tutela.server.reports.envelope import context, open_compressed
from tutela.server.reports.models import Report

SCAN = {"frameworks": ["iso42001", "sox"], "generate_narrative": False}


def decoded(response: httpx.Response, wire: bytes) -> bytes:
    coding = response.headers.get("content-encoding")
    if coding == "gzip":
        return gzip.decompress(wire)
    return zlib.decompress(wire) if coding == "deflate" else wire


def stored_body(platform: Platform, tenant: TenantCtx, report_id: str) -> bytes:
    """The report's opened body as sealed: its zlib stream, then its passes' stream."""
    with platform.db() as session:
        row = session.scalars(
            select(Report).where(Report.tenant_id == tenant.id, Report.report_id == report_id)
        ).one()
        wrapper = platform.runtime.keyring.opening(
            session, row.tenant_id, row.key_mode, row.key_ref
        )
        return open_compressed(
            wrapper, row.wrapped_key, row.body, context("report", row.tenant_id, report_id)
        )


def deflate_data(zlib_stream: bytes) -> bytes:
    return zlib_stream[2:-4]


def test_a_scan_and_its_stored_report_are_sent_as_the_stored_stream(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    scanned, wire = raw(
        platform, "POST", "/scan", "gzip, deflate", headers=tenant.headers, json=SCAN
    )
    assert scanned.status_code == 200
    assert scanned.headers["content-encoding"] == "gzip"
    assert scanned.headers["vary"] == "Accept-Encoding"
    assert int(scanned.headers["content-length"]) == len(wire)
    report = gzip.decompress(wire)
    report_id = httpx.Response(200, content=report).json()["report_id"]
    body = stored_body(platform, tenant, report_id)
    # Its deflate data is the stored stream's, byte for byte: nothing was compressed again.
    stream_end = streams.measure(body).end
    assert stream_end < len(body)  # the passes' stream follows the report's
    assert wire[10:-8] == deflate_data(body[:stream_end])

    plain, plain_wire = raw(platform, "GET", f"/report/{report_id}", "identity",
                            headers=tenant.headers)  # fmt: skip
    assert "content-encoding" not in plain.headers
    assert plain_wire == report
    for coding in ("gzip", "deflate"):
        stored, stored_wire = raw(platform, "GET", f"/report/{report_id}", coding,
                                  headers=tenant.headers)  # fmt: skip
        assert stored.status_code == 200
        assert stored.headers["content-encoding"] == coding
        assert decoded(stored, stored_wire) == report
    _, deflated = raw(platform, "GET", f"/report/{report_id}", "deflate", headers=tenant.headers)
    assert deflated == body[:stream_end]


@pytest.mark.parametrize("slice_bytes", [streams._SLICE, 1 << 10])  # one slice, many
def test_a_report_read_by_another_process_is_measured_once_and_sent_the_same(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, slice_bytes: int
) -> None:
    monkeypatch.setattr(streams, "_SLICE", slice_bytes)
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    response = platform.client.post("/scan", headers=tenant.headers, json=SCAN)
    report_id = response.json()["report_id"]
    streams._remembered.clear()  # as a server that did not store it
    for _ in range(2):
        stored, wire = raw(platform, "GET", f"/report/{report_id}", "gzip", headers=tenant.headers)
        assert stored.headers["content-encoding"] == "gzip"
        assert gzip.decompress(wire) == response.content
    # Another tenant's report stays a 404, whatever the coding.
    other = platform.tenant("enterprise")
    refused, _ = raw(platform, "GET", f"/report/{report_id}", "gzip", headers=other.headers)
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("accepted", "coding"),
    [
        ("identity", None),
        ("deflate", "deflate"),
        ("gzip;q=0, deflate", "deflate"),
        ("deflate;q=0, *", "gzip"),
        ("br", None),
    ],
)
def test_a_dry_run_is_sent_in_the_coding_accepted(
    platform: Platform, accepted: str, coding: str | None
) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    response, wire = raw(
        platform, "POST", "/scan/dry-run", accepted, headers=tenant.headers, json=SCAN
    )
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    report = httpx.Response(200, content=decoded(response, wire)).json()
    assert report["dry_run"] is True
    assert report["findings"]


@pytest.mark.parametrize("slice_bytes", [1 << 22, 1 << 12, 1 << 10])
def test_measure_finds_the_end_of_the_first_stream(
    monkeypatch: pytest.MonkeyPatch, slice_bytes: int
) -> None:
    # A report inflated in several slices (over 8 MiB of JSON with the 4 MiB slices served):
    # at the stream's end CPython leaves the passes' bytes in ``unused_data`` and, the output
    # limit hit in the same call, in ``unconsumed_tail`` too; counted twice, they cut the
    # report's stream short, and a restarted server sent a truncated gzip body.
    monkeypatch.setattr(streams, "_SLICE", slice_bytes)
    report = b'{"findings":[' + b'{"a":1},' * 50_000 + b"{}]}"
    passes = zlib.compress(b'[{"check_id":"X"}]')
    facts = streams.measure(zlib.compress(report, 1) + passes)
    assert facts == (len(zlib.compress(report, 1)), zlib.crc32(report), len(report))
    with pytest.raises(zlib.error):
        streams.measure(zlib.compress(report, 1)[:-10])
