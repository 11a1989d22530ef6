"""What a notification says (`Email`) and how it becomes an RFC 5322 message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.headerregistry import AddressHeader
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from tutela.server.observability import LogFields


class EmailNotSent(Exception):
    """Delivery failed; the message is one line naming the transport and the cause."""


@dataclass(frozen=True)
class Email:
    """One notification: plain text always, HTML as an optional alternative."""

    to: tuple[str, ...] | str
    subject: str
    text: str
    html: str | None = None

    def __post_init__(self) -> None:
        if not self.recipients:
            raise ValueError("an email needs at least one recipient")
        for address in self.recipients:
            require_one_line("recipient", address)
        require_one_line("subject", self.subject)

    @property
    def recipients(self) -> tuple[str, ...]:
        return (self.to,) if isinstance(self.to, str) else self.to


def require_one_line(field: str, value: str) -> None:
    """Refuse line breaks in a header value: they would let it smuggle in other headers."""
    # splitlines() also breaks on \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029.
    if "\r" in value or "\n" in value or len(value.splitlines()) > 1:
        raise ValueError(f"the {field} of an email must not contain line breaks")


def compose(email: Email, *, sender: str) -> EmailMessage:
    """The message as sent: From, To, Subject, Date, Message-ID, text and optional HTML."""
    require_one_line("sender", sender)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.recipients)
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    # An explicit domain: without one make_msgid asks the resolver for this host's FQDN.
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


def _domain_of(sender: str) -> str:
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


def log_fields(message: EmailMessage) -> LogFields:
    """``to=… subject=…`` for a log line: addresses only, the subject quoted, never the body."""
    to = message["To"]
    addresses = [a.addr_spec for a in to.addresses] if isinstance(to, AddressHeader) else [to]
    subject = json.dumps(str(message["Subject"]), ensure_ascii=False)
    return LogFields(f"to={','.join(addresses)} subject={subject}")
