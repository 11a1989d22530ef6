"""The two-step switch from a customer-managed key back to the platform key (PMK).

``request_pmk`` mails the owner a one-time link (token stored as its SHA-256 only, 30 minutes,
one pending per tenant); ``confirm_pmk`` checks the token (400 nothing pending, 403 wrong, 410
expired), uses it up and switches. Another tenant's token matches nothing of the caller's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.db import transaction, utcnow
from tutela.server.encryption import emails, tokens
from tutela.server.encryption.keyring import tenant_material
from tutela.server.encryption.models import PendingDowngrade
from tutela.server.encryption.repository import EncryptionRepository
from tutela.server.encryption.schemas import PmkConfirmed, PmkRequested
from tutela.server.encryption.service import (
    CmkNotConfigured,
    probe,
    send_after_commit,
    stamp,
)
from tutela.server.encryption.vault import KeyMaterial, VaultError
from tutela.server.errors import DomainError, Forbidden
from tutela.server.runtime import Runtime
from tutela.server.tenants.service import AzureCredentials, caller_tenant, open_credentials

DOWNGRADE_TTL = dt.timedelta(minutes=30)


class EmailUnavailable(DomainError):
    status_code = 503


class NoPendingDowngrade(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "No pending downgrade request found: start one with POST /tenant/encryption/pmk"
        )


class WrongDowngradeToken(Forbidden):
    def __init__(self) -> None:
        super().__init__("Invalid token")


class DowngradeTokenExpired(DomainError):
    status_code = 410

    def __init__(self) -> None:
        super().__init__("Token expired: restart the process with POST /tenant/encryption/pmk")


def request_pmk(runtime: Runtime, caller: Caller) -> PmkRequested:
    """Mail the owner a one-time link (30 minutes) that confirms the switch; replaces any
    earlier request. Nothing is stored unless the email went out."""
    token, digest = tokens.new_token()
    now = utcnow()
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        if tenant.encryption_mode != "cmk":
            raise CmkNotConfigured()
        expires_at = now + DOWNGRADE_TTL
        EncryptionRepository(session, tenant.id).replace_pending(
            PendingDowngrade(
                token_hash=digest,
                requested_by=caller.actor,
                requested_at=now,
                expires_at=expires_at,
            )
        )
        audit.record(
            session,
            actor=caller.actor,
            action="encryption.pmk_requested",
            tenant_id=tenant.id,
            target=f"tenant:{tenant.id}",
            details={"expires_at": expires_at.isoformat()},
        )
        link = emails.confirm_pmk_link(runtime.settings.resolved_public_url, token)
        email = emails.pmk_confirmation(
            tenant.owner_email, tenant.name, link, expires_at, caller.actor
        )
        if not emails.send(runtime.settings, email, event="pmk_confirmation", tenant_id=tenant.id):
            raise EmailUnavailable(
                "The confirmation email could not be sent, so nothing changed; retry later"
            )
        owner = tenant.owner_email
    return PmkRequested(
        email_sent=True,
        message=f"A confirmation link has been sent to {owner}. Click it within 30 minutes to "
        "complete the switch to PMK.",
    )


@dataclass(frozen=True)
class _Downgrade:
    material: KeyMaterial | None
    credentials: AzureCredentials | None
    digest: str


def _accepted_token(runtime: Runtime, caller: Caller, token: str) -> _Downgrade:
    """The pending switch ``token`` confirms; 400 / 403 / 410 (an expired one is removed)."""
    expired = False
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        repository = EncryptionRepository(session, tenant.id)
        pending = repository.pending()
        if pending is None:
            raise NoPendingDowngrade()
        if not tokens.matches(token, pending.token_hash):
            raise WrongDowngradeToken()
        if pending.expires_at <= utcnow():
            repository.remove_pending()
            expired = True
        else:
            credentials = open_credentials(tenant, runtime.keys.credentials_key)
            accepted = _Downgrade(tenant_material(tenant), credentials, pending.token_hash)
    if expired:  # raised after the commit, so the expired request is gone
        raise DowngradeTokenExpired()
    return accepted


def confirm_pmk(runtime: Runtime, caller: Caller, token: str) -> PmkConfirmed:
    """Complete the switch: the token is used up, new documents use the platform key."""
    accepted = _accepted_token(runtime, caller, token)
    # Probed once, for the warning only: leaving CMK never depends on the vault answering.
    outcome: str | VaultError | None = None
    if accepted.material is not None and accepted.credentials is not None:
        outcome = probe(accepted.material, accepted.credentials, runtime.azure_transport)
    accessible = isinstance(outcome, str)
    warning = None if isinstance(outcome, str) else _unreadable_warning(outcome)
    now = utcnow()
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        repository = EncryptionRepository(session, tenant.id)
        pending = repository.pending()
        if pending is None or pending.token_hash != accepted.digest:
            raise NoPendingDowngrade()  # used meanwhile by a concurrent confirmation
        repository.remove_pending()
        stamp(
            session,
            tenant,
            "pmk",
            "pmk_confirm",
            caller.actor,
            accepted.material,
            tenant.cmk_key_version,
            now,
            previous_mode=tenant.encryption_mode,
        )
        tenant.encryption_mode = "pmk"
        tenant.cmk_vault_url = tenant.cmk_secret_name = tenant.cmk_key_name = None
        tenant.cmk_key_version = tenant.cmk_verified_at = tenant.cmk_last_error = None
        tenant.cmk_blocked = False
        audit.record(
            session,
            actor=caller.actor,
            action="encryption.pmk_confirmed",
            tenant_id=tenant.id,
            target=f"tenant:{tenant.id}",
            details={"cmk_was_accessible": accessible},
        )
        email = emails.pmk_confirmed(tenant.owner_email, tenant.name, caller.actor, warning)
        send_after_commit(session, runtime, email, "pmk_confirmed_email", tenant.id)
    return PmkConfirmed(
        cmk_was_accessible=accessible,
        warning=warning,
        message="Encryption switched to Platform-Managed Key. Future scans use Tutela's PMK.",
    )


def _unreadable_warning(outcome: VaultError | None) -> str:
    cause = (
        f"{outcome.detail} ({outcome.kind.replace('_', ' ')})"
        if outcome is not None
        else "no Azure service principal is stored to reach it"
    )
    return (
        f"Your Key Vault key could not be reached: {cause}. Reports and snapshots encrypted "
        "with it stay bound to it and cannot be read until the vault answers again with the "
        "stored service principal; do not delete or disable the key."
    )
