"""The typed API groups of ``Session``: each method names one operation of ``_operations``."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Literal, overload

from pydantic import SecretStr

from tutela.sdk import _operations as op
from tutela.sdk.models import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyRevoked,
    AuditorPackageReport,
    Cadence,
    CmkEnabled,
    CredentialsStored,
    EncryptionStatus,
    EncryptionStatusExtended,
    Framework,
    GovernanceState,
    HousePolicy,
    IacAvailability,
    Invitation,
    KeyRotation,
    MemberApiKey,
    Plan,
    PmkSwitchConfirmed,
    PmkSwitchRequested,
    Report,
    ReportDeleted,
    ReportDiff,
    ReportSummary,
    ReportType,
    RoadmapReport,
    ScorecardReport,
    Snapshot,
    Status,
    TenantMe,
    TenantUser,
    UserRole,
    WhoAmI,
)

if TYPE_CHECKING:
    from tutela.sdk._session import Session


class _Resource:
    def __init__(self, session: Session) -> None:
        self._session = session


class Frameworks(_Resource):
    def list(self) -> builtins.list[Framework]:
        """The compliance frameworks and the plans that may scan each."""
        return self._session._run(op.list_frameworks())


class Plans(_Resource):
    def list(self) -> builtins.list[Plan]:
        """The plans: quotas, frameworks, history window, features."""
        return self._session._run(op.list_plans())


class Tenant(_Resource):
    def me(self) -> TenantMe:
        """Your tenant: plan, quota use, linked subscriptions, governance."""
        return self._session._run(op.tenant_me())

    def set_subscriptions(self, subscription_ids: Iterable[str]) -> TenantMe:
        """Replace the linked Azure subscription ids."""
        return self._session._run(op.set_subscriptions(subscription_ids))

    def set_credentials(
        self, *, tenant_id: str, client_id: str, client_secret: str | SecretStr
    ) -> CredentialsStored:
        """Store the Azure service principal scans read live Azure with."""
        return self._session._run(op.set_credentials(tenant_id, client_id, client_secret))

    def house_policy(self) -> HousePolicy:
        """The review periods, risk tiers and tag names your scans apply (defaults until set)."""
        return self._session._run(op.get_house_policy())

    def set_house_policy(
        self,
        *,
        review_period_days: int | None = None,
        review_period_days_by_tier: Mapping[str, int] | None = None,
        risk_tiers: Iterable[str] | None = None,
        inventory_tag_keys: Mapping[str, Iterable[str]] | None = None,
    ) -> HousePolicy:
        """Change the settings given; the others keep their value (tenant:write, audit-logged).

        ``inventory_tag_keys`` (``model_owner``, ``risk_tier``, ``validation_date``,
        ``model_id``: each a list of tag names) replaces all four lists; one left out is empty.
        """
        return self._session._run(
            op.set_house_policy(
                review_period_days, review_period_days_by_tier, risk_tiers, inventory_tag_keys
            )
        )


class Snapshots(_Resource):
    def put(self, subscription_id: str, export: op.Document) -> Snapshot:
        """Upload a Resource Graph export (file path, bytes or data) as the snapshot."""
        return self._session._run(op.put_snapshot(subscription_id, export))

    def get(self, subscription_id: str) -> Snapshot:
        return self._session._run(op.get_snapshot(subscription_id))

    def delete(self, subscription_id: str) -> Status:
        return self._session._run(op.delete_snapshot(subscription_id))


class Scans(_Resource):
    def run(
        self,
        frameworks: Iterable[str] | None = None,
        subscription_id: str | None = None,
        label: str | None = None,
        generate_narrative: bool | None = None,
    ) -> Report:
        """Scan the linked subscriptions and save the report (counts against the quota)."""
        return self._session._run(
            op.scan(frameworks, subscription_id, label, generate_narrative, dry_run=False)
        )

    def dry_run(
        self,
        frameworks: Iterable[str] | None = None,
        subscription_id: str | None = None,
        label: str | None = None,
        generate_narrative: bool | None = None,
    ) -> Report:
        """Scan in full without saving or counting the report."""
        return self._session._run(
            op.scan(frameworks, subscription_id, label, generate_narrative, dry_run=True)
        )

    def iac(
        self,
        document_or_path: op.Document,
        frameworks: Iterable[str] | None = None,
        label: str | None = None,
        dry_run: bool = False,
        generate_narrative: bool | None = None,
    ) -> Report:
        """Scan a Terraform plan (``terraform show -json``) or an ARM template."""
        return self._session._run(
            op.scan_iac(document_or_path, frameworks, label, dry_run, generate_narrative)
        )


class Reports(_Resource):
    def list(
        self, type: ReportType | None = None, page_size: int = 50, *, label: str | None = None
    ) -> Iterator[ReportSummary]:
        """Every saved report, newest first, fetching pages as the iteration goes; ``label``:
        only those whose label contains it, ignoring case."""
        return self._session._iterate(op.list_reports(type, page_size, label))

    def get(self, report_id: str, *, include_passed: bool = False) -> Report:
        """A saved report; ``include_passed``: with every pass and its evidence (``passed``)."""
        return self._session._run(op.get_report(report_id, include_passed))

    def delete(self, report_id: str) -> ReportDeleted:
        return self._session._run(op.delete_report(report_id))

    def delete_manual(self) -> ReportDeleted:
        """Delete every manual report (governance reports stay)."""
        return self._session._run(op.delete_manual_reports())

    def diff(self, report_a: str, report_b: str) -> ReportDiff:
        """What changed from ``report_a`` to ``report_b``."""
        return self._session._run(op.diff_reports(report_a, report_b))

    def scorecard(self, report_id: str) -> ScorecardReport:
        """The executive scorecard of a saved report (Enterprise): RAG, top gaps, trajectory."""
        return self._session._run(op.get_scorecard(report_id))

    def iac(self, report_id: str) -> IacAvailability:
        """Whether remediation scripts exist for a saved report, and in which formats."""
        return self._session._run(op.get_iac(report_id))

    def iac_script(self, report_id: str, fmt: str = "azcli") -> str:
        """A saved report's remediation in ``fmt``: ``arm`` (JSON text), ``bicep``, ``terraform``
        (file sections: ``tutela.scanner.outputs.iac.split_files`` gives the files) or
        ``azcli``; filled with the report's real ids, or for a plan's or template's report,
        its own addresses or template paths."""
        return self._session._run(op.get_iac_script(report_id, fmt))

    def roadmap(self, report_id: str) -> RoadmapReport:
        """The 30/60/90-day remediation roadmap of a saved report (Enterprise), with gains."""
        return self._session._run(op.get_roadmap(report_id))

    @overload
    def auditor_package(
        self, report_id: str, *, pdf: Literal[False] = False
    ) -> AuditorPackageReport: ...

    @overload
    def auditor_package(self, report_id: str, *, pdf: Literal[True]) -> bytes: ...

    def auditor_package(self, report_id: str, *, pdf: bool = False) -> AuditorPackageReport | bytes:
        """The auditor evidence package of a saved report (Enterprise); ``pdf=True``: its PDF."""
        if pdf:
            return self._session._run(op.get_auditor_package_pdf(report_id))
        return self._session._run(op.get_auditor_package(report_id))


class Governance(_Resource):
    def get(self) -> GovernanceState:
        """Continuous governance: cadence, last and next scan, drift, history (Professional+)."""
        return self._session._run(op.get_governance())

    def set(
        self, *, enabled: bool | None = None, cadence: Cadence | None = None
    ) -> GovernanceState:
        """Pause or resume scheduled scans, or choose a cadence no faster than the plan's."""
        return self._session._run(op.set_governance(enabled, cadence))

    def delete_history(
        self, report_id: str | None = None, *, everything: bool = False
    ) -> ReportDeleted:
        """Delete one governance report, or (``everything=True``) the whole governance history."""
        return self._session._run(op.delete_governance_history(report_id, everything))


