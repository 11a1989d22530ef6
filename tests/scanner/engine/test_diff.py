"""The diff of two reports when the later one accepted some of the earlier one's failures: they
still fail, so they are listed as accepted, never as resolved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.acceptance import Acceptance
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.diff import accepted_pairs, diff_reports
from tutela.scanner.samples import load_sample_estate
from tutela.scanner.scan import run_scan

SCAN_TS = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
MEMBERS = [
    "report_a",
    "report_b",
    "score_a",
    "score_b",
    "score_delta",
    "new_findings",
    "resolved",
    "unchanged",
    "severity_changes",
    "accepted",
]


def finding(control: str, check: str, resource: str, severity: str = "high") -> dict[str, Any]:
    return {
        "control_id": control,
        "check_id": check,
        "resource": resource,
        "severity": severity,
        "status": "fail",
    }


def entry(check: str, resource: str) -> dict[str, Any]:
    """An ``accepted`` entry as a report lists it (``outputs.report.accepted_entry``)."""
    return {
        "check_id": check,
        "severity": "high",
        "resource_id": resource,
        "evidence": [{"path": "properties.x", "value": True}],
        "acceptance": {
            "id": None,
            "resource": "/r/*",
            "reason": "sandbox",
            "approver": "ciso@bank.example",
            "ticket": None,
            "expires": "2027-03-31",
        },
    }


def test_a_finding_the_later_report_accepted_is_accepted_not_resolved() -> None:
    before = {
        "findings": [
            finding("C1", "K1", "/r/a"),
            finding("C2", "K1", "/r/a"),  # the same pair counts for two controls
            finding("C3", "K2", "/r/b"),
            finding("C4", "K3", "/r/c"),
        ]
    }
    after = {"findings": [finding("C4", "K3", "/r/c")], "accepted": [entry("K1", "/R/A")]}

    diff = diff_reports(before, after)

    assert list(diff) == MEMBERS  # accepted is the last member: the others keep their order
    assert [(f["control_id"], f["check_id"]) for f in diff["accepted"]] == [
        ("C1", "K1"),
        ("C2", "K1"),
    ]
    assert [f["control_id"] for f in diff["resolved"]] == ["C3"]
    assert [f["control_id"] for f in diff["unchanged"]] == ["C4"]


def test_accepted_is_always_present_and_an_ended_acceptance_is_a_new_finding() -> None:
    accepted_then = {"findings": [], "accepted": [entry("K1", "/r/a")]}
    failing_again = {"findings": [finding("C1", "K1", "/r/a")]}

    diff = diff_reports(accepted_then, failing_again)

    assert [f["check_id"] for f in diff["new_findings"]] == ["K1"]
    assert diff["accepted"] == diff["resolved"] == []
    assert diff_reports({}, {})["accepted"] == []
    # An acceptance of a pair the earlier report did not fail lists nothing.
    assert diff_reports({"findings": []}, accepted_then)["accepted"] == []
    # Accepted in both: not a finding of either.
    assert diff_reports(accepted_then, accepted_then)["accepted"] == []


def test_accepted_entries_that_are_not_pairs_accept_nothing() -> None:
    assert accepted_pairs({"accepted": None}) == frozenset()
    assert accepted_pairs({"accepted": "K1"}) == frozenset()
    assert accepted_pairs({"accepted": [1, "x", entry("K1", "/R/A")]}) == {("K1", "/r/a")}
    before = {"findings": [finding("C1", "K1", "/r/a")]}
    diff = diff_reports(before, {"findings": [], "accepted": [["K1", "/r/a"]]})
    assert [f["check_id"] for f in diff["resolved"]] == ["K1"]


def test_a_scan_with_an_acceptance_moves_its_findings_from_resolved_to_accepted() -> None:
    catalog = load_catalog()
    estate = load_sample_estate()
    plain = run_scan(estate, catalog.framework_ids, scan_ts=SCAN_TS, catalog=catalog)[1].to_dict()
    first = plain["findings"][0]
    check, resource = first["check_id"], first["resource"]
    acceptance = Acceptance(
        check_id=check,
        resource=resource.upper(),  # ARM ids compare without case
        reason="Accepted until the migration.",
        approver="ciso@bank.example",
        expires=SCAN_TS.date() + dt.timedelta(days=30),
    )
    with_acceptance = run_scan(
        estate, catalog.framework_ids, scan_ts=SCAN_TS, catalog=catalog, acceptances=[acceptance]
    )[1].to_dict()
    pair = [f for f in plain["findings"] if (f["check_id"], f["resource"]) == (check, resource)]
    assert with_acceptance["accepted"]

    diff = diff_reports(plain, with_acceptance)

    assert diff["resolved"] == []  # the same estate: nothing was fixed
    assert diff["accepted"] == sorted(
        pair, key=lambda f: (f["control_id"], f["check_id"], f["resource"].lower())
    )
    assert len(diff["unchanged"]) == len(plain["findings"]) - len(pair)
    back = diff_reports(with_acceptance, plain)  # the acceptance ended: they fail again
    assert back["new_findings"] == diff["accepted"]
    assert back["accepted"] == back["resolved"] == []
