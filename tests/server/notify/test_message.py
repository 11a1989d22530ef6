"""Composing messages: headers, parts, and no header injection through line breaks."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tutela.server.notify import Email, OutboxTransport, SmtpTransport, notifier_from
from tutela.server.notify.message import compose


def test_message_headers_and_parts() -> None:
    email = Email(to="ops@example.com", subject="Drift", text="plain\n", html="<p>html</p>\n")
    message = compose(email, sender="Tutela <alerts@tutela.example>")
    assert message["From"] == "Tutela <alerts@tutela.example>"
    assert message["To"] == "ops@example.com"
    assert message["Subject"] == "Drift"
    assert parsedate_to_datetime(message["Date"]).utcoffset() is not None
    assert message["Message-ID"].endswith("@tutela.example>")
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]


def test_text_only_message_is_not_multipart() -> None:
    message = compose(Email(to=("a@x.example",), subject="s", text="t\n"), sender="a@x.example")
    assert message.get_content_type() == "text/plain"


def test_one_address_or_several() -> None:
    assert Email(to="a@x.example", subject="s", text="t").recipients == ("a@x.example",)
    several = Email(to=("a@x.example", "b@x.example"), subject="s", text="t")
    assert compose(several, sender="t@x.example")["To"] == "a@x.example, b@x.example"


@pytest.mark.parametrize(
    "subject",
    ["Drift\r\nBcc: victim@example.com", "Drift\nBcc: x@y", "Drift\r", "Drift\u2028Bcc: x@y"],
)
def test_line_breaks_in_the_subject_are_refused(subject: str) -> None:
    with pytest.raises(ValueError, match="subject of an email must not contain line breaks"):
        Email(to="ops@example.com", subject=subject, text="t")


@pytest.mark.parametrize(
    "to", ["ops@example.com\r\nBcc: victim@example.com", ("ok@example.com", "x@y\nBcc: z@w")]
)
def test_line_breaks_in_an_address_are_refused(to: str | tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="recipient of an email must not contain line breaks"):
        Email(to=to, subject="s", text="t")


def test_line_breaks_in_the_sender_are_refused(tmp_path: Path) -> None:
    notifier = notifier_from(make_settings(tmp_path, email_from="a@x.example\r\nBcc: z@w"))
    with pytest.raises(ValueError, match="sender of an email must not contain line breaks"):
        notifier.send(Email(to="ops@example.com", subject="s", text="t"))
    assert not (tmp_path / "outbox").exists()


def test_an_email_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="at least one recipient"):
        Email(to=(), subject="s", text="t")


def test_notifier_from_settings_picks_the_transport(tmp_path: Path) -> None:
    outbox = notifier_from(make_settings(tmp_path)).transport
    assert isinstance(outbox, OutboxTransport)
    assert outbox.folder == tmp_path / "outbox"
    smtp = notifier_from(make_settings(tmp_path, smtp_host="mail.example.com", smtp_port=2525))
    assert isinstance(smtp.transport, SmtpTransport)
    assert (smtp.transport.host, smtp.transport.port) == ("mail.example.com", 2525)
