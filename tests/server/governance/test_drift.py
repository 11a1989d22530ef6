"""Drift between two governance reports: new serious findings, raised severities, score drops,
and findings accepted (still failing, so not resolved)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec
import orjson
import pytest

from tutela.scanner.acceptance import Acceptance
from tutela.scanner.catalog import load_catalog
from tutela.scanner.narrative.deterministic import DeterministicNarrator
from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.report_json import ReportDocument
from tutela.scanner.samples import load_sample_estate
from tutela.scanner.scan import run_scan
from tutela.server.governance.drift import (
    detect_drift,
    drift_between,
    drift_email,
    side_of_document,
    side_of_report,
    side_of_stored,
)


def finding(check: str, severity: str, resource: str = "/subscriptions/s/r/a") -> dict[str, Any]:
    return {
        "control_id": f"ISO42001-{check}",
        "check_id": check,
        "resource": resource,
        "severity": severity,
        "status": "fail",
        "title": f"{check} fails",
    }


def report(report_id: str, score: int, *findings: dict[str, Any]) -> dict[str, Any]:
    return {"report_id": report_id, "aggregate_score": score, "findings": list(findings)}


def test_a_new_critical_or_high_finding_is_drift() -> None:
    before = report("A", 80, finding("X", "medium"))
    after = report("B", 80, finding("X", "medium"), finding("Y", "high"))
    drift = detect_drift(before, after, score_drop=5)
    assert drift["detected"] is True
    assert (drift["new_findings"], drift["new_critical_or_high"]) == (1, 1)
    assert drift["examples"] == [
        {
            "severity": "high",
            "control_id": "ISO42001-Y",
            "check_id": "Y",
            "title": "Y fails",
            "resource": "/subscriptions/s/r/a",
        }
    ]


def test_new_medium_or_low_findings_alone_are_not_drift() -> None:
    before = report("A", 80)
    after = report("B", 78, finding("X", "medium"), finding("Z", "low"))
    drift = detect_drift(before, after, score_drop=5)
    assert (drift["detected"], drift["new_findings"], drift["score_delta"]) == (False, 2, -2)


def test_a_finding_raised_to_high_is_drift_lowered_is_not() -> None:
    raised = detect_drift(
        report("A", 80, finding("X", "medium")), report("B", 80, finding("X", "high")), 5
    )
    assert (raised["detected"], raised["raised_to_critical_or_high"]) == (True, 1)
    lowered = detect_drift(
        report("A", 80, finding("X", "critical")), report("B", 80, finding("X", "high")), 5
    )
    assert (lowered["detected"], lowered["raised_to_critical_or_high"]) == (False, 0)


def test_a_score_drop_of_the_threshold_or_more_is_drift() -> None:
    assert detect_drift(report("A", 80), report("B", 75), score_drop=5)["detected"] is True
    assert detect_drift(report("A", 80), report("B", 76), score_drop=5)["detected"] is False
    assert detect_drift(report("A", 80), report("B", 90), score_drop=5)["detected"] is False
    assert detect_drift(report("A", 80), report("B", 10), score_drop=0)["detected"] is False


def test_the_alert_names_the_changes_and_links_the_diff() -> None:
    findings = [finding(f"C{n:02}", "critical", f"/subscriptions/s/r/{n}") for n in range(25)]
    drift = detect_drift(report("COMP-1", 90), report("COMP-2", 60, *findings), score_drop=5)
    email = drift_email("owner@bank.example", "Contoso\r\nBcc: x@evil.example", drift, "https://t")
    assert email.recipients == ("owner@bank.example",)
    assert email.subject == (
        "Tutela: compliance drift in Contoso Bcc: x@evil.example (score 90 → 60 (-30 points))"
    )
    assert "New critical or high findings: 25" in email.text
    assert email.text.count("[critical]") == 20
    assert "… and 5 more." in email.text
    assert "https://t/reports/diff?report_a=COMP-1&report_b=COMP-2" in email.text
    assert "https://t/report/COMP-2" in email.text


def accepted_entry(check: str, resource: str) -> dict[str, Any]:
    return {"check_id": check, "resource_id": resource, "acceptance": {"reason": "sandbox"}}


def test_a_finding_accepted_since_is_counted_accepted_not_resolved() -> None:
    before = report(
        "A", 80, finding("X", "high"), finding("Y", "medium"), finding("Z", "low", "/r/z")
    )
    after = report("B", 84, finding("Y", "medium"))
    after["accepted"] = [accepted_entry("X", "/SUBSCRIPTIONS/S/R/A")]  # (ids without case)
    drift = detect_drift(before, after, score_drop=5)
    assert (drift["resolved"], drift["accepted"], drift["detected"]) == (1, 1, False)
    # The acceptance ended: the pair fails again, a new finding.
    back = detect_drift(after, before, score_drop=5)
    assert (back["new_findings"], back["new_critical_or_high"], back["accepted"]) == (2, 1, 0)


def test_the_alert_counts_accepted_findings_when_there_are_any() -> None:
    serious = finding("C", "critical", "/r/c")
    before = report("COMP-1", 90, finding("X", "high"), finding("Y", "high", "/r/y"))
    after = report("COMP-2", 90, serious)
    drift = detect_drift(before, after, 5)
    assert "Findings accepted" not in drift_email("o@bank.example", "Contoso", drift, "u").text
    after["accepted"] = [accepted_entry("X", "/subscriptions/s/r/a")]
    drift = detect_drift(before, after, 5)
    text = drift_email("o@bank.example", "Contoso", drift, "u").text
    assert "Findings resolved: 1\nFindings accepted: 1\n" in text


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    """The JSON as ``inflate`` hands it over, a piece at a time."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def sample_document(**header: Any) -> ReportDocument:
    catalog = load_catalog()
    ts = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    return run_scan(
        load_sample_estate(), catalog.framework_ids, scan_ts=ts,
        narrator=DeterministicNarrator(catalog), catalog=catalog, **header,
    )[1]  # fmt: skip


