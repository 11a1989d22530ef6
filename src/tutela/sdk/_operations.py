"""Every typed operation of the API, defined once for the sync and the async session."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from tutela.sdk._flow import Call, Chain, Flow, Operation, Pages, SessionConfig, parse_as
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
    Health,
    HousePolicy,
    IacAvailability,
    Invitation,
    KeyRotation,
    MemberApiKey,
    Page,
    Plan,
    PmkSwitchConfirmed,
    PmkSwitchRequested,
    Report,
    ReportDeleted,
    ReportDiff,
    ReportSummary,
    ReportType,
    RoadmapReport,
    ScopeInfo,
    ScorecardReport,
    Snapshot,
    Status,
    TenantMe,
    TenantUser,
    UserRole,
    WhoAmI,
)

# A JSON document: a path to a file of it (read and sent as is), its bytes, or Python data.
Document: TypeAlias = str | os.PathLike[str] | bytes | dict[str, Any] | list[Any]


def _segment(value: str) -> str:
    """An id as one path segment: ``/`` and friends escaped, so it cannot reach another route."""
    return quote(str(value), safe="")


def _names(values: Iterable[str]) -> list[str]:
    """A list of ids; one id given as a plain string counts as one, not as its characters."""
    return [values] if isinstance(values, str) else [str(v) for v in values]


def document_bytes(document: Document) -> bytes:
    if isinstance(document, str | os.PathLike):
        return Path(document).read_bytes()
    if isinstance(document, bytes):
        return document
    return json.dumps(document).encode()


# --- platform ----------------------------------------------------------------------------------


def health() -> Call[Health]:
    return Call("GET", "/health", parse_as(Health))


def list_frameworks() -> Call[list[Framework]]:
    return Call("GET", "/frameworks", parse_as(list[Framework]))


def list_plans() -> Call[list[Plan]]:
    return Call("GET", "/plans", parse_as(list[Plan]))


def list_scopes() -> Call[list[ScopeInfo]]:
    return Call("GET", "/scopes", parse_as(list[ScopeInfo]))


# --- tenant ------------------------------------------------------------------------------------


def tenant_me() -> Call[TenantMe]:
    return Call("GET", "/tenant/me", parse_as(TenantMe))


def set_subscriptions(subscription_ids: Iterable[str]) -> Call[TenantMe]:
    body = {"subscription_ids": _names(subscription_ids)}
    return Call("PUT", "/tenant/subscriptions", parse_as(TenantMe), json=body)


def set_credentials(
    tenant_id: str, client_id: str, client_secret: str | SecretStr
) -> Call[CredentialsStored]:
    secret = SecretStr(client_secret) if isinstance(client_secret, str) else client_secret
    plain = secret.get_secret_value()
    body = {"tenant_id": str(tenant_id), "client_id": str(client_id), "client_secret": plain}
    return Call(
        "PUT", "/tenant/credentials", parse_as(CredentialsStored), json=body, secrets=(plain,)
    )


def get_house_policy() -> Call[HousePolicy]:
    return Call("GET", "/tenant/house-policy", parse_as(HousePolicy))


def set_house_policy(
    review_period_days: int | None,
    review_period_days_by_tier: Mapping[str, int] | None,
    risk_tiers: Iterable[str] | None,
    inventory_tag_keys: Mapping[str, Iterable[str]] | None = None,
) -> Call[HousePolicy]:
    """Only the settings given are sent: the others keep their value on the server."""
    body: dict[str, Any] = {}
    if review_period_days is not None:
        body["review_period_days"] = review_period_days
    if review_period_days_by_tier is not None:
        body["review_period_days_by_tier"] = dict(review_period_days_by_tier)
    if risk_tiers is not None:
        body["risk_tiers"] = _names(risk_tiers)
    if inventory_tag_keys is not None:
        body["inventory_tag_keys"] = {k: _names(v) for k, v in inventory_tag_keys.items()}
    return Call("PUT", "/tenant/house-policy", parse_as(HousePolicy), json=body)


# --- people ------------------------------------------------------------------------------------


def list_users(page_size: int) -> Pages[TenantUser]:
    def page(cursor: str | None) -> Call[Page[TenantUser]]:
        params = {"limit": page_size, "cursor": cursor}
        return Call("GET", "/tenant/users", parse_as(Page[TenantUser]), params=params)

    return Pages(page)


def get_user(user_id: str) -> Call[TenantUser]:
    return Call("GET", f"/tenant/users/{_segment(user_id)}", parse_as(TenantUser))


def invite_user(email: str, role: UserRole) -> Call[Invitation]:
    body = {"email": email, "role": role}
    return Call("POST", "/tenant/users", parse_as(Invitation), json=body)


def resend_invitation(user_id: str) -> Call[Invitation]:
    return Call("POST", f"/tenant/users/{_segment(user_id)}/invitation", parse_as(Invitation))


def set_user_role(user_id: str, role: UserRole) -> Call[TenantUser]:
    path = f"/tenant/users/{_segment(user_id)}/role"
    return Call("PUT", path, parse_as(TenantUser), json={"role": role})


def remove_user(user_id: str) -> Call[None]:
    return Call("DELETE", f"/tenant/users/{_segment(user_id)}", _no_content)


def _no_content(_response: httpx.Response) -> None:
    return None


# --- encryption (customer-managed keys) ---------------------------------------------------------


def encryption_status() -> Call[EncryptionStatus]:
    return Call("GET", "/tenant/encryption", parse_as(EncryptionStatus))


def encryption_extended_status() -> Call[EncryptionStatusExtended]:
    return Call("GET", "/tenant/encryption/status", parse_as(EncryptionStatusExtended))


def enable_cmk(
    key_vault_url: str, secret_name: str | None, key_name: str | None
) -> Call[CmkEnabled]:
    if (secret_name is None) == (key_name is None):
        raise ValueError("give exactly one of secret_name and key_name")
    body = {"key_vault_url": key_vault_url}
    if key_name is not None:
        body["key_vault_key_name"] = key_name
    else:
        assert secret_name is not None
        body["key_vault_secret_name"] = secret_name
    return Call("POST", "/tenant/encryption/cmk", parse_as(CmkEnabled), json=body)


def rotate_cmk() -> Call[KeyRotation]:
    return Call("POST", "/tenant/encryption/rotate", parse_as(KeyRotation))


def switch_to_pmk() -> Call[PmkSwitchRequested]:
    return Call("POST", "/tenant/encryption/pmk", parse_as(PmkSwitchRequested))


def confirm_pmk(token: str | SecretStr) -> Call[PmkSwitchConfirmed]:
    plain = token.get_secret_value() if isinstance(token, SecretStr) else str(token)
    return Call(
        "POST",
        "/tenant/encryption/confirm-pmk",
        parse_as(PmkSwitchConfirmed),
        params={"token": plain},
        secrets=(plain,),
    )


def _snapshot_path(subscription_id: str) -> str:
    return f"/tenant/subscriptions/{_segment(subscription_id)}/snapshot"


def put_snapshot(subscription_id: str, export: Document) -> Call[Snapshot]:
    path = _snapshot_path(subscription_id)
    return Call("PUT", path, parse_as(Snapshot), content=document_bytes(export))


def get_snapshot(subscription_id: str) -> Call[Snapshot]:
    return Call("GET", _snapshot_path(subscription_id), parse_as(Snapshot))


def delete_snapshot(subscription_id: str) -> Call[Status]:
    return Call("DELETE", _snapshot_path(subscription_id), parse_as(Status))


# --- scans -------------------------------------------------------------------------------------


def plan_frameworks() -> Operation[list[str]]:
    """Every framework of the caller's plan (what ``/scan/iac`` scans when given none)."""

    def steps(config: SessionConfig) -> Flow[list[str]]:
        me = yield from current_key().flow(config)
        plans = yield from list_plans().flow(config)
        return next((plan.frameworks for plan in plans if plan.id == me.plan), [])

    return Chain(steps)


