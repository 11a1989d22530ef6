"""The diff of two stored reports is ``diff_reports``' document, written without either whole.

``diff_stream`` reads each stored report once, a slice at a time, and writes the answer from
sorted, compressed chunks: its bytes must be exactly what ``dumps(diff_reports(a, b))`` writes
for the decoded documents (identical, disjoint, severity changes, a key found twice, findings
that are not failures, findings the later report accepted), however the stored JSON is cut into
pieces.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import tracemalloc
from typing import Any

import orjson
import pytest

from tests.platform import Platform
from tests.server.reports.test_report_memory import (  # large_template: a fixture
    assessed,
    large_template,  # noqa: F401
)
from tests.server.reports.test_reports import a_document, diff, store
from tests.server.scans.estates import DEV, clean_records, offline_report, sample_records
from tutela.scanner.acceptance import Acceptance
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.diff import diff_reports
from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.report_json import inflate
from tutela.scanner.samples import load_sample_estate
from tutela.scanner.scan import run_scan
from tutela.server.reports.diff_stream import (
    READ_SLICE,
    ReportNotDiffable,
    StoredDiff,
    side_of_stored_report,
)
from tutela.server.reports.envelope import context, open_compressed, open_json
from tutela.server.reports.models import Report
from tutela.server.reports.service import MANUAL, store_report
from tutela.server.tenants.models import Tenant

EVERY = ["iso42001", "sr11_7", "eu_ai_act", "nist_ai_rmf", "mas_trm", "dora", "sox"]
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def streamed(a: dict[str, Any], b: dict[str, Any], piece: int = 997) -> bytes:
    """The stored diff of two documents stored as the API stores them (compact orjson)."""
    before = side_of_stored_report(pieces(dumps(a, indent=False), piece))
    after = side_of_stored_report(pieces(dumps(b, indent=False), piece), before)
    return b"".join(StoredDiff(before, after).chunks())


def expected(a: dict[str, Any], b: dict[str, Any]) -> bytes:
    """Today's answer: both documents decoded whole, diffed, encoded."""
    decoded = [orjson.loads(dumps(d, indent=False)) for d in (a, b)]
    return dumps(diff_reports(*decoded), indent=False)


@pytest.fixture(scope="module")
def dirty() -> dict[str, Any]:
    document = offline_report(sample_records(DEV), EVERY, NOW)
    document["report_id"] = "COMP-20261123-093000"
    return document


@pytest.fixture(scope="module")
def clean() -> dict[str, Any]:
    document = offline_report(clean_records(sample_records(DEV)), EVERY, NOW)
    document["report_id"] = "COMP-20261123-093000-2"
    return document


