"""Report bodies: the seed's report shape (plus Tutela's coverage fields), listings, diffs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from tutela.server.reports.ids import REPORT_ID_DESCRIPTION, REPORT_ID_EXAMPLE, REPORT_ID_PATTERN
from tutela.server.schemas import InputModel, OutputModel, Timestamp

ReportId = Field(
    pattern=REPORT_ID_PATTERN, examples=[REPORT_ID_EXAMPLE], description=REPORT_ID_DESCRIPTION
)


Conditional = Field(
    default=None,
    exclude_if=lambda v: v is None,
    description="(ours) true when an ARM template deploys the resource only under a condition "
    "the scan could not decide offline (its own, a parent's or a nested deployment's): it was "
    "assessed as if deployed. Absent otherwise.",
)


class Evidence(OutputModel):
    path: str
    value: Any


class FindingOut(OutputModel):
    control_id: str = Field(examples=["ISO42001-A.6.2.8"])
    control_title: str
    framework: str
    mapping: Literal["direct", "supporting", "by analogy"] = Field(
        description="How strongly the check evidences the control: direct (an examiner would "
        "accept it as evidence), supporting (it contributes but does not by itself evidence the "
        "control; scores count it at half weight) or by analogy (SR 26-2 for generative AI; half "
        "weight)."
    )
    check_id: str = Field(examples=["AOAI-DIAG-LOGS"])
    resource: str
    resource_name: str
    resource_type: str
    severity: Literal["critical", "high", "medium", "low"]
    status: Literal["fail"]
    title: str
    description: str
    narrative: str | None
    remediation: str
    evidence: list[Evidence]
    origin: str | None = None
    ai_workload: str | None = Field(
        default=None,
        examples=["default storage account of Azure ML workspace 'mlw-risk-prod'"],
        description="Why a general-purpose resource (storage account, key vault, registry, "
        "cluster, subscription-wide setting) belongs to an AI workload, which makes it count for "
        "the AI frameworks; null for AI resources and for resources outside any AI workload.",
    )
    conditional: bool | None = Conditional


class FrameworkScoreOut(OutputModel):
    score: int | None
    checks_evaluated: int
    checks_passed: int
    checks_failed: int
    checks_unknown: int
    checks_accepted: int | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="(ours) Failing pairs of this framework accepted as risks; only in a report "
        "that accepted some.",
    )
    controls_assessed: int
    controls_with_gaps: int


class ScoreBasisOut(OutputModel):
    """One check's pairs that count for the same controls, as the scores were computed from."""

    check_id: str = Field(examples=["STG-MIN-TLS"])
    severity: Literal["critical", "high", "medium", "low"]
    passed: int
    failed: int
    unknown: int
    frameworks: dict[str, Literal["direct", "supporting", "by analogy"]] = Field(
        description="Framework → the strongest mapping of these pairs to its controls."
    )
    controls: dict[str, Literal["direct", "supporting", "by analogy"]] = Field(
        description="Control id (as findings show it) → the mapping of these pairs to it."
    )


class UnknownResultOut(OutputModel):
    check_id: str
    title: str
    severity: str
    resource: str
    resource_type: str
    frameworks: list[str]
    evidence: list[Evidence]
    conditional: bool | None = Conditional


class AcceptanceOut(OutputModel):
    """The risk exception that accepted a pair, as it stood when the report was made."""

    id: str | None = Field(description="The exception's id (GET /exceptions/{exception_id}).")
    resource: str = Field(description="The ARM id or glob the exception names.")
    reason: str
    approver: str
    ticket: str | None
    expires: str = Field(
        examples=["2027-03-31"], description="The day the pair fails again (YYYY-MM-DD)."
    )


class AcceptedResultOut(OutputModel):
    """A failing (check, resource) pair accepted as a risk: listed, never counted."""

    check_id: str = Field(examples=["ACR-ANON-PULL"])
    severity: Literal["critical", "high", "medium", "low"]
    title: str
    resource_id: str
    resource_name: str
    resource_type: str
    frameworks: list[str]
    origin: str | None = None
    evidence: list[Evidence]
    acceptance: AcceptanceOut
    conditional: bool | None = Conditional


class PassedResourceOut(OutputModel):
    resource: str
    evidence: list[Evidence] = Field(
        description="The values the check read and passed on, each a path and the value seen."
    )
    conditional: bool | None = Conditional


class PassedCheckOut(OutputModel):
    """A check's passing resources: why the controls it counts for (``score_basis``) are met."""

    check_id: str = Field(examples=["STG-MIN-TLS"])
    resources: list[PassedResourceOut]


