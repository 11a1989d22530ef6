"""The SDK's typed view of a report's accepted risks (``Report.accepted``, ``checks_accepted``)
and of a diff's ``accepted``, on documents the scanner makes: typed, and ``raw`` unchanged."""

from __future__ import annotations

import datetime as dt

from tests.server.insights.helpers import ACCEPTANCE, accepted_document, sample_document
from tutela.scanner.engine.diff import diff_reports
from tutela.sdk.models import AcceptedRisk, Report, ReportDiff


def test_a_reports_accepted_risks_are_typed_and_raw_is_the_body() -> None:
    document = accepted_document()

    report = Report.model_validate(document)

    [risk] = report.accepted
    assert isinstance(risk, AcceptedRisk)
    [entry] = document["accepted"]
    assert (risk.check_id, risk.resource_id, risk.severity) == (
        entry["check_id"],
        entry["resource_id"],
        "critical",
    )
    assert risk.acceptance.expires == dt.date(2099, 3, 31)
    assert (risk.acceptance.id, risk.acceptance.approver, risk.acceptance.ticket) == (
        ACCEPTANCE.id,
        ACCEPTANCE.approver,
        ACCEPTANCE.ticket,
    )
    assert risk.evidence
    assert risk.evidence[0].path == entry["evidence"][0]["path"]
    assert report.checks_accepted == 1
    assert {fw: s.checks_accepted for fw, s in report.framework_scores.items()} == {
        fw: s["checks_accepted"] for fw, s in document["framework_scores"].items()
    }
    assert report.raw["accepted"] == document["accepted"]


def test_a_report_without_accepted_risks_reads_as_none_and_raw_has_no_member() -> None:
    report = Report.model_validate(sample_document())

    assert (report.accepted, report.checks_accepted) == ([], 0)
    assert "accepted" not in report.raw
    assert "checks_accepted" not in report.raw
    assert all("checks_accepted" not in s for s in report.raw["framework_scores"].values())


def test_a_diffs_accepted_findings_are_typed() -> None:
    before, after = sample_document(), accepted_document()

    diff = ReportDiff.model_validate(diff_reports(before, after))

    assert diff.accepted
    assert not diff.resolved
    assert {f.check_id for f in diff.accepted} == {ACCEPTANCE.check_id}
