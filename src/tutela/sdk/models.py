"""The API's response bodies as Pydantic models, tolerant of fields added by newer servers.

Every model keeps unknown fields (``extra="allow"``), so an older SDK loses nothing a newer
server sends; ``model_dump(mode="json", exclude_unset=True)`` gives back the body as received
(``Report.raw`` does exactly that, for the SARIF and JUnit writers of ``tutela.scanner.outputs``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

T = TypeVar("T")

ReportType = Literal["manual", "governance"]


class APIModel(BaseModel):
    """A response body: unknown fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow")

    @property
    def raw(self) -> dict[str, Any]:
        """The body as JSON-able data, with exactly the fields the server sent."""
        return self.model_dump(mode="json", exclude_unset=True)


class Page(APIModel, Generic[T]):
    """One page of a list; ``next_cursor`` is None on the last."""

    items: list[T]
    next_cursor: str | None = None


class Status(APIModel):
    status: str = "ok"


class Health(APIModel):
    status: str
    version: str


class Framework(APIModel):
    id: str
    name: str
    description: str = ""
    category: str = ""
    plans: list[str] = Field(default_factory=list)
    publisher: str | None = None
    version: str | None = None
    published: dt.date | None = None


class PlanFeatures(APIModel):
    drift_alerts: bool = False
    cmk: bool = False
    iac_export: bool = False
    scorecard: bool = False


class Plan(APIModel):
    id: str
    name: str
    scan_quota: int | None = None  # None: unlimited
    max_subscriptions: int | None = None  # None: unlimited
    max_resources_per_scan: int | None = None  # None: a server from before the limit
    frameworks: list[str] = Field(default_factory=list)
    history_days: int
    governance_cadence: str
    narratives_default: bool = False
    features: PlanFeatures = Field(default_factory=PlanFeatures)


class TenantMe(APIModel):
    tenant_id: str
    name: str
    purchaser_email: str
    plan_id: str
    status: str
    scan_count: int
    scan_limit: int | None = None
    subscription_limit: int | None = None
    azure_subscription_ids: list[str] = Field(default_factory=list)
    azure_credentials_set: bool = False
    governance_enabled: bool = False
    governance_cadence: str = "manual"
    report_history_days: int


class InventoryTagKeys(APIModel):
    """Tag names of the tenant's own for each inventory fact, tried before the checks' aliases."""

    model_owner: list[str] = Field(default_factory=list)
    risk_tier: list[str] = Field(default_factory=list)
    validation_date: list[str] = Field(default_factory=list)
    model_id: list[str] = Field(default_factory=list)


class HousePolicySettings(APIModel):
    """Model review periods, risk tiers and tag names the inventory checks apply (house policy)."""

    review_period_days: int
    review_period_days_by_tier: dict[str, int] = Field(default_factory=dict)
    risk_tiers: list[str] = Field(default_factory=list)
    inventory_tag_keys: InventoryTagKeys = Field(default_factory=InventoryTagKeys)


class HousePolicy(HousePolicySettings):
    """``GET /tenant/house-policy``: your settings, the defaults, and whether they differ.

    House policy, not a regulatory requirement: SR 26-2 sets no fixed revalidation period.
    """

    customised: bool = False
    updated_at: dt.datetime | None = None
    defaults: HousePolicySettings | None = None
    basis: str = ""


class CredentialsStored(APIModel):
    status: str = "ok"
    azure_credentials_set: bool = True
    set_at: dt.datetime


EncryptionMode = Literal["pmk", "cmk"]


class EncryptionEvent(APIModel):
    """One change of the tenant's encryption: CMK configured, a key rotation seen, back to PMK."""

    mode: EncryptionMode
    changed_at: dt.datetime
    changed_by: str
    previous_mode: EncryptionMode
    reason: str  # cmk_configure | cmk_rotate | pmk_confirm
    vault_uri: str | None = None
    key_name: str | None = None
    key_version: str | None = None


class EncryptionStatus(APIModel):
    """``GET /tenant/encryption``: customer-managed key (CMK) settings and health."""

    plan: str | None = None
    cmk_supported: bool
    cmk_configured: bool
    key_vault_url: str | None = None
    key_vault_secret_name: str | None = None
    key_vault_key_name: str | None = None
    cmk_key_version: str | None = None
    cmk_verified_at: dt.datetime | None = None
    cmk_blocked: bool = False
    cmk_last_error: str | None = None
    cmk_downgrade_pending: bool = False
    upgrade_required: bool = False


