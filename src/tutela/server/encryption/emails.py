"""The emails of the CMK lifecycle, to the tenant's owner. They name vaults, keys and versions;
never a secret value, and the one-time token only inside the confirmation link."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

from tutela.server.config import Settings
from tutela.server.notify import Email, EmailNotSent, notifier_from

log = logging.getLogger("tutela.encryption")

# The portal page that confirms the switch back to the platform key: it calls
# POST /tenant/encryption/confirm-pmk with the token it carries, as the owner.
CONFIRM_PMK_PAGE = "/portal/encryption/confirm-pmk"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def confirm_pmk_link(public_url: str, token: str) -> str:
    return f"{public_url}{CONFIRM_PMK_PAGE}?{urlencode({'token': token})}"


def cmk_enabled(
    to: str, tenant_name: str, vault: str, name: str, kind: str, version: str, by: str
) -> Email:
    lines = [
        f"Customer-managed keys are now on for {tenant_name}.",
        "",
        f"Key Vault: {vault}",
        f"{kind.capitalize()}: {name} (version {version})",
        f"Enabled by: {by}",
        "",
        "From now on the data key of every new report and snapshot is wrapped with this "
        f"{kind}. Reports stored before keep the key that sealed them.",
        "Do not delete or disable it while reports sealed with it are kept: they could no "
        "longer be read.",
    ]
    subject = f"Tutela: customer-managed key enabled for {_one_line(tenant_name)}"
    return Email(to=to, subject=subject, text="\n".join(lines))


def key_rotated(
    to: str, tenant_name: str, vault: str, name: str, old: str | None, new: str, by: str
) -> Email:
    lines = [
        f"A new version of the Key Vault key of {tenant_name} was detected.",
        "",
        f"Key Vault: {vault}",
        f"Name: {name}",
        f"Previous version: {old or '(none recorded)'}",
        f"Current version: {new}",
        f"Detected by: {by}",
        "",
        "New reports are sealed with the current version; older reports stay readable with the "
        "version that sealed them, so keep earlier versions enabled.",
    ]
    subject = f"Tutela: Key Vault key rotation detected for {_one_line(tenant_name)}"
    return Email(to=to, subject=subject, text="\n".join(lines))


def pmk_confirmation(
    to: str, tenant_name: str, link: str, expires_at: dt.datetime, by: str
) -> Email:
    lines = [
        f"{by} asked to switch {tenant_name} from your customer-managed key back to "
        "Tutela's platform-managed key.",
        "",
        f"To confirm, use this link before {_stamp(expires_at)} (30 minutes, one use):",
        link,
        "It opens the web portal (sign in as the owner if asked), which shows what will "
        "happen and a button to confirm.",
        "Or confirm from a script with the token the link carries: POST "
        "/tenant/encryption/confirm-pmk, the token as its token query parameter, with an "
        "owner's API key (encryption:write), or session.encryption.confirm_pmk(token) in the "
        "SDK.",
        "",
        "Reports sealed with your Key Vault key stay bound to it after the switch: do not "
        "delete or disable the key, or they can no longer be read.",
        "If you did not ask for this, ignore this email: nothing changes without the link.",
    ]
    subject = f"Tutela: confirm the switch to the platform key for {_one_line(tenant_name)}"
    return Email(to=to, subject=subject, text="\n".join(lines))


def pmk_confirmed(to: str, tenant_name: str, by: str, warning: str | None) -> Email:
    lines = [
        f"{tenant_name} now uses Tutela's platform-managed key for new reports and snapshots.",
        f"Confirmed by: {by}",
        "",
        warning or "Reports sealed with your Key Vault key stay bound to it: keep the key enabled.",
    ]
    subject = f"Tutela: switched to the platform key for {_one_line(tenant_name)}"
    return Email(to=to, subject=subject, text="\n".join(lines))


def send(settings: Settings, email: Email, *, event: str, tenant_id: str) -> bool:
    """Deliver ``email``; a failure is logged (``<event>_not_sent``) and answered False."""
    try:
        notifier_from(settings).send(email)
    except EmailNotSent as exc:
        log.error("%s_not_sent tenant=%s detail=%s", event, tenant_id, exc)
        return False
    return True
