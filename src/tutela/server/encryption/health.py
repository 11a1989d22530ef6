"""The key health check, every ``TUTELA_KEY_HEALTH_INTERVAL_HOURS`` (24 by default): every CMK
tenant's Key Vault key checked as the rotate endpoint checks it (``service.probe`` then
``service.record_check``, as "health check").

A failure is recorded in ``cmk_last_error`` (and ``cmk_blocked`` for a key that cannot be used)
and the owner is mailed once, when the key becomes unavailable, not at every check while it
stays so. A new version is recorded, stamped in the history, audited and mailed, as a manual
rotation is. The vault is asked outside any transaction; each tenant is recorded in its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from tutela.server.audit import service as audit
from tutela.server.db import transaction
from tutela.server.encryption import emails
from tutela.server.encryption.alerts import send_key_unavailable
from tutela.server.encryption.keyring import CMK, tenant_material
from tutela.server.encryption.service import CheckResult, probe, record_check
from tutela.server.encryption.vault import VaultError
from tutela.server.errors import Conflict
from tutela.server.runtime import Runtime
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.service import open_credentials

log = logging.getLogger("tutela.encryption")

ACTOR = "health check"


@dataclass(frozen=True)
class HealthReport:
    checked: int
    failed: int
    rotated: int
    newly_blocked: int

    @property
    def detail(self) -> str:
        return (
            f"{self.checked} CMK tenant(s) checked: {self.failed} failed "
            f"({self.newly_blocked} newly blocked), {self.rotated} rotation(s) detected"
        )


def check_all(runtime: Runtime) -> HealthReport:
    """Check every CMK tenant's key now."""
    with transaction(runtime.sessions, readonly=True) as session:
        tenant_ids = list(
            session.scalars(
                select(Tenant.id).where(Tenant.encryption_mode == CMK).order_by(Tenant.id)
            )
        )
    results = [r for r in (check_tenant(runtime, t) for t in tenant_ids) if r is not None]
    return HealthReport(
        checked=len(results),
        failed=sum(not r.ok for r in results),
        rotated=sum(r.rotated for r in results),
        newly_blocked=sum(r.became_blocked for r in results),
    )


def check_tenant(runtime: Runtime, tenant_id: str) -> CheckResult | None:
    """Check one tenant's key and record the outcome; None when it is no longer on CMK or its
    settings changed during the check (the next check sees the new ones)."""
    with transaction(runtime.sessions, readonly=True) as session:
        tenant = session.get(Tenant, tenant_id)
        material = tenant_material(tenant) if tenant is not None else None
        if tenant is None or tenant.encryption_mode != CMK or material is None:
            return None
        credentials = open_credentials(tenant, runtime.keys.credentials_key)
    outcome: str | VaultError = (
        VaultError("sign_in", "no Azure service principal is stored to reach the vault")
        if credentials is None
        else probe(material, credentials, runtime.azure_transport)
    )
    with transaction(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            return None
        try:
            result = record_check(session, tenant, material, outcome, actor=ACTOR)
        except Conflict:
            log.info("cmk_health_check_skipped tenant=%s reason=settings_changed", tenant_id)
            return None
        if result.rotated:
            audit.record(
                session,
                actor=ACTOR,
                action="encryption.key_rotated",
                tenant_id=tenant.id,
                target=f"tenant:{tenant.id}",
                details={"old_version": result.old_version, "new_version": result.new_version},
            )
    # Mailed once the outcome is stored: an owner is never told of a change that rolled back.
    if result.rotated:
        email = emails.key_rotated(
            tenant.owner_email,
            tenant.name,
            material.vault_url,
            material.name,
            result.old_version,
            str(result.new_version),
            ACTOR,
        )
        emails.send(runtime.settings, email, event="key_rotated_email", tenant_id=tenant.id)
    if result.became_blocked and result.error is not None:
        cause = f"{result.error.kind}: {result.error.detail}"
        send_key_unavailable(runtime.settings, tenant, cause)
    return result
