"""CMK use cases: status, enable, rotate, and the key check the 24-hour job shares (the switch
back to the platform key is in ``downgrade``).

Key Vault is called outside any database transaction (on SQLite a writer holds the only write
lock until it commits): each use case reads what it needs, asks the vault, then writes in a
second short transaction that re-reads the tenant.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.db import after_commit, transaction, utcnow
from tutela.server.encryption import emails
from tutela.server.encryption.keyring import tenant_material
from tutela.server.encryption.models import EncryptionEvent
from tutela.server.encryption.repository import EncryptionRepository
from tutela.server.encryption.schemas import (
    CmkEnable,
    CmkEnabled,
    EncryptionEventOut,
    EncryptionStatus,
    EncryptionStatusExtended,
    KeyRotation,
)
from tutela.server.encryption.vault import (
    BLOCKING_KINDS,
    KeyMaterial,
    MaterialKind,
    VaultError,
    current_version,
    vault_url,
)
from tutela.server.errors import Conflict, DomainError, InvalidInput
from tutela.server.notify import Email
from tutela.server.runtime import Runtime
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.service import AzureCredentials, caller_tenant, open_credentials

if TYPE_CHECKING:
    from tutela.scanner.sources.azure_arm import Transport

log = logging.getLogger("tutela.encryption")

HISTORY_LENGTH = 10
# Failures that mean the key cannot be used now (a sign-in refusal is the service principal's
# problem and is reported, but reports still name a key that exists).


class CmkNotConfigured(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "Customer-managed keys are not configured: enable them with POST /tenant/encryption/cmk"
        )


class NoServicePrincipal(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "No Azure service principal is stored: Key Vault is reached with it; store one with "
            "PUT /tenant/credentials first"
        )


class KeyVaultUnavailable(DomainError):
    status_code = 503


# --- status -------------------------------------------------------------------------------------


def _status_fields(session: Session, tenant: Tenant, catalog: Catalog) -> dict[str, object]:
    supported = catalog.plan(tenant.plan).features.cmk
    configured = tenant.encryption_mode == "cmk" and tenant_material(tenant) is not None
    pending = EncryptionRepository(session, tenant.id).pending()
    return {
        "plan": tenant.plan,
        "cmk_supported": supported,
        "cmk_configured": configured,
        "key_vault_url": tenant.cmk_vault_url,
        "key_vault_secret_name": tenant.cmk_secret_name,
        "key_vault_key_name": tenant.cmk_key_name,
        "cmk_key_version": tenant.cmk_key_version,
        "cmk_verified_at": tenant.cmk_verified_at,
        "cmk_blocked": tenant.cmk_blocked,
        "cmk_last_error": tenant.cmk_last_error,
        "cmk_downgrade_pending": pending is not None and pending.expires_at > utcnow(),
        "upgrade_required": not supported,
    }


def status(session: Session, caller: Caller, catalog: Catalog) -> EncryptionStatus:
    tenant = caller_tenant(session, caller)
    return EncryptionStatus.model_validate(_status_fields(session, tenant, catalog))


def extended_status(session: Session, caller: Caller, catalog: Catalog) -> EncryptionStatusExtended:
    tenant = caller_tenant(session, caller)
    history = EncryptionRepository(session, tenant.id).history(HISTORY_LENGTH)
    return EncryptionStatusExtended.model_validate(
        {
            **_status_fields(session, tenant, catalog),
            "encryption_mode": tenant.encryption_mode,
            "encryption_mode_history": [EncryptionEventOut.model_validate(e) for e in history],
        }
    )


# --- checking the key ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """What one check of a tenant's Key Vault key found, as recorded on the tenant."""

    ok: bool
    rotated: bool  # ok and the current version differs from the recorded one (history stamped)
    old_version: str | None  # the version recorded before the check
    new_version: str | None  # the version recorded after it (unchanged when not ok)
    verified_at: dt.datetime | None  # when the key was last verified (unchanged when not ok)
    error: VaultError | None  # why not ok
    became_blocked: bool  # not ok, and the tenant was not blocked before this check


def probe(
    material: KeyMaterial, credentials: AzureCredentials, transport: Transport | None
) -> str | VaultError:
    """The key's current version, or the VaultError saying why it cannot be used."""
    try:
        return current_version(material, credentials, transport)
    except VaultError as exc:
        return exc


