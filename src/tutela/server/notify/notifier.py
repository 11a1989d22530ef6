"""The notifier: composes an `Email` and hands it to the transport the settings choose."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from tutela.server.config import Settings
from tutela.server.notify.message import Email, compose
from tutela.server.notify.outbox import OutboxTransport
from tutela.server.notify.smtp import SmtpTransport
from tutela.server.tracing import traced


class Transport(Protocol):
    def deliver(self, message: EmailMessage) -> None:
        """Deliver the message or raise `EmailNotSent`."""


class Notifier:
    """Sends emails from one sender through one transport."""

    def __init__(self, transport: Transport, *, sender: str) -> None:
        self.transport = transport
        self.sender = sender

    @traced("notify")
    def send(self, email: Email) -> None:
        """Deliver ``email``; raises `EmailNotSent` when the transport fails."""
        self.transport.deliver(compose(email, sender=self.sender))


def notifier_from(settings: Settings) -> Notifier:
    """SMTP when ``smtp_host`` is set, otherwise the outbox folder."""
    transport: Transport
    if settings.smtp_host:
        transport = SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            ca_file=settings.smtp_ca_file,
            timeout_seconds=settings.smtp_timeout_seconds,
        )
    else:
        transport = OutboxTransport(settings.resolved_outbox_dir)
    return Notifier(transport, sender=settings.email_from)