def scan(
    frameworks: Iterable[str] | None,
    subscription_id: str | None,
    label: str | None,
    generate_narrative: bool | None,
    *,
    dry_run: bool,
) -> Operation[Report]:
    """``POST /scan`` (or ``/scan/dry-run``); no frameworks: those of the caller's plan."""

    def call(chosen: list[str]) -> Call[Report]:
        body: dict[str, Any] = {"frameworks": chosen}
        if subscription_id is not None:
            body["subscription_id"] = str(subscription_id)
        if label is not None:
            body["scan_label"] = label
        if generate_narrative is not None:
            body["generate_narrative"] = generate_narrative
        return Call("POST", "/scan/dry-run" if dry_run else "/scan", parse_as(Report), json=body)

    if frameworks is not None:
        return call(_names(frameworks))

    def steps(config: SessionConfig) -> Flow[Report]:
        chosen = yield from plan_frameworks().flow(config)
        return (yield from call(chosen).flow(config))

    return Chain(steps)


def scan_iac(
    document: Document,
    frameworks: Iterable[str] | None,
    label: str | None,
    dry_run: bool,
    generate_narrative: bool | None,
) -> Call[Report]:
    params = {
        "frameworks": ",".join(_names(frameworks)) if frameworks is not None else None,
        "scan_label": label,
        "dry_run": dry_run,
        "generate_narrative": generate_narrative,
    }
    content = document_bytes(document)
    return Call("POST", "/scan/iac", parse_as(Report), params=params, content=content)


# --- reports -----------------------------------------------------------------------------------


def list_reports(
    report_type: ReportType | None, page_size: int, label: str | None = None
) -> Pages[ReportSummary]:
    def page(cursor: str | None) -> Call[Page[ReportSummary]]:
        params = {"limit": page_size, "type": report_type, "label": label, "cursor": cursor}
        return Call("GET", "/reports", parse_as(Page[ReportSummary]), params=params)

    return Pages(page)


