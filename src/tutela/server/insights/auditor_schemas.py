"""The auditor evidence package's body: the seed's field names exactly, and ours marked so."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from tutela.server.reports.schemas import AcceptanceOut, Evidence
from tutela.server.schemas import OutputModel

Strength = Literal["direct", "supporting", "by analogy"]
ControlStatus = Literal["met", "gaps", "not_evidenced"]


class PassingEvidence(OutputModel):
    """A resource that passed a check mapped to the control, and what it passed on (ours)."""

    check_id: str = Field(examples=["KV-SOFT-DELETE"])
    resource: str
    evidence: list[Evidence] = Field(description="Each a property path and the value seen.")


class ControlEvidence(OutputModel):
    """One control of a framework as this report evidences it (ours)."""

    control_id: str = Field(
        description="The control as findings show it.", examples=["DORA-ART-9-4-C"]
    )
    reference: str = Field(description="The framework's own identifier.", examples=["Art. 9(4)(c)"])
    title: str
    status: ControlStatus = Field(
        description="'gaps': a checked resource failed a mapped check; 'met': mapped checks were "
        "decided on some resource and none failed; 'not_evidenced': no decided check reached it."
    )
    checks_passed: int = Field(description="Passing (check, resource) pairs mapped to it.")
    checks_failed: int = Field(description="Failing (check, resource) pairs mapped to it.")
    checks_unknown: int = Field(description="Undecided pairs (inputs not visible); never a pass.")
    failing_checks: list[str] = Field(description="Checks with a failing pair, by check id.")
    strongest_mapping: Strength | None = Field(
        description="The strongest mapping among the decided checks; null when not evidenced."
    )
    numbering: Literal["confirmed", "unconfirmed"] = Field(
        description="'unconfirmed': the catalogue could not check the identifier against the "
        "framework's own text (numbering_note says why)."
    )
    numbering_note: str | None = None
    passing_evidence: list[PassingEvidence] = Field(
        default_factory=list,
        description="(ours) Up to 3 passing pairs of its checks (check id, then resource id "
        "order) with their evidence: why it is met. Empty when none passed or when the report "
        "was stored before passes were recorded (`passing_evidence_recorded`); all of them: "
        "GET /report/{id}?include=passed.",
    )


class FrameworkCoverage(OutputModel):
    framework: str = Field(description="The framework's name.", examples=["DORA"])
    standard_reference: str = Field(
        examples=[
            "DORA, Regulation (EU) 2022/2554 (European Parliament and Council of the EU, "
            "2022-12-27)"
        ]
    )
    controls_assessed: int = Field(description="Controls a decided check reached (met + gaps).")
    gaps_found: int = Field(description="Controls with a failing check.")
    framework_id: str = Field(description="(ours) The catalogue id.", examples=["dora"])
    score: int | None = Field(description="(ours) The framework's score in the report.")
    controls_in_catalogue: int = Field(description="(ours) Controls the catalogue maps.")
    controls_not_evidenced: int = Field(description="(ours) Controls no decided check reached.")
    controls: list[ControlEvidence] = Field(
        description="(ours) Control by control, catalogue order."
    )


class FindingSummary(OutputModel):
    critical: int
    high: int
    medium: int
    low: int


class FailingCheck(OutputModel):
    """A failing check of the report, for the findings section (ours)."""

    check_id: str
    title: str
    severity: Literal["critical", "high", "medium", "low"]
    resources: int = Field(description="Resources failing it.")
    frameworks: list[str] = Field(description="Framework ids whose controls it fails.")


class AcceptedRisk(OutputModel):
    """A failing (check, resource) pair accepted as a risk, with its acceptance (ours)."""

    check_id: str = Field(examples=["ACR-ANON-PULL"])
    title: str
    severity: Literal["critical", "high", "medium", "low"]
    resource_id: str
    resource_name: str
    resource_type: str
    frameworks: list[str] = Field(description="Framework ids whose controls it would fail.")
    evidence: list[Evidence] = Field(description="The values the check read and failed on.")
    acceptance: AcceptanceOut = Field(
        description="The approved risk exception: its id, the resource or glob it names, the "
        "reason, the approver, the ticket and the day it ends."
    )


class AuditorPackage(OutputModel):
    assessment_scope: str
    methodology: str
    frameworks_coverage: list[FrameworkCoverage]
    finding_summary: FindingSummary = Field(
        description="Findings by severity, as the report counts them (one per failing pair and "
        "control it counts for)."
    )
    attestation_statement: str
    assessor_note: str
    recommended_next_review: str = Field(
        description="30 days with a critical finding, 60 with a high one, 90 otherwise."
    )
    recommended_next_review_by: dt.date = Field(description="(ours) The scan date plus that.")
    top_failing_checks: list[FailingCheck] = Field(
        description="(ours) At most 10: by severity, then resources failing, then check id."
    )
    scan_ts: str = Field(description="(ours) When the estate was read.")
    source: str | None = Field(
        description="(ours) What was read: 'azure' (live), 'snapshot', 'terraform' (a plan), "
        "'arm' (a template); null for a report made without one."
    )
    subscriptions: list[str] = Field(description="(ours) Subscriptions scanned, when known.")
    resources_scanned: int = Field(description="(ours)")
    engine_version: str = Field(description="(ours) The Tutela engine that made the report.")
    catalogue_sha256: str = Field(
        description="(ours) SHA-256 of the shipped catalogue files served now (docs/insights.md)."
    )
    report_sha256: str = Field(
        description="(ours) SHA-256 of the report's JSON exactly as GET /report/{id} answers it."
    )
    passing_evidence_recorded: bool = Field(
        default=False,
        description="(ours) Whether the report kept its passes' evidence (reports stored before "
        "it was recorded did not: their controls' `passing_evidence` is then empty).",
    )
    checks_accepted: int = Field(
        default=0,
        description="(ours) Failing (check, resource) pairs accepted as risks by approved "
        "exceptions: excluded from `finding_summary`, the control statuses and the scores.",
    )
    accepted_risks: list[AcceptedRisk] = Field(
        default_factory=list,
        description="(ours) Each accepted pair with its acceptance, most severe first, then by "
        "check and resource id (the report's `accepted`); empty when none was accepted.",
    )


class AuditorPackageReport(OutputModel):
    report_id: str
    plan: str
    generated_at: dt.datetime
    auditor_package: AuditorPackage