def record_check(
    session: Session,
    tenant: Tenant,
    material: KeyMaterial,
    outcome: str | VaultError,
    *,
    actor: str,
) -> CheckResult:
    """Record a probe's outcome on the tenant (its current version, or its error); stamps the
    history (reason ``cmk_rotate``) when the version changed. Sends nothing.

    Raises Conflict when the tenant's key changed since ``material`` was read (retry).
    """
    if tenant.encryption_mode != "cmk" or tenant_material(tenant) != material:
        raise Conflict("The customer-managed key settings changed during the check; retry")
    old = tenant.cmk_key_version
    if isinstance(outcome, VaultError):
        was_blocked = tenant.cmk_blocked
        # "<kind>: <detail>", the kind first so that cutting a long detail keeps it.
        tenant.cmk_last_error = f"{outcome.kind}: {outcome.detail}"[:500]
        if outcome.kind in BLOCKING_KINDS:
            tenant.cmk_blocked = True
        log.warning("cmk_check_failed tenant=%s kind=%s", tenant.id, outcome.kind)
        return CheckResult(
            ok=False,
            rotated=False,
            old_version=old,
            new_version=old,
            verified_at=tenant.cmk_verified_at,
            error=outcome,
            became_blocked=tenant.cmk_blocked and not was_blocked,
        )
    now = utcnow()
    rotated = outcome != old
    tenant.cmk_key_version, tenant.cmk_verified_at = outcome, now
    tenant.cmk_blocked, tenant.cmk_last_error = False, None
    if rotated:
        stamp(session, tenant, "cmk", "cmk_rotate", actor, material, outcome, now)
        log.info("cmk_rotation_detected tenant=%s old=%s new=%s", tenant.id, old, outcome)
    return CheckResult(True, rotated, old, outcome, now, None, False)


def check_key(
    session: Session,
    tenant: Tenant,
    credentials: AzureCredentials,
    transport: Transport | None,
    *,
    actor: str,
) -> CheckResult:
    """Check a CMK tenant's Key Vault key now and record the outcome on ``tenant``.

    Reads the current version of the configured secret/key with ``credentials`` (the tenant's
    stored service principal) through ``transport`` (``Runtime.azure_transport``). Success: the
    version and ``cmk_verified_at`` are recorded, ``cmk_blocked`` and ``cmk_last_error``
    cleared; a new version stamps the history (reason ``cmk_rotate``, ``changed_by=actor``).
    Failure: ``cmk_last_error`` is set and, for unreachable / access_denied / not_found /
    unusable, ``cmk_blocked``; nothing is raised. Writes only through ``session`` (the caller
    commits), sends no email (the caller does: ``emails.key_rotated`` when ``rotated``) and
    writes no audit entry. The vault is called while the session's transaction is open: callers
    that must not hold a transaction that long call ``probe`` first, then ``record_check``.
    Raises CmkNotConfigured when the tenant is not on CMK.
    """
    material = tenant_material(tenant)
    if tenant.encryption_mode != "cmk" or material is None:
        raise CmkNotConfigured()
    return record_check(
        session, tenant, material, probe(material, credentials, transport), actor=actor
    )


def stamp(
    session: Session,
    tenant: Tenant,
    mode: str,
    reason: str,
    actor: str,
    material: KeyMaterial | None,
    version: str | None,
    now: dt.datetime,
    previous_mode: str | None = None,
) -> None:
    EncryptionRepository(session, tenant.id).add_event(
        EncryptionEvent(
            mode=mode,
            previous_mode=previous_mode or tenant.encryption_mode,
            reason=reason,
            changed_at=now,
            changed_by=actor,
            vault_uri=material.vault_url if material else None,
            key_name=material.name if material else None,
            key_version=version,
        )
    )


def _cmk_inputs(runtime: Runtime, caller: Caller) -> tuple[KeyMaterial, AzureCredentials]:
    with transaction(runtime.sessions, readonly=True) as session:
        tenant = caller_tenant(session, caller)
        material = tenant_material(tenant)
        if tenant.encryption_mode != "cmk" or material is None:
            raise CmkNotConfigured()
        credentials = open_credentials(tenant, runtime.keys.credentials_key)
    if credentials is None:
        raise NoServicePrincipal()
    return material, credentials


# --- enable -------------------------------------------------------------------------------------


