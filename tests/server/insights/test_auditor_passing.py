"""The auditor package shows, per control, the first passes of its checks and their evidence."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.platform import Platform, TenantCtx
from tests.server.insights.helpers import FRAMEWORKS, stored
from tests.server.insights.test_auditor_package import _pdftotext, package
from tests.server.scans.estates import link_sample_snapshot, scan
from tutela.scanner.catalog import load_catalog
from tutela.scanner.samples import load_sample_estate
from tutela.scanner.scan import run_scan
from tutela.server.db import utcnow
from tutela.server.insights.auditor_passing import PASSING_SAMPLES, first_passes

CATALOG = load_catalog()


def scanned(platform: Platform, tenant: TenantCtx) -> str:
    """A report stored by POST /scan, with its passes."""
    link_sample_snapshot(platform, tenant)
    report_id: str = scan(platform, tenant, FRAMEWORKS)["report_id"]
    return report_id


def passes_of(platform: Platform, tenant: TenantCtx, report_id: str) -> dict[str, Any]:
    response = platform.client.get(
        f"/report/{report_id}", headers=tenant.headers, params={"include": "passed"}
    )
    assert response.status_code == 200, response.text
    return {c["check_id"]: c["resources"] for c in response.json()["passed"]}


def test_each_met_control_shows_its_first_passes(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    report_id = scanned(platform, tenant)
    pack = package(platform, tenant, report_id)["auditor_package"]
    assert pack["passing_evidence_recorded"] is True
    passed = passes_of(platform, tenant, report_id)
    shown = 0
    for coverage in pack["frameworks_coverage"]:
        for control in coverage["controls"]:
            samples = control["passing_evidence"]
            assert len(samples) <= PASSING_SAMPLES
            assert bool(samples) == (control["checks_passed"] > 0), control["control_id"]
            for sample in samples:
                # A pass the report keeps, with the evidence it keeps.
                (kept,) = (
                    r for r in passed[sample["check_id"]] if r["resource"] == sample["resource"]
                )
                assert sample["evidence"] == kept["evidence"]
                assert kept["evidence"]
            shown += len(samples)
    assert shown > 0
    # The hash attests the report as GET answers it by default, passes apart.
    answer = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
    assert pack["report_sha256"] == hashlib.sha256(answer.content).hexdigest()


def test_a_report_stored_without_passes_says_so(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    report_id = stored(platform, tenant)  # a document stored as before: no passes kept
    pack = package(platform, tenant, report_id)["auditor_package"]
    assert pack["passing_evidence_recorded"] is False
    controls = [c for cov in pack["frameworks_coverage"] for c in cov["controls"]]
    assert any(c["checks_passed"] > 0 for c in controls)  # passes were counted, not kept
    assert all(c["passing_evidence"] == [] for c in controls)


def test_the_pdf_appendix_shows_passing_evidence(platform: Platform, tmp_path: Path) -> None:
    tenant = platform.tenant("enterprise")
    report_id = scanned(platform, tenant)
    response = platform.client.get(
        f"/report/{report_id}/auditor-package?format=pdf", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    text = _pdftotext(response.content, tmp_path)
    assert "Passing evidence" in text
    pack = package(platform, tenant, report_id)["auditor_package"]
    sample = next(
        s
        for cov in pack["frameworks_coverage"]
        for c in cov["controls"]
        for s in c["passing_evidence"]
    )
    assert sample["check_id"] in text
    assert sample["resource"].rsplit("/", 1)[-1] in text
    assert sample["evidence"][0]["path"] in text


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 30])
def test_the_first_passes_are_read_a_check_at_a_time(piece: int) -> None:
    _, document = run_scan(
        load_sample_estate(), CATALOG.framework_ids, scan_ts=utcnow(), catalog=CATALOG
    )
    stored = zlib.decompress(document.passed_compressed() or b"")
    pieces = [stored[at : at + piece] for at in range(0, len(stored), piece)]
    first = first_passes(pieces)
    expected = orjson.loads(stored)
    assert list(first) == [check["check_id"] for check in expected]
    for check in expected:
        shown = [p.model_dump() for p in first[check["check_id"]]]
        assert shown == [
            {"check_id": check["check_id"], **resource}
            for resource in check["resources"][:PASSING_SAMPLES]
        ]
    assert first_passes([b"[]"]) == {}
