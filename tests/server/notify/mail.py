"""Reading a sent message back, as a mail client would."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser


def parse(content: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(content)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    """The text of the message's text/<subtype> part, with LF line ends (the wire has CRLF)."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content: str = part.get_content()
    return content.replace("\r\n", "\n")
