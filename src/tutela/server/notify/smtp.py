"""The SMTP transport: hands each message to a relay (``TUTELA_SMTP_HOST``).

The connection is upgraded with STARTTLS unless ``TUTELA_SMTP_STARTTLS=false``; the relay's
certificate and host name are verified against the system's CAs or ``TUTELA_SMTP_CA_FILE``. A
relay that does not offer STARTTLS when it is required is refused: nothing is sent in clear.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from pydantic import SecretStr

from tutela.server.notify.message import EmailNotSent, log_fields

log = logging.getLogger("tutela.notify")


class SmtpTransport:
    """One SMTP session per message: connect, EHLO, STARTTLS, login, send, quit."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = True,
        ca_file: Path | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.starttls = starttls
        self.ca_file = ca_file
        self.timeout_seconds = timeout_seconds

    def __repr__(self) -> str:
        return f"SmtpTransport(host={self.host!r}, port={self.port}, username={self.username!r})"

    def deliver(self, message: EmailMessage) -> None:
        try:
            self._send(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise EmailNotSent(f"SMTP {self.host}:{self.port}: {_describe(exc)}") from exc
        log.info("email_sent %s via=smtp host=%s", log_fields(message), self.host)

    def _send(self, message: EmailMessage) -> None:
        context = self._tls_context() if self.starttls else None
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as client:
            client.ehlo()
            if context is not None:
                if not client.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("STARTTLS not offered by the server")
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                password = self._password.get_secret_value() if self._password else ""
                client.login(self.username, password)
            client.send_message(message)

    def _tls_context(self) -> ssl.SSLContext:
        """Verifies the certificate and the host name against the system's CAs or ca_file."""
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except OSError as exc:  # ssl.SSLError included: a file that holds no certificate
            cause = exc.strerror or str(exc)
            raise EmailNotSent(
                f"SMTP {self.host}:{self.port}: CA file {self.ca_file}: {cause}"
            ) from exc


def _describe(exc: BaseException) -> str:
    """One line saying what went wrong, from the server's reply or the OS; never a secret."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"server certificate not trusted ({exc.verify_message})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused: {_reply(exc)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"recipients refused: {', '.join(sorted(exc.recipients))}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"server replied {_reply(exc)}"
    # smtplib reports a timeout while awaiting a reply as a disconnection.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return "no answer (timed out)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
    return " ".join(f"{exc.smtp_code} {text}".split())
