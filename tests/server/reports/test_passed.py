"""Passing evidence of a saved report: stored after it, served with ?include=passed only."""

from __future__ import annotations

import zlib
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from tests.platform import Platform, TenantCtx
from tests.server.reports.test_reports import a_document, store
from tests.server.scans.estates import link_sample_snapshot, scan
from tutela.server.db import utcnow
from tutela.server.reports.envelope import context, open_compressed
from tutela.server.reports.models import Report
from tutela.server.reports.passed import StoredBody, with_passed


def get(platform: Platform, tenant: TenantCtx, report_id: str, **params: str) -> httpx.Response:
    response: httpx.Response = platform.client.get(
        f"/report/{report_id}", headers=tenant.headers, params=params
    )
    return response


def scanned(platform: Platform, tenant: TenantCtx) -> dict[str, Any]:
    link_sample_snapshot(platform, tenant)
    return scan(platform, tenant, ["iso42001", "sr11_7", "dora"])


def pairs_passed(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["check_id"], r["resource"]) for c in report["passed"] for r in c["resources"]]


def test_a_scan_stores_every_pass_with_its_evidence(platform: Platform) -> None:
    tenant = platform.tenant()
    report = scanned(platform, tenant)
    assert "passed" not in report
    assert "passed_recorded" not in report

    response = get(platform, tenant, report["report_id"], include="passed")
    assert response.status_code == 200, response.text
    full = response.json()
    assert full["passed_recorded"] is True
    assert list(full)[-2:] == ["passed_recorded", "passed"]  # after every other member
    pairs = pairs_passed(full)
    # Exactly the passing (check, resource) pairs: as many as counted, each once, none failing.
    assert len(pairs) == len(set(pairs)) == full["checks_passed"] > 0
    failing = {(f["check_id"], f["resource"]) for f in full["findings"]}
    unknown = {(u["check_id"], u["resource"]) for u in full["unknown"]}
    assert not set(pairs) & (failing | unknown)
    per_check: dict[str, int] = {}
    for entry in full["score_basis"]:
        per_check[entry["check_id"]] = per_check.get(entry["check_id"], 0) + entry["passed"]
    assert {c["check_id"]: len(c["resources"]) for c in full["passed"]} == {
        check: count for check, count in per_check.items() if count
    }
    # Sorted by check id, then resource id; each pass shows the values it passed on.
    assert [c["check_id"] for c in full["passed"]] == sorted(c["check_id"] for c in full["passed"])
    for check in full["passed"]:
        ids = [r["resource"] for r in check["resources"]]
        assert ids == sorted(ids)
        for resource in check["resources"]:
            assert resource["evidence"], (check["check_id"], resource["resource"])
            assert all(set(e) == {"path", "value"} for e in resource["evidence"])
    # The rest of the document is the report as stored, byte for byte.
    plain = get(platform, tenant, report["report_id"])
    assert {k: v for k, v in full.items() if not k.startswith("passed")} == plain.json()


def test_a_pass_shows_the_setting_that_made_it_pass(platform: Platform) -> None:
    tenant = platform.tenant()
    report = scanned(platform, tenant)
    full = get(platform, tenant, report["report_id"], include="passed").json()
    (soft_delete,) = (c for c in full["passed"] if c["check_id"] == "KV-SOFT-DELETE")
    (vault,) = soft_delete["resources"]
    assert vault["resource"].endswith("/providers/Microsoft.KeyVault/vaults/kv-cbk-ai-dev")
    assert vault["evidence"] == [{"path": "properties.enableSoftDelete", "value": True}]


def test_the_default_body_is_unchanged(platform: Platform) -> None:
    tenant = platform.tenant()
    report = scanned(platform, tenant)
    body = get(platform, tenant, report["report_id"])
    assert body.status_code == 200
    assert "passed" not in body.json()
    assert "passed_recorded" not in body.json()
    # What GET answers by default is the report's own stream: the bytes /scan answered.
    assert body.json() == report
    compressed = _stored(platform, report["report_id"])
    assert orjson.loads(zlib.decompress(compressed)) == report  # readers stop at its end


def test_a_report_stored_before_passes_were_recorded(platform: Platform) -> None:
    tenant = platform.tenant()
    moment = utcnow()
    report_id = store(platform, tenant, moment, document=a_document(moment))
    response = get(platform, tenant, report_id, include="passed")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["passed_recorded"] is False
    assert body["passed"] is None
    assert body["checks_passed"] > 0  # passes were counted: null is "not recorded", not "none"
    assert get(platform, tenant, report_id).json() == {
        k: v for k, v in body.items() if not k.startswith("passed")
    }


@pytest.mark.parametrize("value", ["failed", "PASSED", "passed,findings", ""])
def test_an_unknown_include_is_a_422(platform: Platform, value: str) -> None:
    tenant = platform.tenant()
    report = scanned(platform, tenant)
    response = get(platform, tenant, report["report_id"], include=value)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "include"]
    assert error["msg"] == "Input should be 'passed'"
    assert value not in response.text or value == ""


def test_another_tenants_report_is_a_404_with_passes_too(platform: Platform) -> None:
    a, b = platform.tenant(), platform.tenant()
    report = scanned(platform, a)
    response = get(platform, b, report["report_id"], include="passed")
    assert response.status_code == 404
    assert "passed" not in response.text


def test_the_stored_body_is_the_report_then_its_passes() -> None:
    report = orjson.dumps({"report_id": "COMP-20261207-000000", "findings": []})
    passes = orjson.dumps([{"check_id": "C", "resources": [{"resource": "r", "evidence": []}]}])
    body = StoredBody(zlib.compress(report, 1) + zlib.compress(passes, 1))
    assert b"".join(body.report()) == report
    assert b"".join(body.passed() or []) == passes
    alone = StoredBody(zlib.compress(report, 1))
    assert b"".join(alone.report()) == report
    assert alone.passed() is None
    with pytest.raises(zlib.error):
        b"".join(with_passed(zlib.compress(report, 1)[:-4]))


def _stored(platform: Platform, report_id: str) -> bytes:
    """The report's body as stored, decrypted: still compressed."""
    with platform.db() as session:
        row = session.scalars(select(Report).where(Report.report_id == report_id)).one()
        return open_compressed(
            platform.document_key(),
            row.wrapped_key,
            row.body,
            context("report", row.tenant_id, row.report_id),
        )
