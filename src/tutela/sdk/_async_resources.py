"""The typed API groups of ``AsyncSession``: each method awaits one operation of ``_operations``."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Mapping
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
    from tutela.sdk._session import AsyncSession


class _Resource:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session


class AsyncFrameworks(_Resource):
    async def list(self) -> builtins.list[Framework]:
        """The compliance frameworks and the plans that may scan each."""
        return await self._session._run(op.list_frameworks())


class AsyncPlans(_Resource):
    async def list(self) -> builtins.list[Plan]:
        """The plans: quotas, frameworks, history window, features."""
        return await self._session._run(op.list_plans())


class AsyncTenant(_Resource):
    async def me(self) -> TenantMe:
        """Your tenant: plan, quota use, linked subscriptions, governance."""
        return await self._session._run(op.tenant_me())

    async def set_subscriptions(self, subscription_ids: Iterable[str]) -> TenantMe:
        """Replace the linked Azure subscription ids."""
        return await self._session._run(op.set_subscriptions(subscription_ids))

    async def set_credentials(
        self, *, tenant_id: str, client_id: str, client_secret: str | SecretStr
    ) -> CredentialsStored:
        """Store the Azure service principal scans read live Azure with."""
        return await self._session._run(op.set_credentials(tenant_id, client_id, client_secret))

    async def house_policy(self) -> HousePolicy:
        """The review periods, risk tiers and tag names your scans apply (defaults until set)."""
        return await self._session._run(op.get_house_policy())

    async def set_house_policy(
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
        return await self._session._run(
            op.set_house_policy(
                review_period_days, review_period_days_by_tier, risk_tiers, inventory_tag_keys
            )
        )


class AsyncSnapshots(_Resource):
    async def put(self, subscription_id: str, export: op.Document) -> Snapshot:
        """Upload a Resource Graph export (file path, bytes or data) as the snapshot."""
        return await self._session._run(op.put_snapshot(subscription_id, export))

    async def get(self, subscription_id: str) -> Snapshot:
        return await self._session._run(op.get_snapshot(subscription_id))

    async def delete(self, subscription_id: str) -> Status:
        return await self._session._run(op.delete_snapshot(subscription_id))


class AsyncScans(_Resource):
    async def run(
        self,
        frameworks: Iterable[str] | None = None,
        subscription_id: str | None = None,
        label: str | None = None,
        generate_narrative: bool | None = None,
    ) -> Report:
        """Scan the linked subscriptions and save the report (counts against the quota)."""
        return await self._session._run(
            op.scan(frameworks, subscription_id, label, generate_narrative, dry_run=False)
        )

    async def dry_run(
        self,
        frameworks: Iterable[str] | None = None,
        subscription_id: str | None = None,
        label: str | None = None,
        generate_narrative: bool | None = None,
    ) -> Report:
        """Scan in full without saving or counting the report."""
        return await self._session._run(
            op.scan(frameworks, subscription_id, label, generate_narrative, dry_run=True)
        )

    async def iac(
        self,
        document_or_path: op.Document,
        frameworks: Iterable[str] | None = None,
        label: str | None = None,
        dry_run: bool = False,
        generate_narrative: bool | None = None,
    ) -> Report:
        """Scan a Terraform plan (``terraform show -json``) or an ARM template."""
        return await self._session._run(
            op.scan_iac(document_or_path, frameworks, label, dry_run, generate_narrative)
        )


class AsyncReports(_Resource):
    def list(
        self, type: ReportType | None = None, page_size: int = 50, *, label: str | None = None
    ) -> AsyncIterator[ReportSummary]:
        """Every saved report, newest first, fetching pages as the iteration goes; ``label``:
        only those whose label contains it, ignoring case."""
        return self._session._iterate(op.list_reports(type, page_size, label))

    async def get(self, report_id: str, *, include_passed: bool = False) -> Report:
        """A saved report; ``include_passed``: with every pass and its evidence (``passed``)."""
        return await self._session._run(op.get_report(report_id, include_passed))

    async def delete(self, report_id: str) -> ReportDeleted:
        return await self._session._run(op.delete_report(report_id))

    async def delete_manual(self) -> ReportDeleted:
        """Delete every manual report (governance reports stay)."""
        return await self._session._run(op.delete_manual_reports())

    async def diff(self, report_a: str, report_b: str) -> ReportDiff:
        """What changed from ``report_a`` to ``report_b``."""
        return await self._session._run(op.diff_reports(report_a, report_b))

    async def scorecard(self, report_id: str) -> ScorecardReport:
        """The executive scorecard of a saved report (Enterprise): RAG, top gaps, trajectory."""
        return await self._session._run(op.get_scorecard(report_id))

    async def iac(self, report_id: str) -> IacAvailability:
        """Whether remediation scripts exist for a saved report, and in which formats."""
        return await self._session._run(op.get_iac(report_id))

    async def iac_script(self, report_id: str, fmt: str = "azcli") -> str:
        """A saved report's remediation in ``fmt``: ``arm`` (JSON text), ``bicep``, ``terraform``
        (file sections: ``tutela.scanner.outputs.iac.split_files`` gives the files) or
        ``azcli``; filled with the report's real ids, or for a plan's or template's report,
        its own addresses or template paths."""
        return await self._session._run(op.get_iac_script(report_id, fmt))

    async def roadmap(self, report_id: str) -> RoadmapReport:
        """The 30/60/90-day remediation roadmap of a saved report (Enterprise), with gains."""
        return await self._session._run(op.get_roadmap(report_id))

    @overload
    async def auditor_package(
        self, report_id: str, *, pdf: Literal[False] = False
    ) -> AuditorPackageReport: ...

    @overload
    async def auditor_package(self, report_id: str, *, pdf: Literal[True]) -> bytes: ...

    async def auditor_package(
        self, report_id: str, *, pdf: bool = False
    ) -> AuditorPackageReport | bytes:
        """The auditor evidence package of a saved report (Enterprise); ``pdf=True``: its PDF."""
        if pdf:
            return await self._session._run(op.get_auditor_package_pdf(report_id))
        return await self._session._run(op.get_auditor_package(report_id))


class AsyncGovernance(_Resource):
    async def get(self) -> GovernanceState:
        """Continuous governance: cadence, last and next scan, drift, history (Professional+)."""
        return await self._session._run(op.get_governance())

    async def set(
        self, *, enabled: bool | None = None, cadence: Cadence | None = None
    ) -> GovernanceState:
        """Pause or resume scheduled scans, or choose a cadence no faster than the plan's."""
        return await self._session._run(op.set_governance(enabled, cadence))

    async def delete_history(
        self, report_id: str | None = None, *, everything: bool = False
    ) -> ReportDeleted:
        """Delete one governance report, or (``everything=True``) the whole governance history."""
        return await self._session._run(op.delete_governance_history(report_id, everything))