class Keys(_Resource):
    def list(self, page_size: int = 50) -> Iterator[ApiKey]:
        """Your API keys (never their secrets), fetching pages as the iteration goes."""
        return self._session._iterate(op.list_keys(page_size))

    def create(self, name: str, scopes: Iterable[str], expires_in_days: int = 30) -> ApiKeyCreated:
        """A new key; its secret (``.key.get_secret_value()``) is shown this once."""
        return self._session._run(op.create_key(name, scopes, expires_in_days))

    def get(self, key_id: str) -> ApiKey:
        return self._session._run(op.get_key(key_id))

    def rename(self, key_id: str, name: str) -> ApiKey:
        return self._session._run(op.rename_key(key_id, name))

    def revoke(self, key_id: str) -> ApiKeyRevoked:
        """Revoke a key; it fails from its next request."""
        return self._session._run(op.revoke_key(key_id))

    def current(self) -> WhoAmI:
        """The calling key: scopes, expiry, owner, tenant and plan."""
        return self._session._run(op.current_key())

    def list_members(self, page_size: int = 50) -> Iterator[MemberApiKey]:
        """Every key of every user of your tenant (owners and admins: tenant:write, keys:read)."""
        return self._session._iterate(op.list_member_keys(page_size))

    def revoke_member(self, key_id: str) -> ApiKeyRevoked:
        """Revoke any key of your tenant's users (tenant:write, keys:write); audit-logged."""
        return self._session._run(op.revoke_member_key(key_id))


