"""The emails that carry a one-time link: an invitation and a password reset. The token is
only inside the link; neither email says anything a stranger could use without it."""

from __future__ import annotations

import datetime as dt
import logging

from tutela.server.config import Settings
from tutela.server.notify import Email, EmailNotSent, notifier_from

log = logging.getLogger("tutela.auth")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def invitation(
    to: str, tenant_name: str, role: str, by: str, link: str, expires: dt.datetime
) -> Email:
    text = "\n".join(
        [
            f"{by} invited you to {' '.join(tenant_name.split())} on Tutela, as {role}.",
            "",
            "Choose your password to accept:",
            link,
            "",
            f"The link works once, until {_stamp(expires)}.",
            "If you did not expect this, ignore this email.",
        ]
    )
    return Email(to=to, subject="Tutela: you are invited", text=text)


def password_reset(to: str, link: str, expires: dt.datetime) -> Email:
    text = "\n".join(
        [
            "Someone (we hope you) asked to reset your Tutela password.",
            "",
            "Choose a new password here:",
            link,
            "",
            f"The link works once, until {_stamp(expires)}. Resetting signs you out everywhere.",
            "If you did not ask, ignore this email: your password is unchanged.",
        ]
    )
    return Email(to=to, subject="Tutela: reset your password", text=text)


def send(settings: Settings, email: Email, *, event: str) -> bool:
    """Deliver ``email``; a failure is logged (``<event>_not_sent``) and answered False."""
    try:
        notifier_from(settings).send(email)
    except EmailNotSent as exc:
        log.error("%s_not_sent detail=%s", event, exc)
        return False
    return True