def get_report(report_id: str, include_passed: bool = False) -> Call[Report]:
    params = {"include": "passed"} if include_passed else None
    return Call("GET", f"/report/{_segment(report_id)}", parse_as(Report), params=params)


def delete_report(report_id: str) -> Call[ReportDeleted]:
    return Call("DELETE", f"/report/{_segment(report_id)}", parse_as(ReportDeleted))


def delete_manual_reports() -> Call[ReportDeleted]:
    return Call("DELETE", "/reports", parse_as(ReportDeleted))


def diff_reports(report_a: str, report_b: str) -> Call[ReportDiff]:
    body = {"report_a": report_a, "report_b": report_b}
    return Call("POST", "/reports/diff", parse_as(ReportDiff), json=body)


def get_scorecard(report_id: str) -> Call[ScorecardReport]:
    return Call("GET", f"/report/{_segment(report_id)}/scorecard", parse_as(ScorecardReport))


def get_roadmap(report_id: str) -> Call[RoadmapReport]:
    return Call("GET", f"/report/{_segment(report_id)}/roadmap", parse_as(RoadmapReport))


def get_auditor_package(report_id: str) -> Call[AuditorPackageReport]:
    path = f"/report/{_segment(report_id)}/auditor-package"
    return Call("GET", path, parse_as(AuditorPackageReport))


def get_auditor_package_pdf(report_id: str) -> Call[bytes]:
    path = f"/report/{_segment(report_id)}/auditor-package"
    return Call(
        "GET", path, _pdf_bytes, params={"format": "pdf"}, headers={"Accept": "application/pdf"}
    )


def _pdf_bytes(response: httpx.Response) -> bytes:
    return response.content


def get_iac(report_id: str) -> Call[IacAvailability]:
    return Call("GET", f"/report/{_segment(report_id)}/iac", parse_as(IacAvailability))


def get_iac_script(report_id: str, fmt: str) -> Call[str]:
    path = f"/report/{_segment(report_id)}/iac/{_segment(fmt)}"
    return Call("GET", path, _text)


def _text(response: httpx.Response) -> str:
    return response.text


# --- governance --------------------------------------------------------------------------------


def get_governance() -> Call[GovernanceState]:
    return Call("GET", "/governance", parse_as(GovernanceState))


def set_governance(enabled: bool | None, cadence: Cadence | None) -> Call[GovernanceState]:
    body = {
        key: value
        for key, value in (("governance_enabled", enabled), ("cadence", cadence))
        if value is not None
    }
    return Call("PUT", "/governance", parse_as(GovernanceState), json=body)


def delete_governance_history(report_id: str | None, everything: bool) -> Call[ReportDeleted]:
    # The server deletes the whole history only when asked in so many words: so does the SDK.
    if (report_id is None) == (not everything):
        raise ValueError("pass a report_id, or everything=True for the whole history (not both)")
    body = {"selective": False} if everything else {"report_id": report_id}
    return Call("DELETE", "/governance/history", parse_as(ReportDeleted), json=body)


# --- API keys ----------------------------------------------------------------------------------


def list_keys(page_size: int) -> Pages[ApiKey]:
    def page(cursor: str | None) -> Call[Page[ApiKey]]:
        params = {"limit": page_size, "cursor": cursor}
        return Call("GET", "/api-keys", parse_as(Page[ApiKey]), params=params)

    return Pages(page)


def create_key(name: str, scopes: Iterable[str], expires_in_days: int) -> Call[ApiKeyCreated]:
    body = {"name": name, "scopes": _names(scopes), "expires_in_days": expires_in_days}
    return Call("POST", "/api-keys", parse_as(ApiKeyCreated), json=body)


def get_key(key_id: str) -> Call[ApiKey]:
    return Call("GET", f"/api-keys/{_segment(key_id)}", parse_as(ApiKey))


def rename_key(key_id: str, name: str) -> Call[ApiKey]:
    return Call("PATCH", f"/api-keys/{_segment(key_id)}", parse_as(ApiKey), json={"name": name})


def revoke_key(key_id: str) -> Call[ApiKeyRevoked]:
    return Call("DELETE", f"/api-keys/{_segment(key_id)}", parse_as(ApiKeyRevoked))


def list_member_keys(page_size: int) -> Pages[MemberApiKey]:
    def page(cursor: str | None) -> Call[Page[MemberApiKey]]:
        params = {"limit": page_size, "cursor": cursor}
        return Call("GET", "/tenant/api-keys", parse_as(Page[MemberApiKey]), params=params)

    return Pages(page)


def revoke_member_key(key_id: str) -> Call[ApiKeyRevoked]:
    return Call("DELETE", f"/tenant/api-keys/{_segment(key_id)}", parse_as(ApiKeyRevoked))


def current_key() -> Call[WhoAmI]:
    return Call("GET", "/api-keys/current", parse_as(WhoAmI))