def with_severities_changed(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    for i, finding in enumerate(changed["findings"]):
        if i % 3 == 0:
            finding["severity"] = "low" if finding["severity"] != "low" else "critical"
    changed["aggregate_score"] = (document["aggregate_score"] or 0) + 7
    return changed


def test_the_streamed_diff_is_diff_reports_byte_for_byte(
    dirty: dict[str, Any], clean: dict[str, Any]
) -> None:
    assert len(dirty["findings"]) > 100
    disjoint = copy.deepcopy(clean)
    for finding in disjoint["findings"]:
        finding["resource"] = finding["resource"] + "/elsewhere"
    empty = {**clean, "findings": []}
    pairs = {
        "identical": (dirty, dirty),
        "fixed": (dirty, clean),
        "worse": (clean, dirty),
        "disjoint": (dirty, disjoint),
        "severity changes": (dirty, with_severities_changed(dirty)),
        "to nothing": (dirty, empty),
        "from nothing": (empty, dirty),
    }
    for name, (a, b) in pairs.items():
        answer = streamed(a, b)
        assert answer == expected(a, b), name
    changes = orjson.loads(streamed(dirty, with_severities_changed(dirty)))["severity_changes"]
    assert changes
    assert changes == sorted(changes, key=lambda c: (c["control_id"], c["check_id"], c["resource"]))
    for piece in (1, 64, 1 << 20):  # however the inflated report arrives
        assert streamed(dirty, clean, piece) == expected(dirty, clean)


def test_keys_found_twice_and_findings_not_failing_are_counted_as_diff_reports_does(
    dirty: dict[str, Any], clean: dict[str, Any]
) -> None:
    a = copy.deepcopy(dirty)
    twin = copy.deepcopy(a["findings"][5])  # the same key, its resource in another case
    twin["resource"] = twin["resource"].upper()
    twin["severity"], twin["title"] = "low", "the later twin, which counts"
    a["findings"].append(twin)
    a["findings"][7]["status"] = "pass"
    b = copy.deepcopy(dirty)
    b["findings"][9]["status"] = "unknown"
    b["findings"].insert(0, {**b["findings"][12], "control_id": 42, "evidence": [{"a": 1}]})
    del a["report_id"]  # absent members answer null, as ``.get`` does
    b["aggregate_score"] = None
    assert streamed(a, b) == expected(a, b)
    assert streamed(b, a) == expected(b, a)
    # The members after the findings count too (a report made elsewhere may order them so).
    moved = {key: value for key, value in dirty.items() if key != "report_id"}
    moved["report_id"] = "COMP-20261123-093000-9"
    assert streamed(moved, clean) == expected(moved, clean)


def with_accepted(document: dict[str, Any], every: int = 4) -> dict[str, Any]:
    """The document with every ``every``-th failing (check, resource) pair accepted: its
    findings gone from ``findings`` and listed in ``accepted``, as a scan lists them."""
    accepted = copy.deepcopy(document)
    pairs = sorted({(f["check_id"], f["resource"]) for f in document["findings"]})[::every]
    chosen = set(pairs)
    accepted["findings"] = [
        f for f in document["findings"] if (f["check_id"], f["resource"]) not in chosen
    ]
    accepted["accepted"] = [
        {
            "check_id": check,
            "severity": "high",
            "resource_id": resource.upper() if i % 2 else resource,  # ARM ids: without case
            "frameworks": ["iso42001"],
            "evidence": [{"path": "properties.x", "value": [{"a": 1}, {"control_id": "C"}]}],
            "acceptance": {"id": f"exc_{i}", "resource": resource, "reason": "a\nb"},
        }
        for i, (check, resource) in enumerate(pairs)
    ]
    return accepted


def test_findings_the_later_report_accepted_are_streamed_as_diff_reports_lists_them(
    dirty: dict[str, Any], clean: dict[str, Any]
) -> None:
    accepted = with_accepted(dirty)
    assert accepted["accepted"]
    assert len(accepted["findings"]) < len(dirty["findings"])
    pairs = {
        "accepted later": (dirty, accepted),
        "accepted, then failing again": (accepted, dirty),
        "accepted in both": (accepted, accepted),
        "accepted, then fixed": (accepted, clean),
        "accepted and changed in severity": (dirty, with_severities_changed(accepted)),
    }
    for name, (a, b) in pairs.items():
        assert streamed(a, b) == expected(a, b), name
    answer = orjson.loads(streamed(dirty, accepted))
    assert answer["accepted"]
    assert list(answer)[-1] == "accepted"
    listed = {(f["check_id"], f["resource"].lower()) for f in answer["accepted"]}
    assert listed == {(e["check_id"], e["resource_id"].lower()) for e in accepted["accepted"]}
    assert not listed & {(f["check_id"], f["resource"].lower()) for f in answer["resolved"]}
    for piece in (1, 64, 1 << 20):
        assert streamed(dirty, accepted, piece) == expected(dirty, accepted)
    # ``accepted`` before the findings (a report made elsewhere: there, evidence holding the
    # bytes of a findings array would be taken for it), and entries that are no pairs.
    first = {"accepted": accepted["accepted"], **accepted}
    assert next(iter(first)) == "accepted"
    odd = {**accepted, "accepted": [1, "x", None, *accepted["accepted"][:2], ["K", "/r"]]}
    for b in (first, odd, {**accepted, "accepted": "x"}, {**accepted, "accepted": None}):
        assert streamed(dirty, b) == expected(dirty, b)


def test_a_scan_with_acceptances_as_stored_is_streamed_as_diff_reports_lists_it() -> None:
    """Reports as a scan writes them (``ReportDocument.json``: ``accepted`` after the findings
    and ``unknown``), not re-encoded dicts."""
    catalog = load_catalog()
    estate = load_sample_estate()
    plain = run_scan(estate, EVERY, scan_ts=NOW, catalog=catalog, report_id="A")[1]
    findings = plain.to_dict()["findings"]
    acceptances = [
        Acceptance(
            check_id=f["check_id"],
            resource=f["resource"],
            reason="Accepted until the migration.",
            approver="ciso@bank.example",
            expires=NOW.date() + dt.timedelta(days=30),
        )
        for f in findings[::5]
    ]
    accepting = run_scan(
        estate, EVERY, scan_ts=NOW, catalog=catalog, acceptances=acceptances, report_id="B"
    )[1]
    stored = [plain.json(), accepting.json()]
    for a, b in (stored, stored[::-1]):
        before = side_of_stored_report(pieces(a, 1000))
        after = side_of_stored_report(pieces(b, 1000), before)
        answer = b"".join(StoredDiff(before, after).chunks())
        assert answer == dumps(diff_reports(orjson.loads(a), orjson.loads(b)), indent=False)
    answer = orjson.loads(b"".join(StoredDiff(*_sides(stored)).chunks()))
    assert answer["accepted"]
    assert answer["resolved"] == []
    assert answer["new_findings"] == []


def _sides(stored: list[bytes]) -> tuple[Any, Any]:
    before = side_of_stored_report([stored[0]])
    return before, side_of_stored_report([stored[1]], before)


def test_bytes_that_are_not_a_report_are_refused() -> None:
    for data in (b'{"report_id":"x"}', b'{"findings":[1,2]}', b'{"findings":[{"a":'):
        with pytest.raises(ReportNotDiffable):
            side_of_stored_report([data])


def test_post_and_get_answer_the_stored_diff_byte_for_byte(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    first = a_document(NOW)
    second = with_severities_changed(
        offline_report(clean_records(sample_records(DEV)), ["iso42001", "sr11_7"], NOW)
    )
    a = store(platform, tenant, NOW - dt.timedelta(minutes=5), document=first)
    b = store(platform, tenant, NOW - dt.timedelta(minutes=4), document=second)
    stored = {
        report_id: platform.client.get(f"/report/{report_id}", headers=tenant.headers).json()
        for report_id in (a, b)
    }

    posted = diff(platform, tenant, a, b)
    linked = platform.client.get(
        "/reports/diff", headers=tenant.headers, params={"report_a": a, "report_b": b}
    )

    want = dumps(diff_reports(stored[a], stored[b]), indent=False)
    assert posted.status_code == linked.status_code == 200, posted.text[:300]
    assert posted.headers["content-type"] == "application/json"
    assert "content-length" not in posted.headers  # written as it is sent
    assert posted.content == linked.content == want
    assert orjson.loads(want)["severity_changes"]


def test_post_answers_the_findings_the_later_report_accepted(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    first = a_document(NOW)
    a = store(platform, tenant, NOW - dt.timedelta(minutes=5), document=first)
    b = store(platform, tenant, NOW - dt.timedelta(minutes=4), document=with_accepted(first))
    stored = {
        report_id: platform.client.get(f"/report/{report_id}", headers=tenant.headers).json()
        for report_id in (a, b)
    }

    posted = diff(platform, tenant, a, b)

    assert posted.status_code == 200, posted.text[:300]
    assert posted.content == dumps(diff_reports(stored[a], stored[b]), indent=False)
    answer = posted.json()
    assert answer["accepted"]
    assert answer["resolved"] == []
    assert diff(platform, tenant, b, a).json()["new_findings"] == answer["accepted"]


def test_the_diff_of_two_large_stored_reports_is_never_whole_in_memory(
    platform: Platform,
    large_template: bytes,  # noqa: F811 (the fixture imported above)
) -> None:
    """Two reports of about 5,000 resources (60 MiB of JSON each), one scanned, the other that
    one with findings removed, added and changed in severity: the diff is read and written
    under half of one report's size (decoding them whole, as before, took 17 times it), and it
    is ``diff_reports``' document."""
    tenant = platform.tenant("enterprise")
    keys = platform.document_key()
    scanned = assessed(platform, tenant, large_template)
    with platform.db() as session:
        owner = session.get(Tenant, tenant.id)
        assert owner is not None
        first = store_report(
            session, keys, owner, scanned, report_type=MANUAL, label=None, scan_ts=NOW
        )
        a_json = opened(platform, first)
        later = orjson.loads(a_json)
        findings = later["findings"]
        for i, finding in enumerate(findings):
            if i % 7 == 0:
                finding["severity"] = "low" if finding["severity"] != "low" else "high"
        added = [{**f, "resource": f["resource"] + "/new"} for f in findings[::11]]
        later["findings"] = [f for i, f in enumerate(findings) if i % 10] + added
        second = store_report(
            session,
            keys,
            owner,
            later,
            report_type=MANUAL,
            label=None,
            scan_ts=NOW + dt.timedelta(days=1),
        )
        b_json = opened(platform, second)
        del later, findings, added
        rows = [(row.wrapped_key, row.body, bound(row)) for row in (first, second)]
    size = len(a_json)
    assert size > 60 * 2**20

    answered = hashlib.sha256()
    tracemalloc.start()
    try:
        before = side_of_stored_report(inflate(open_compressed(keys, *rows[0]), READ_SLICE))
        after = side_of_stored_report(inflate(open_compressed(keys, *rows[1]), READ_SLICE), before)
        for chunk in StoredDiff(before, after).chunks():
            answered.update(chunk)
        del before, after
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < size / 2, f"the diff peaked at {peak:,} bytes for {size:,}-byte reports"
    want = dumps(diff_reports(orjson.loads(a_json), orjson.loads(b_json)), indent=False)
    assert answered.digest() == hashlib.sha256(want).digest()
    counts = orjson.loads(want)
    assert counts["new_findings"]
    assert counts["resolved"]
    assert counts["unchanged"]
    assert counts["severity_changes"]


def bound(row: Report) -> bytes:
    return context("report", row.tenant_id, row.report_id)


def opened(platform: Platform, row: Report) -> bytes:
    return open_json(platform.document_key(), row.wrapped_key, row.body, bound(row))