@pytest.mark.parametrize("size", [997, 1 << 16, 1 << 30])
def test_drift_reads_each_side_unbuilt_and_finds_the_same(size: int) -> None:
    document = sample_document(report_id="B")
    whole = document.to_dict()
    # An earlier report missing the critical findings, its score higher, stored as JSON.
    earlier = {**whole, "report_id": "A", "aggregate_score": whole["aggregate_score"] + 9}
    earlier["findings"] = [f for f in whole["findings"] if f["severity"] != "critical"]
    stored = side_of_stored(
        pieces(dumps(earlier, indent=False), size), "A", earlier["aggregate_score"]
    )
    current = side_of_document(document)  # from the assessment: nothing encoded
    assert current.severities == side_of_report(whole).severities
    assert stored.severities == side_of_report(earlier).severities
    expected = detect_drift(earlier, whole, 5)
    assert drift_between(stored, current, 5) == expected
    assert expected["new_critical_or_high"] > 0
    assert expected["examples"]
    # And the other way round: what the later report resolved.
    back = drift_between(
        side_of_stored(pieces(dumps(whole, indent=False), size), "B", whole["aggregate_score"]),
        side_of_report(earlier),
        5,
    )
    assert {k: v for k, v in back.items() if k != "examples"} == {
        k: v for k, v in detect_drift(whole, earlier, 5).items() if k != "examples"
    }


@pytest.mark.parametrize("size", [997, 1 << 30])
def test_drift_reads_what_a_scan_accepted_from_each_side_as_from_the_report(size: int) -> None:
    plain = sample_document(report_id="A")
    findings = plain.to_dict()["findings"]
    acceptances = [
        Acceptance(
            check_id=f["check_id"],
            resource=f["resource"],
            reason="Accepted until the migration.",
            approver="ciso@bank.example",
            expires=dt.date(2027, 1, 31),
        )
        for f in findings[::4]
    ]
    accepting = sample_document(report_id="B", acceptances=acceptances)
    whole = accepting.to_dict()
    assert whole["accepted"]
    stored = side_of_stored(pieces(accepting.json(), size), "B", whole["aggregate_score"])
    current = side_of_document(accepting)
    assert stored.accepted == current.accepted == side_of_report(whole).accepted
    assert len(current.accepted) == len({(f["check_id"], f["resource"]) for f in findings[::4]})

    drift = drift_between(side_of_document(plain), current, 5)

    assert drift == detect_drift(plain.to_dict(), whole, 5)
    assert drift["resolved"] == 0  # the same estate: nothing was fixed
    accepted = {(a["check_id"], a["resource_id"]) for a in whole["accepted"]}
    assert drift["accepted"] == sum(
        1 for f in findings if (f["check_id"], f["resource"]) in accepted
    )


def test_a_stored_finding_whose_evidence_looks_like_the_next_finding_is_read_whole() -> None:
    lookalike = {
        "path": "properties.x",
        "value": [{"a": 1}, {"control_id": "C-9", "status": "fail"}],
    }
    first = {**finding("X", "high"), "evidence": [lookalike]}
    stored = dumps(report("A", 80, first, finding("Y", "low")), indent=False)
    assert stored.count(b'},{"control_id":') == 2  # one between the findings, one inside
    for size in (7, 64, len(stored)):
        side = side_of_stored(pieces(stored, size), "A", 80)
        assert side.severities == side_of_report(orjson.loads(stored)).severities
        assert len(side.severities) == 2


def test_what_is_not_a_stored_report_does_not_decode() -> None:
    for data in (b"", b'{"report_id": "A"}', b'{"findings":[{"control_id":'):
        with pytest.raises(msgspec.DecodeError):
            side_of_stored(pieces(data, 5), "A", 80)
