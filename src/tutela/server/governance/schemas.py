"""GET/PUT /governance and DELETE /governance/history bodies (the seed's shapes, plus ours)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from tutela.server.reports.ids import REPORT_ID_PATTERN
from tutela.server.schemas import InputModel, OutputModel, Timestamp

CadenceName = Literal["manual", "biweekly", "daily"]


class HistoryEntry(OutputModel):
    report_id: str = Field(examples=["COMP-20261123-060012"])
    score: int | None
    ts: Timestamp


class DriftFinding(OutputModel):
    severity: str
    control_id: str
    check_id: str
    title: str
    resource: str


class DriftOut(OutputModel):
    """What changed in the last governance scan from the one before it."""

    detected: bool
    previous_report_id: str | None
    report_id: str | None
    score_before: int | None
    score_after: int | None
    score_delta: int | None
    new_findings: int
    new_critical_or_high: int
    raised_to_critical_or_high: int
    resolved: int
    accepted: int = Field(
        default=0,  # (drift stored before acceptances existed has no count)
        description="Findings of the previous scan accepted as a risk in this one: still "
        "failing, so not resolved.",
    )
    examples: list[DriftFinding]


class LastError(OutputModel):
    detail: str
    ts: Timestamp | None
    failures: int = Field(description="Failed attempts since the last successful scan.")


class GovernanceOut(OutputModel):
    governance_enabled: bool = Field(description="Whether scans run automatically.")
    cadence: CadenceName = Field(description="The cadence in effect.")
    plan_cadence: CadenceName = Field(description="The most frequent cadence the plan allows.")
    allowed_cadences: list[CadenceName]
    last_scan_ts: Timestamp | None
    next_scan_ts: Timestamp | None
    governance_score: int | None
    drift_detected: bool
    drift: DriftOut | None
    last_error: LastError | None
    history: list[HistoryEntry] = Field(description="Governance reports, newest first.")


class GovernanceUpdate(InputModel):
    governance_enabled: bool | None = Field(
        default=None, description="false pauses automatic scans; true resumes them."
    )
    cadence: CadenceName | None = Field(
        default=None, description="At most as frequent as the plan allows."
    )


class HistoryDelete(InputModel):
    """Which governance reports to delete: one named report, or, said explicitly, all of them."""

    selective: StrictBool | None = Field(
        default=None,
        description="true (implied by report_id): delete only report_id. false, with no "
        "report_id: delete the whole governance history; the only way to ask for that.",
    )
    report_id: str | None = Field(
        default=None,
        pattern=REPORT_ID_PATTERN,
        description="The one report to delete; if it is not a governance report of yours, 404 "
        "and nothing is deleted.",
    )


class HistoryDeleted(OutputModel):
    status: Literal["ok"] = "ok"
    deleted: int
    report_id: str | None = Field(default=None, exclude_if=lambda v: v is None)