class NotEvaluatedOut(OutputModel):
    """Resources the scan never looked at, and why (docs/outputs.md)."""

    reason: Literal[
        "linked_template", "template_expression", "condition_false", "plan_skipped", "no_check"
    ] = Field(
        description="linked_template: a template's nested deployment with a templateLink (not "
        "read); template_expression: a nested template given as an expression; condition_false: "
        "a template's declaration not deployed with the parameters given; plan_skipped: a "
        "Terraform plan's resources of a type the scan does not map; no_check: resources no check "
        "of the scan applies to."
    )
    type: str = Field(
        examples=["microsoft.network/virtualnetworks"],
        description="The lower-cased ARM type (the Terraform type for plan_skipped).",
    )
    count: int = Field(description="How many resources, all of them.")
    resources: list[str] = Field(
        description="At most 20: resource ids for no_check, else where each is declared "
        "(`body: resources[4]`, `body: azurerm_subnet.a`)."
    )
    detail: str = Field(
        examples=["linked template https://example.org/net.json: its resources are not evaluated"]
    )


class ReportOut(OutputModel):
    """A scan report. ``report_id`` is absent from a dry run, which says ``dry_run: true``."""

    report_id: str | None = Field(
        default=None, exclude_if=lambda v: v is None, description=REPORT_ID_DESCRIPTION
    )
    tenant_id: str | None
    scan_ts: str = Field(examples=["2026-11-23T09:30:05Z"])
    scan_label: str | None = None
    frameworks: list[str]
    aggregate_score: int | None
    critical_count: int
    high_count: int
    medium_count: int
    low_count: int
    framework_scores: dict[str, FrameworkScoreOut]
    resources_scanned: int
    checks_evaluated: int
    checks_passed: int
    checks_failed: int
    checks_unknown: int
    checks_accepted: int | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="(ours) Failing pairs accepted as risks (`accepted`), out of every other "
        "count, the scores and the gate; only in a report that accepted some.",
    )
    score_basis: list[ScoreBasisOut] = Field(
        default_factory=list,
        description=(
            "(ours) What the scores were computed from, per check and set of controls: passed, "
            "failed and unknown pairs and each mapping; re-scoring a report needs nothing else."
        ),
    )
    findings: list[FindingOut]
    unknown: list[UnknownResultOut]
    accepted: list[AcceptedResultOut] | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="(ours) The failing pairs that your approved risk exceptions accepted on the "
        "scan's date, each with its exception (docs/risk-acceptance.md); only in a report that "
        "accepted some.",
    )
    notes: list[str] | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="(ours) What reading the input left out, a line each, e.g. a template's "
        "nested template whose resources are an expression, or a Terraform plan's resources "
        "of types the scan does not map; only in a report whose input had some.",
        examples=[
            ["nested template at resources[3] is an expression: its resources are not evaluated"]
        ],
    )
    not_evaluated: list[NotEvaluatedOut] | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="(ours) What the scan never looked at: linked templates, nested templates "
        "given as expressions, a plan's resources of types not mapped, and resources of types no "
        "check of the scan applies to; only in a report that has some (docs/outputs.md).",
    )
    engine_version: str
    dry_run: bool | None = None
    subscriptions: list[str] | None = None
    source: str | None = None
    passed_recorded: bool | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="(ours) Only with `?include=passed`: whether the report's passes were "
        "recorded when it was stored. false for a report stored before they were: `passed` is "
        "then null, which says nothing about what passed.",
    )
    passed: list[PassedCheckOut] | None = Field(
        default=None,
        description="(ours) Only with `?include=passed`: every (check, resource) pair that "
        "passed, by check id then resource id, with the evidence it passed on. `findings` stays "
        "failures only. Per check, not per control: `score_basis` gives each check's controls.",
    )


class ReportSummary(OutputModel):
    report_id: str = Field(description=REPORT_ID_DESCRIPTION)
    type: Literal["manual", "governance"]
    label: str | None
    frameworks: list[str]
    aggregate_score: int | None
    critical_count: int
    high_count: int
    medium_count: int
    low_count: int
    resources_scanned: int
    checks_unknown: int
    scan_ts: Timestamp = Field(description="As in the report: UTC, to the second.")


class ReportPage(OutputModel):
    items: list[ReportSummary]
    next_cursor: str | None = None


class ReportDeleted(OutputModel):
    status: Literal["ok"] = "ok"
    deleted: int
    report_id: str | None = Field(default=None, exclude_if=lambda v: v is None)  # one report


class ManualReportsDelete(InputModel):
    """An optional body of DELETE /reports; without a body every manual report goes (the seed)."""

    selective: StrictBool | None = Field(
        default=None,
        description="true (implied by report_id): delete only report_id. false, with no "
        "report_id: every manual report, as a bodiless call does.",
    )
    report_id: str | None = Field(
        default=None,
        pattern=REPORT_ID_PATTERN,
        description="The one manual report to delete; if it is not there, 404 and nothing is "
        "deleted.",
    )


class DiffRequest(InputModel):
    report_a: str = ReportId
    report_b: str = ReportId


class ReportDiff(OutputModel):
    report_a: str | None
    report_b: str | None
    score_a: int | None
    score_b: int | None
    score_delta: int | None
    new_findings: list[FindingOut]
    resolved: list[FindingOut]
    unchanged: list[FindingOut]
    severity_changes: list[dict[str, Any]]
    accepted: list[FindingOut] = Field(
        description="The failing findings of report_a that report_b accepted (a risk "
        "acceptance names their check and resource): still failing, so not resolved. Sorted "
        "as the other lists."
    )
