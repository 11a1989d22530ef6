"""The platform's one email notifier: every feature that mails goes through `Notifier.send`.

Two transports, chosen by `notifier_from` from the settings:

- the outbox (default, no ``TUTELA_SMTP_HOST``): one ``.eml`` file per message in
  ``$TUTELA_DATA_DIR/outbox``; ``ls`` it, open any file with a mail client (see `outbox`);
- SMTP (``TUTELA_SMTP_HOST`` set): a relay reached with verified STARTTLS (see `smtp`).

A failed delivery raises `EmailNotSent`; callers decide whether to swallow it.

    notifier = notifier_from(settings)
    notifier.send(Email(to="ops@example.com", subject="Governance drift", text="Score fell."))
"""

from tutela.server.notify.message import Email, EmailNotSent
from tutela.server.notify.notifier import Notifier, Transport, notifier_from
from tutela.server.notify.outbox import OutboxTransport
from tutela.server.notify.smtp import SmtpTransport

__all__ = [
    "Email",
    "EmailNotSent",
    "Notifier",
    "OutboxTransport",
    "SmtpTransport",
    "Transport",
    "notifier_from",
]