class Encryption(_Resource):
    """Customer-managed keys (CMK): see docs/encryption.md."""

    def status(self) -> EncryptionStatus:
        """CMK settings and health (the plan's support, vault, key version, blocked, pending)."""
        return self._session._run(op.encryption_status())

    def extended_status(self) -> EncryptionStatusExtended:
        """The status plus the encryption mode and its last 10 changes, newest first."""
        return self._session._run(op.encryption_extended_status())

    def enable_cmk(
        self, key_vault_url: str, *, secret_name: str | None = None, key_name: str | None = None
    ) -> CmkEnabled:
        """Wrap new reports' data keys with a Key Vault key (preferred) or secret: exactly one.

        The vault is tested with the stored service principal first; a failure raises
        ``BadRequestError`` naming the cause and nothing changes (Professional and up;
        encryption:write).
        """
        return self._session._run(op.enable_cmk(key_vault_url, secret_name, key_name))

    def rotate(self) -> KeyRotation:
        """Re-read the key's current version now (after rotating it in Key Vault)."""
        return self._session._run(op.rotate_cmk())

    def switch_to_pmk(self) -> PmkSwitchRequested:
        """Start the switch back to the platform key: the owner is mailed a 30-minute link."""
        return self._session._run(op.switch_to_pmk())

    def confirm_pmk(self, token: str | SecretStr) -> PmkSwitchConfirmed:
        """Complete the switch with the token of the mailed link (one use)."""
        return self._session._run(op.confirm_pmk(token))


class Users(_Resource):
    """Your tenant's people (owners and admins: tenant:write). An admin acts on members and
    auditors only; the owner's role and membership never change here."""

    def list(self, page_size: int = 50) -> Iterator[TenantUser]:
        """Every person of your tenant with their status, newest first, page by page."""
        return self._session._iterate(op.list_users(page_size))

    def get(self, user_id: str) -> TenantUser:
        return self._session._run(op.get_user(user_id))

    def invite(self, email: str, role: UserRole = "member") -> Invitation:
        """Add a person (admin, member or auditor) and mail them a link to choose a password."""
        return self._session._run(op.invite_user(email, role))

    def resend_invitation(self, user_id: str) -> Invitation:
        """Mail a new invitation link; the earlier one stops working."""
        return self._session._run(op.resend_invitation(user_id))

    def set_role(self, user_id: str, role: UserRole) -> TenantUser:
        """Change a person's role; their API keys narrow or widen at once (audit-logged)."""
        return self._session._run(op.set_user_role(user_id, role))

    def remove(self, user_id: str) -> None:
        """Remove a person: their API keys and portal sessions end at once (audit-logged)."""
        self._session._run(op.remove_user(user_id))