class EncryptionStatusExtended(EncryptionStatus):
    """``GET /tenant/encryption/status``: also the mode and its last 10 changes, newest first."""

    encryption_mode: EncryptionMode
    encryption_mode_history: list[EncryptionEvent] = Field(default_factory=list)


class CmkEnabled(APIModel):
    ok: bool = True
    message: str
    key_version: str
    cmk_verified_at: dt.datetime


class KeyRotation(APIModel):
    ok: bool = True
    rotated: bool
    old_version: str | None = None
    new_version: str
    cmk_verified_at: dt.datetime
    message: str


class PmkSwitchRequested(APIModel):
    ok: bool = True
    pending: bool = True
    email_sent: bool
    message: str


class PmkSwitchConfirmed(APIModel):
    ok: bool = True
    mode: EncryptionMode = "pmk"
    cmk_was_accessible: bool
    warning: str | None = None
    message: str


class Snapshot(APIModel):
    subscription_id: str
    resources: int
    size_bytes: int
    uploaded_at: dt.datetime


class Evidence(APIModel):
    path: str
    value: Any = None


class Finding(APIModel):
    control_id: str
    control_title: str = ""
    framework: str
    mapping: str = "direct"  # "direct", "supporting" or "by analogy"
    check_id: str = ""
    resource: str
    resource_name: str = ""
    resource_type: str = ""
    severity: str
    status: str
    title: str
    description: str = ""
    narrative: str | None = None
    remediation: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    origin: str | None = None
    # Why a general-purpose resource belongs to an AI workload; None for any other.
    ai_workload: str | None = None
    # True when the resource is deployed only if a template condition the scan could not decide
    # holds (absent otherwise): the finding stands for a resource that may not be deployed.
    conditional: bool | None = None


class FrameworkScore(APIModel):
    score: int | None = None
    checks_evaluated: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_unknown: int = 0
    checks_accepted: int = 0  # failing pairs of the framework accepted as risks
    controls_assessed: int = 0
    controls_with_gaps: int = 0


class UnknownResult(APIModel):
    """A check that could not be decided (evidence missing), per resource."""

    check_id: str
    title: str
    severity: str
    resource: str
    resource_type: str = ""
    frameworks: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    # True when the resource is deployed only if a template condition the scan could not decide
    # holds (absent otherwise): the finding stands for a resource that may not be deployed.
    conditional: bool | None = None


class Acceptance(APIModel):
    """The risk exception that accepted a pair, as it stood when the report was made."""

    id: str | None = None  # the server's exception id (``session.exceptions.get``); None offline
    resource: str  # the ARM id, or the glob over ids, the exception names
    reason: str
    approver: str
    ticket: str | None = None
    expires: dt.date  # the day the pair fails again


class AcceptedRisk(APIModel):
    """A failing (check, resource) pair accepted as a risk: listed, never counted."""

    check_id: str
    severity: str
    title: str
    resource_id: str
    resource_name: str = ""
    resource_type: str = ""
    frameworks: list[str] = Field(default_factory=list)
    origin: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    acceptance: Acceptance
    # True when the resource is deployed only if a template condition the scan could not decide
    # holds (absent otherwise): the finding stands for a resource that may not be deployed.
    conditional: bool | None = None


class ScoreBasis(APIModel):
    """One check's pairs that count for the same controls: what the scores were computed from."""

    check_id: str
    severity: str
    passed: int = 0
    failed: int = 0
    unknown: int = 0
    frameworks: dict[str, str] = Field(default_factory=dict)
    controls: dict[str, str] = Field(default_factory=dict)


class PassedResource(APIModel):
    """A resource that passed a check, with the values the check read and passed on."""

    resource: str
    evidence: list[Evidence] = Field(default_factory=list)
    # True when the resource is deployed only if a template condition the scan could not decide
    # holds (absent otherwise): the finding stands for a resource that may not be deployed.
    conditional: bool | None = None


class PassedCheck(APIModel):
    """A check's passing resources (``reports.get(..., include_passed=True)``)."""

    check_id: str
    resources: list[PassedResource] = Field(default_factory=list)


class NotEvaluated(APIModel):
    """Resources a scan never looked at, and why (docs/outputs.md, "Not evaluated")."""

    reason: str  # linked_template, template_expression, condition_false, plan_skipped, no_check
    type: str  # the lower-cased ARM type (the Terraform type for plan_skipped)
    count: int
    resources: list[str] = Field(default_factory=list)  # at most 20 of them; count keeps the rest
    detail: str = ""


