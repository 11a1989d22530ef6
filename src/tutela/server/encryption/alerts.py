"""The owner's alert when a tenant's Key Vault key stops being usable: sent once per transition
to blocked, by whichever notices it first (a request through the keyring, or the health check).
It names the vault, the key and the cause; never a secret value or token."""

from __future__ import annotations

from tutela.server.config import Settings
from tutela.server.encryption import emails
from tutela.server.notify import Email
from tutela.server.tenants.models import Tenant


def key_unavailable(to: str, tenant_name: str, vault: str, name: str, cause: str) -> Email:
    lines = [
        f"Tutela can no longer use the Key Vault key of {tenant_name}.",
        "",
        f"Key Vault: {vault}",
        f"Name: {name}",
        f"Cause: {cause}",
        "",
        "Until access is restored, scans, snapshot uploads and report reads answer 503: nothing "
        "is stored under another key. Restore the service principal's access to the key (or "
        "re-enable it); the next successful use, or POST /tenant/encryption/rotate, clears this.",
    ]
    subject = f"Tutela: your Key Vault key is unavailable for {' '.join(tenant_name.split())}"
    return Email(to=to, subject=subject, text="\n".join(lines))


def send_key_unavailable(settings: Settings, tenant: Tenant, cause: str) -> bool:
    """Mail the owner that the tenant's key became unavailable; False if it was not sent."""
    name = tenant.cmk_secret_name or tenant.cmk_key_name or "(not set)"
    email = key_unavailable(
        tenant.owner_email, tenant.name, tenant.cmk_vault_url or "(not set)", name, cause
    )
    return emails.send(settings, email, event="cmk_unavailable_email", tenant_id=tenant.id)
