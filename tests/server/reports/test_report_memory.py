"""A large scan's report is stored and answered without its whole JSON in memory.

A report grows with its findings (900 MiB of JSON at 50,000 resources). Storing one compresses it
a block at a time as it is encoded, and the answer is inflated from the compressed bytes a slice
at a time: at a few thousand resources, tracemalloc holds each step well under the report's size
(building the JSON whole, as before, costs at least all of it). A saved report is read back
the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import tracemalloc
from pathlib import Path

import pytest

from tests.platform import Platform, TenantCtx
from tutela.scanner.outputs.report_json import ReportDocument, inflate
from tutela.server.governance.drift import drift_between, side_of_document, side_of_stored
from tutela.server.reports.envelope import context, open_compressed, open_json
from tutela.server.reports.service import GOVERNANCE, MANUAL, store_report
from tutela.server.scans.service import assess_estate, read_iac
from tutela.server.tenants.models import Tenant

BENCH = Path(__file__).resolve().parents[3] / "bench"
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def large_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    sys.path.insert(0, str(BENCH))  # bench/ is not a package
    try:
        import generate
    finally:
        sys.path.remove(str(BENCH))
    directory = tmp_path_factory.mktemp("estate")
    generate.generate(5000, 42, directory)
    return (directory / "template.json").read_bytes()


def assessed(platform: Platform, tenant: TenantCtx, template: bytes) -> ReportDocument:
    """The template's scan for the tenant, every framework, narrated: not yet encoded."""
    estate, _ = read_iac(template)
    frameworks = list(platform.runtime.catalog.framework_ids)
    return assess_estate(
        platform.runtime, tenant.id, estate, frameworks, NOW, narrate=True, label=None
    )


def test_a_large_report_is_stored_and_answered_never_whole(
    platform: Platform, large_template: bytes
) -> None:
    tenant = platform.tenant("enterprise")
    keys = platform.document_key()
    document = assessed(platform, tenant, large_template)
    size = sum(len(chunk) for chunk in document.compact_chunks())  # encoded a block at a time
    assert size > 60 * 2**20

    answered = hashlib.sha256()
    with platform.db() as session:
        owner = session.get(Tenant, tenant.id)
        assert owner is not None
        tracemalloc.start()
        try:
            row = store_report(
                session, keys, owner, document, report_type=MANUAL, label=None, scan_ts=NOW
            )
            storing = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            for chunk in document.compact_chunks():  # the answer, as ReportResponse sends it
                answered.update(chunk)
            answering = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        stored = open_json(
            keys, row.wrapped_key, row.body, context("report", tenant.id, row.report_id)
        )

    assert storing < size / 3, f"storing peaked at {storing:,} bytes for a {size:,}-byte report"
    assert answering < size / 3, f"answering peaked at {answering:,} bytes"
    assert hashlib.sha256(stored).digest() == answered.digest()  # the answer is what was stored
    assert f'"report_id":"{row.report_id}"'.encode() in stored[:200]

    # GET /report/{id} answers the same bytes: to a client that accepts gzip, the stored stream
    # as it is (its length known, a few % of the JSON's); to one that does not, inflated as they
    # are sent (no length up front).
    got = platform.client.get(f"/report/{row.report_id}", headers=tenant.headers)
    assert got.status_code == 200, got.text[:300]
    assert got.headers["content-encoding"] == "gzip"
    assert int(got.headers["content-length"]) < size / 20
    assert hashlib.sha256(got.content).digest() == answered.digest()
    plain = platform.client.get(
        f"/report/{row.report_id}", headers={**tenant.headers, "Accept-Encoding": "identity"}
    )
    assert "content-length" not in plain.headers
    assert hashlib.sha256(plain.content).digest() == answered.digest()


def test_drift_reads_both_sides_of_a_large_report_never_whole(
    platform: Platform, large_template: bytes
) -> None:
    """A governance scan's drift: the new report from its assessment, the previous one decoded
    in batches as it is inflated; each well under the JSON's size (decoding it whole took
    more than all of it)."""
    tenant = platform.tenant("enterprise")
    keys = platform.document_key()
    document = assessed(platform, tenant, large_template)
    size = sum(len(chunk) for chunk in document.compact_chunks())
    with platform.db() as session:
        owner = session.get(Tenant, tenant.id)
        assert owner is not None
        row = store_report(
            session, keys, owner, document, report_type=GOVERNANCE, label=None, scan_ts=NOW
        )
        bound = context("report", tenant.id, row.report_id)
        tracemalloc.start()
        try:
            previous = side_of_stored(
                inflate(open_compressed(keys, row.wrapped_key, row.body, bound)),
                row.report_id,
                row.aggregate_score,
            )
            reading = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            current = side_of_document(document)
            assessing = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert reading < size / 3, f"the stored side peaked at {reading:,} bytes of {size:,}"
    assert assessing < size / 3, f"the current side peaked at {assessing:,} bytes"
    assert previous.severities == current.severities
    assert len(current.severities) == sum(
        document.header[f"{s}_count"] for s in ("critical", "high", "medium", "low")
    )
    drift = drift_between(previous, current, 5)
    assert (drift["new_findings"], drift["resolved"], drift["detected"]) == (0, 0, False)