class Report(APIModel):
    """A scan report; a dry run has no ``report_id`` and says ``dry_run: true``.

    ``passed_recorded`` and ``passed`` are there only when asked for (``include_passed``):
    ``passed_recorded`` False (and ``passed`` None) for a report stored before passes were kept.
    """

    report_id: str | None = None
    tenant_id: str | None = None
    scan_ts: dt.datetime
    scan_label: str | None = None
    frameworks: list[str]
    aggregate_score: int | None = None
    critical_count: int
    high_count: int
    medium_count: int
    low_count: int
    framework_scores: dict[str, FrameworkScore] = Field(default_factory=dict)
    resources_scanned: int = 0
    checks_evaluated: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_unknown: int = 0
    checks_accepted: int = 0  # failing pairs accepted as risks (``accepted``): never counted
    score_basis: list[ScoreBasis] = Field(default_factory=list)
    findings: list[Finding]
    unknown: list[UnknownResult] = Field(default_factory=list)
    # Each accepted pair with its acceptance, most severe first (absent from the JSON, and so
    # from ``raw``, when none was accepted).
    accepted: list[AcceptedRisk] = Field(default_factory=list)
    # What reading the input could not follow (a template construct, a skipped plan resource)
    # and what the scan never looked at; both absent from the JSON when empty.
    notes: list[str] = Field(default_factory=list)
    not_evaluated: list[NotEvaluated] = Field(default_factory=list)
    engine_version: str | None = None
    dry_run: bool | None = None
    subscriptions: list[str] | None = None
    source: str | None = None
    passed_recorded: bool | None = None
    passed: list[PassedCheck] | None = None


class ReportSummary(APIModel):
    """A saved report as listed by ``GET /reports`` (counts, no findings)."""

    report_id: str
    type: str
    label: str | None = None
    frameworks: list[str]
    aggregate_score: int | None = None
    critical_count: int
    high_count: int
    medium_count: int
    low_count: int
    resources_scanned: int = 0
    checks_unknown: int = 0
    scan_ts: dt.datetime


class ReportDeleted(APIModel):
    status: str = "ok"
    deleted: int
    report_id: str | None = None


class ReportDiff(APIModel):
    report_a: str | None = None
    report_b: str | None = None
    score_a: int | None = None
    score_b: int | None = None
    score_delta: int | None = None
    new_findings: list[Finding] = Field(default_factory=list)
    resolved: list[Finding] = Field(default_factory=list)
    unchanged: list[Finding] = Field(default_factory=list)
    severity_changes: list[dict[str, Any]] = Field(default_factory=list)
    # report_a's findings that report_b accepted (risk acceptance): still failing, not resolved
    accepted: list[Finding] = Field(default_factory=list)


class ScorecardGap(APIModel):
    gap: str
    business_impact: str
    severity: str  # CRITICAL | HIGH | MEDIUM | LOW


class Scorecard(APIModel):
    overall_rag: str  # RED | AMBER | GREEN
    overall_rag_reason: str
    framework_rag: dict[str, str] = Field(default_factory=dict)
    top_gaps: list[ScorecardGap] = Field(default_factory=list)
    trajectory: str  # IMPROVING | STABLE | DECLINING
    trajectory_note: str
    board_narrative: str
    accepted_risks: int = 0  # failing pairs accepted as risks: excluded from the score and RAG
    accepted_risks_note: str = ""


class ScorecardReport(APIModel):
    """``GET /report/{id}/scorecard``: the executive scorecard of a saved report (Enterprise)."""

    report_id: str
    plan: str
    generated_at: dt.datetime
    generated_by: str | None = None
    scorecard: Scorecard


class RoadmapAction(APIModel):
    action: str
    framework: str
    effort: str  # Low | Medium | High
    owner_role: str
    azure_steps: str
    finding_ref: str  # "<check_id>:<control_id>" of the action's first finding
    check_id: str = ""
    severity: str = ""
    remediation: str = ""
    frameworks: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)  # at most 50; resource_count has them all
    resource_count: int = 0
    score_gain: float | None = None  # null for a report stored without score_basis
    score_after: int | None = None


class Roadmap(APIModel):
    immediate: list[RoadmapAction] = Field(default_factory=list)  # 30 days: critical
    short_term: list[RoadmapAction] = Field(default_factory=list)  # 60 days: high
    strategic: list[RoadmapAction] = Field(default_factory=list)  # 90 days: medium and low
    summary_note: str
    aggregate_score: int | None = None


class RoadmapReport(APIModel):
    """``GET /report/{id}/roadmap``: the 30/60/90-day remediation roadmap (Enterprise)."""

    report_id: str
    plan: str
    generated_at: dt.datetime
    roadmap: Roadmap