def enable_cmk(runtime: Runtime, caller: Caller, body: CmkEnable) -> CmkEnabled:
    """Test the vault with the stored service principal, then switch the tenant to it."""
    kind: MaterialKind = "key" if body.key_vault_key_name is not None else "secret"
    name = body.key_vault_key_name or body.key_vault_secret_name
    assert name is not None  # the schema holds exactly one
    try:
        material = KeyMaterial(vault_url(body.key_vault_url), name, kind)
    except VaultError as exc:
        raise InvalidInput(("body", "key_vault_url"), exc.detail) from None
    url = material.vault_url
    with transaction(runtime.sessions, readonly=True) as session:
        credentials = open_credentials(caller_tenant(session, caller), runtime.keys.credentials_key)
    if credentials is None:
        raise NoServicePrincipal()
    outcome = probe(material, credentials, runtime.azure_transport)
    if isinstance(outcome, VaultError):
        if outcome.kind == "invalid_url":
            raise InvalidInput(("body", "key_vault_url"), outcome.detail)
        raise DomainError(
            f"CMK connectivity test failed: {outcome.detail.rstrip('.')}. "
            "Fix the issue before enabling CMK."
        )
    now = utcnow()
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        stamp(session, tenant, "cmk", "cmk_configure", caller.actor, material, outcome, now)
        tenant.encryption_mode = "cmk"
        tenant.cmk_vault_url = material.vault_url
        tenant.cmk_secret_name = material.name if material.kind == "secret" else None
        tenant.cmk_key_name = material.name if material.kind == "key" else None
        tenant.cmk_key_version, tenant.cmk_verified_at = outcome, now
        tenant.cmk_blocked, tenant.cmk_last_error = False, None
        # A switch back requested under the previous settings is void under the new ones.
        EncryptionRepository(session, tenant.id).remove_pending()
        audit.record(
            session,
            actor=caller.actor,
            action="encryption.cmk_enabled",
            tenant_id=tenant.id,
            target=f"tenant:{tenant.id}",
            details={
                "vault": url,
                "kind": material.kind,
                "name": material.name,
                "version": outcome,
            },
        )
        email = emails.cmk_enabled(
            tenant.owner_email,
            tenant.name,
            url,
            material.name,
            material.kind,
            outcome,
            caller.actor,
        )
        send_after_commit(session, runtime, email, "cmk_enabled_email", tenant.id)
    log.info("cmk_enabled tenant=%s kind=%s version=%s", caller.tenant_id, material.kind, outcome)
    return CmkEnabled(
        message="CMK enabled — future reports will be encrypted using your Key Vault "
        f"{material.kind}.",
        key_version=outcome,
        cmk_verified_at=now,
    )


def send_after_commit(
    session: Session, runtime: Runtime, email: Email, event: str, tenant_id: str
) -> None:
    # Mailed once the change is stored: an owner is never told of a change that rolled back.
    def deliver() -> None:
        emails.send(runtime.settings, email, event=event, tenant_id=tenant_id)

    after_commit(session, deliver)


# --- rotate -------------------------------------------------------------------------------------


def rotate(runtime: Runtime, caller: Caller) -> KeyRotation:
    """Re-read the key's current version; a new one is recorded, stamped and mailed."""
    material, credentials = _cmk_inputs(runtime, caller)
    outcome = probe(material, credentials, runtime.azure_transport)
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        result = record_check(session, tenant, material, outcome, actor=caller.actor)
        if result.rotated:
            audit.record(
                session,
                actor=caller.actor,
                action="encryption.key_rotated",
                tenant_id=tenant.id,
                target=f"tenant:{tenant.id}",
                details={"old_version": result.old_version, "new_version": result.new_version},
            )
            email = emails.key_rotated(
                tenant.owner_email,
                tenant.name,
                material.vault_url,
                material.name,
                result.old_version,
                str(result.new_version),
                caller.actor,
            )
            send_after_commit(session, runtime, email, "key_rotated_email", tenant.id)
    # Raised once the error is stored: the transaction above has committed.
    if result.error is not None:
        kind = result.error.kind.replace("_", " ")
        raise KeyVaultUnavailable(f"Key Vault check failed ({kind}): {result.error.detail}")
    assert result.new_version is not None
    assert result.verified_at is not None
    return KeyRotation(
        rotated=result.rotated,
        old_version=result.old_version,
        new_version=result.new_version,
        cmk_verified_at=result.verified_at,
        message="Key rotation confirmed — version fingerprint updated."
        if result.rotated
        else "Key version unchanged — fingerprint re-verified.",
    )
