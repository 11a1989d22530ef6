"""GET /report/{id}/auditor-package: the evidence package of a report, as JSON and as a PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_unavailable
from tests.platform import Platform, TenantCtx
from tests.server.insights.helpers import (
    ACCEPTANCE,
    FRAMEWORKS,
    accepted_document,
    sample_document,
    stored,
)
from tutela.scanner.catalog import load_catalog
from tutela.scanner.catalog.checks import finding_control_id
from tutela.server.db import utcnow
from tutela.server.insights.auditor import catalogue_sha256, control_table, next_review
from tutela.server.insights.auditor_schemas import FindingSummary

SEED_FIELDS = {
    "assessment_scope",
    "methodology",
    "frameworks_coverage",
    "finding_summary",
    "attestation_statement",
    "assessor_note",
    "recommended_next_review",
}


def package(platform: Platform, tenant: TenantCtx, report_id: str) -> dict[str, Any]:
    response = platform.client.get(f"/report/{report_id}/auditor-package", headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


def test_the_package_of_the_sample_report(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    report_id = stored(platform, tenant, document=document)
    body = package(platform, tenant, report_id)

    assert set(body) == {"report_id", "plan", "generated_at", "auditor_package"}
    assert (body["report_id"], body["plan"]) == (report_id, "enterprise")
    pack = body["auditor_package"]
    assert set(pack) >= SEED_FIELDS
    assert pack["finding_summary"] == {
        s: document[f"{s}_count"] for s in ("critical", "high", "medium", "low")
    }
    assert document["critical_count"] > 0
    assert pack["recommended_next_review"] == (
        f"Within 30 days, given {document['critical_count']} critical findings"
    )
    scanned = dt.datetime.fromisoformat(document["scan_ts"].replace("Z", "+00:00"))
    assert (
        pack["recommended_next_review_by"] == (scanned + dt.timedelta(days=30)).date().isoformat()
    )
    assert "no data plane access" in pack["methodology"]
    assert f"{document['resources_scanned']} resources" in pack["assessment_scope"]
    assert "3 regulatory frameworks" in pack["assessment_scope"]
    assert pack["engine_version"] == document["engine_version"]
    assert f"engine version {document['engine_version']}" in pack["attestation_statement"]
    assert document["scan_ts"] in pack["attestation_statement"]
    assert "Tutela" in pack["attestation_statement"]
    assert pack["report_sha256"] in pack["attestation_statement"]
    assert pack["catalogue_sha256"] == catalogue_sha256()
    assert len(pack["catalogue_sha256"]) == 64

    catalog = load_catalog()
    assert [c["framework_id"] for c in pack["frameworks_coverage"]] == FRAMEWORKS
    for coverage in pack["frameworks_coverage"]:
        fw = coverage["framework_id"]
        spec = catalog.framework(fw)
        assert coverage["framework"] == spec.name
        assert spec.version in coverage["standard_reference"]
        assert spec.publisher in coverage["standard_reference"]
        scores = document["framework_scores"][fw]
        assert coverage["score"] == scores["score"]
        # Every control of the sample's frameworks is reached by a decided pair or by none;
        # the report's own counts agree when no control is reached by unknown pairs alone.
        assert coverage["gaps_found"] == scores["controls_with_gaps"]
        controls = catalog.controls_of(fw)
        assert controls is not None
        assert [r["reference"] for r in coverage["controls"]] == [c.id for c in controls.controls]
        statuses = [r["status"] for r in coverage["controls"]]
        assert coverage["controls_assessed"] == statuses.count("met") + statuses.count("gaps")
        assert coverage["controls_not_evidenced"] == statuses.count("not_evidenced")
        for row, spec_control in zip(coverage["controls"], controls.controls, strict=True):
            assert row["numbering"] == spec_control.numbering
            assert row["title"] == spec_control.title
    # The failing checks of a gap are the report's: ACR-ANON-PULL fails DORA Art. 9(4)(c).
    dora = next(c for c in pack["frameworks_coverage"] if c["framework_id"] == "dora")
    anon = [r for r in dora["controls"] if "ACR-ANON-PULL" in r["failing_checks"]]
    assert anon
    assert all(r["status"] == "gaps" for r in anon)
    # The top failing checks come from the findings, most serious first.
    top = pack["top_failing_checks"]
    assert top[0]["severity"] == "critical"
    failing = {f["check_id"] for f in document["findings"]}
    assert {c["check_id"] for c in top} <= failing


def test_report_sha256_is_of_the_bytes_the_report_endpoint_answers(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    report_id = stored(platform, tenant)
    answer = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
    assert answer.status_code == 200
    pack = package(platform, tenant, report_id)["auditor_package"]
    assert pack["report_sha256"] == hashlib.sha256(answer.content).hexdigest()


def test_control_statuses_from_a_hand_made_score_basis() -> None:
    catalog = load_catalog()
    controls = catalog.controls_of("dora")
    assert controls is not None
    ids = [finding_control_id(controls.control_prefix, c.id) for c in controls.controls]
    met, gap, unknown_only = ids[0], ids[1], ids[2]
    basis = [
        {"check_id": "A", "passed": 3, "failed": 0, "unknown": 0, "controls": {met: "supporting"}},
        {"check_id": "B", "passed": 1, "failed": 0, "unknown": 0, "controls": {met: "direct"}},
        {"check_id": "C", "passed": 2, "failed": 1, "unknown": 0, "controls": {gap: "direct"}},
        {"check_id": "D", "passed": 5, "failed": 0, "unknown": 0, "controls": {gap: "direct"}},
        {
            "check_id": "E",
            "passed": 0,
            "failed": 0,
            "unknown": 4,
            "controls": {unknown_only: "direct"},
        },
        {
            "check_id": "F",
            "passed": 1,
            "failed": 0,
            "unknown": 0,
            "controls": {"OTHER-X": "direct"},
        },
    ]
    rows = {r.control_id: r for r in control_table(catalog, "dora", basis)}
    assert len(rows) == len(ids)
    assert (rows[met].status, rows[met].checks_passed, rows[met].strongest_mapping) == (
        "met",
        4,
        "direct",
    )
    assert (rows[gap].status, rows[gap].checks_failed, rows[gap].failing_checks) == (
        "gaps",
        1,
        ["C"],
    )
    assert rows[gap].checks_passed == 7
    # Undecided pairs never evidence a control.
    assert rows[unknown_only].status == "not_evidenced"
    assert rows[unknown_only].checks_unknown == 4
    assert rows[unknown_only].strongest_mapping is None
    assert all(rows[i].status == "not_evidenced" for i in ids[3:])


@pytest.mark.parametrize(
    ("counts", "days"),
    [((1, 9, 9, 9), 30), ((0, 1, 9, 9), 60), ((0, 0, 9, 9), 90), ((0, 0, 0, 0), 90)],
)
def test_next_review_follows_the_worst_finding(counts: tuple[int, ...], days: int) -> None:
    summary = FindingSummary(
        **dict(zip(("critical", "high", "medium", "low"), counts, strict=True))
    )
    got_days, text = next_review(summary)
    assert got_days == days
    assert text.startswith(f"Within {days} days")


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        service_unavailable("pdftotext", "poppler-utils is not installed")
    path = tmp_path / "package.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode()


@pytest.mark.parametrize("ask", ["query", "accept"])
def test_the_pdf_holds_every_section_and_number(
    platform: Platform, tmp_path: Path, ask: str
) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    report_id = stored(platform, tenant, document=document)
    path = f"/report/{report_id}/auditor-package"
    if ask == "query":
        response = platform.client.get(f"{path}?format=pdf", headers=tenant.headers)
    else:
        response = platform.client.get(
            path, headers={**tenant.headers, "Accept": "application/pdf"}
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert report_id in response.headers["content-disposition"]
    text = _pdftotext(response.content, tmp_path)
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) >= 5  # cover, body, an appendix per framework
    assert "Auditor evidence package" in pages[0]
    for section in (
        "1. Assessment scope",
        "2. Methodology",
        "3. Framework coverage",
        "4. Findings by severity",
        "5. Accepted risks",
        "6. Attestation and next review",
        "Appendix: DORA control evidence",
    ):
        assert section in text, section
    json_pack = package(platform, tenant, report_id)["auditor_package"]
    assert json_pack["report_sha256"] in text
    printed = [p for p in pages if p.strip()]
    assert f"Page 1 of {len(printed)}" in pages[0]
    assert f"Page {len(printed)} of {len(printed)}" in printed[-1]
    counts = " ".join(str(document[f"{s}_count"]) for s in ("critical", "high", "medium", "low"))
    assert any(" ".join(line.split()) == counts for line in text.splitlines())
    assert json_pack["top_failing_checks"][0]["check_id"] in text
    assert "None: no failing check was accepted as a risk" in text
    assert "numbering unconfirmed" in text or not any(
        r["numbering"] == "unconfirmed"
        for c in json_pack["frameworks_coverage"]
        for r in c["controls"]
    )


def test_the_package_lists_each_accepted_risk_with_its_acceptance(
    platform: Platform, tmp_path: Path
) -> None:
    tenant = platform.tenant("enterprise")
    document = accepted_document()
    report_id = stored(platform, tenant, document=document)

    pack = package(platform, tenant, report_id)["auditor_package"]

    [entry] = document["accepted"]
    assert pack["checks_accepted"] == document["checks_accepted"] == 1
    assert pack["accepted_risks"] == [
        {key: entry[key] for key in pack["accepted_risks"][0] if key != "origin"}
    ]
    [risk] = pack["accepted_risks"]
    assert risk["acceptance"] == {
        "id": ACCEPTANCE.id,
        "resource": ACCEPTANCE.resource,
        "reason": ACCEPTANCE.reason,
        "approver": ACCEPTANCE.approver,
        "ticket": ACCEPTANCE.ticket,
        "expires": ACCEPTANCE.expires.isoformat(),
    }
    assert risk["evidence"] == entry["evidence"] != []
    assert "1 failing (check, resource) pair is accepted as a risk" in pack["assessor_note"]
    # Out of the counts: the summary is the report's, which does not count the pair.
    assert pack["finding_summary"]["critical"] == document["critical_count"]
    assert all(c["check_id"] != entry["check_id"] for c in pack["top_failing_checks"])

    pdf = platform.client.get(
        f"/report/{report_id}/auditor-package?format=pdf", headers=tenant.headers
    )
    assert pdf.status_code == 200, pdf.text
    text = " ".join(_pdftotext(pdf.content, tmp_path).split())
    section = text.split("5. Accepted risks", 1)[1].split("6. Attestation", 1)[0]
    assert "1 failing (check, resource) pair was accepted as a risk" in section
    for value in (entry["check_id"], entry["resource_name"], ACCEPTANCE.approver, ACCEPTANCE.id):
        assert value in section, (value, section)
    assert f"Ticket: {ACCEPTANCE.ticket}" in section
    assert f"Expires: {ACCEPTANCE.expires.isoformat()}" in section
    assert "pull-through cache" in section


def test_professional_is_refused_with_the_plan_named(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    report_id = stored(platform, tenant)
    response = platform.client.get(f"/report/{report_id}/auditor-package", headers=tenant.headers)
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "'enterprise' plan" in detail
    assert "'professional'" in detail
    discovery = platform.client.get(f"/report/{report_id}/enterprise", headers=tenant.headers)
    assert "auditor_package" not in discovery.json()["endpoints"]


def test_another_tenants_report_and_an_expired_one_are_not_found(platform: Platform) -> None:
    owner, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    report_id = stored(platform, owner)
    discovery = platform.client.get(f"/report/{report_id}/enterprise", headers=owner.headers)
    assert discovery.json()["endpoints"]["auditor_package"] == (
        f"/report/{report_id}/auditor-package"
    )
    response = platform.client.get(
        f"/report/{report_id}/auditor-package?format=pdf", headers=other.headers
    )
    assert response.status_code == 404
    assert report_id in response.json()["detail"]
    old = stored(platform, owner, scan_ts=utcnow() - dt.timedelta(days=400))
    response = platform.client.get(f"/report/{old}/auditor-package", headers=owner.headers)
    assert response.status_code == 404


def test_the_operation_documents_both_media_types_scopes_and_errors(platform: Platform) -> None:
    spec = platform.client.get("/openapi.json").json()
    operation = spec["paths"]["/report/{report_id}/auditor-package"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "application/pdf"}
    assert operation["x-required-scopes"] == ["report:read"]
    assert operation["x-minimum-plan"] == "enterprise"
    assert {"401", "403", "404", "500"} <= set(operation["responses"])
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["format"]