class AsyncKeys(_Resource):
    def list(self, page_size: int = 50) -> AsyncIterator[ApiKey]:
        """Your API keys (never their secrets), fetching pages as the iteration goes."""
        return self._session._iterate(op.list_keys(page_size))

    async def create(
        self, name: str, scopes: Iterable[str], expires_in_days: int = 30
    ) -> ApiKeyCreated:
        """A new key; its secret (``.key.get_secret_value()``) is shown this once."""
        return await self._session._run(op.create_key(name, scopes, expires_in_days))

    async def get(self, key_id: str) -> ApiKey:
        return await self._session._run(op.get_key(key_id))

    async def rename(self, key_id: str, name: str) -> ApiKey:
        return await self._session._run(op.rename_key(key_id, name))

    async def revoke(self, key_id: str) -> ApiKeyRevoked:
        """Revoke a key; it fails from its next request."""
        return await self._session._run(op.revoke_key(key_id))

    async def current(self) -> WhoAmI:
        """The calling key: scopes, expiry, owner, tenant and plan."""
        return await self._session._run(op.current_key())

    def list_members(self, page_size: int = 50) -> AsyncIterator[MemberApiKey]:
        """Every key of every user of your tenant (owners and admins: tenant:write, keys:read)."""
        return self._session._iterate(op.list_member_keys(page_size))

    async def revoke_member(self, key_id: str) -> ApiKeyRevoked:
        """Revoke any key of your tenant's users (tenant:write, keys:write); audit-logged."""
        return await self._session._run(op.revoke_member_key(key_id))


class AsyncEncryption(_Resource):
    """Customer-managed keys (CMK): see docs/encryption.md."""

    async def status(self) -> EncryptionStatus:
        """CMK settings and health (the plan's support, vault, key version, blocked, pending)."""
        return await self._session._run(op.encryption_status())

    async def extended_status(self) -> EncryptionStatusExtended:
        """The status plus the encryption mode and its last 10 changes, newest first."""
        return await self._session._run(op.encryption_extended_status())

    async def enable_cmk(
        self, key_vault_url: str, *, secret_name: str | None = None, key_name: str | None = None
    ) -> CmkEnabled:
        """Wrap new reports' data keys with a Key Vault key (preferred) or secret: exactly one.

        The vault is tested with the stored service principal first; a failure raises
        ``BadRequestError`` naming the cause and nothing changes (Professional and up;
        encryption:write).
        """
        return await self._session._run(op.enable_cmk(key_vault_url, secret_name, key_name))

    async def rotate(self) -> KeyRotation:
        """Re-read the key's current version now (after rotating it in Key Vault)."""
        return await self._session._run(op.rotate_cmk())

    async def switch_to_pmk(self) -> PmkSwitchRequested:
        """Start the switch back to the platform key: the owner is mailed a 30-minute link."""
        return await self._session._run(op.switch_to_pmk())

    async def confirm_pmk(self, token: str | SecretStr) -> PmkSwitchConfirmed:
        """Complete the switch with the token of the mailed link (one use)."""
        return await self._session._run(op.confirm_pmk(token))


class AsyncUsers(_Resource):
    """Your tenant's people (owners and admins: tenant:write). An admin acts on members and
    auditors only; the owner's role and membership never change here."""

    def list(self, page_size: int = 50) -> AsyncIterator[TenantUser]:
        """Every person of your tenant with their status, newest first, page by page."""
        return self._session._iterate(op.list_users(page_size))

    async def get(self, user_id: str) -> TenantUser:
        return await self._session._run(op.get_user(user_id))

    async def invite(self, email: str, role: UserRole = "member") -> Invitation:
        """Add a person (admin, member or auditor) and mail them a link to choose a password."""
        return await self._session._run(op.invite_user(email, role))

    async def resend_invitation(self, user_id: str) -> Invitation:
        """Mail a new invitation link; the earlier one stops working."""
        return await self._session._run(op.resend_invitation(user_id))

    async def set_role(self, user_id: str, role: UserRole) -> TenantUser:
        """Change a person's role; their API keys narrow or widen at once (audit-logged)."""
        return await self._session._run(op.set_user_role(user_id, role))

    async def remove(self, user_id: str) -> None:
        """Remove a person: their API keys and portal sessions end at once (audit-logged)."""
        await self._session._run(op.remove_user(user_id))