class IacAvailability(APIModel):
    """``GET /report/{id}/iac``: whether remediation scripts exist for a report (Enterprise)."""

    report_id: str
    iac_available: bool
    finding_count: int
    formats: list[str] = Field(default_factory=list)


class ControlEvidence(APIModel):
    control_id: str
    reference: str
    title: str
    status: str  # met | gaps | not_evidenced
    checks_passed: int = 0
    checks_failed: int = 0
    checks_unknown: int = 0
    failing_checks: list[str] = Field(default_factory=list)
    strongest_mapping: str | None = None
    numbering: str = "confirmed"
    numbering_note: str | None = None


class FrameworkCoverage(APIModel):
    framework: str
    standard_reference: str
    controls_assessed: int
    gaps_found: int
    framework_id: str | None = None
    score: int | None = None
    controls_in_catalogue: int | None = None
    controls_not_evidenced: int | None = None
    controls: list[ControlEvidence] = Field(default_factory=list)


class FailingCheck(APIModel):
    check_id: str
    title: str
    severity: str
    resources: int
    frameworks: list[str] = Field(default_factory=list)


class AuditorPackage(APIModel):
    assessment_scope: str
    methodology: str
    frameworks_coverage: list[FrameworkCoverage] = Field(default_factory=list)
    finding_summary: dict[str, int] = Field(default_factory=dict)
    attestation_statement: str
    assessor_note: str
    recommended_next_review: str
    recommended_next_review_by: dt.date | None = None
    top_failing_checks: list[FailingCheck] = Field(default_factory=list)
    scan_ts: str | None = None
    source: str | None = None
    subscriptions: list[str] = Field(default_factory=list)
    resources_scanned: int | None = None
    engine_version: str | None = None
    catalogue_sha256: str | None = None
    report_sha256: str | None = None
    checks_accepted: int = 0
    accepted_risks: list[AcceptedRisk] = Field(default_factory=list)  # each with its acceptance


class AuditorPackageReport(APIModel):
    """``GET /report/{id}/auditor-package``: the auditor evidence package (Enterprise)."""

    report_id: str
    plan: str
    generated_at: dt.datetime
    auditor_package: AuditorPackage


Cadence = Literal["manual", "biweekly", "daily"]


class GovernanceHistoryEntry(APIModel):
    report_id: str
    score: int | None = None
    ts: dt.datetime


class GovernanceState(APIModel):
    """``GET /governance``: the schedule of continuous governance, drift and history."""

    governance_enabled: bool
    cadence: str
    plan_cadence: str | None = None
    allowed_cadences: list[str] = Field(default_factory=list)
    last_scan_ts: dt.datetime | None = None
    next_scan_ts: dt.datetime | None = None
    governance_score: int | None = None
    drift_detected: bool = False
    drift: dict[str, Any] | None = None
    last_error: dict[str, Any] | None = None
    history: list[GovernanceHistoryEntry] = Field(default_factory=list)


class ApiKey(APIModel):
    """One of your API keys; never its secret."""

    id: str
    name: str
    prefix: str
    # None for a key holding a scope the calling key lacks (which it may not rename or revoke).
    scopes: list[str] | None = None
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None = None
    never_used: bool = False


class MemberApiKey(ApiKey):
    """A key of any user of your tenant, as owners and admins see it (``keys.list_members``)."""

    user_id: str
    owner_email: str
    owner_role: str


UserStatus = Literal["active", "invited", "invitation expired"]
# The roles a person can be invited with or given; the owner comes with the tenant.
UserRole = Literal["admin", "member", "auditor"]


class TenantUser(APIModel):
    """A person of your tenant (``users.list``): never their password."""

    id: str
    email: str
    role: str
    status: UserStatus
    created_at: dt.datetime
    invitation_expires_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None


class Invitation(APIModel):
    """An invitation mailed (``invitation_sent``) to a person, with its link's expiry."""

    user: TenantUser
    invitation_expires_at: dt.datetime
    invitation_sent: bool


class ApiKeyCreated(ApiKey):
    """A new key: ``key.get_secret_value()`` is the secret, shown this once."""

    key: SecretStr


class ApiKeyRevoked(APIModel):
    status: str = "ok"
    revoked: str


class WhoAmI(APIModel):
    """The calling key: its scopes, expiry, owner, tenant and plan."""

    key_id: str
    prefix: str
    scopes: list[str]
    expires_at: dt.datetime
    user_email: str
    role: str
    tenant_id: str | None = None
    plan: str | None = None


class ScopeInfo(APIModel):
    scope: str
    description: str = ""
