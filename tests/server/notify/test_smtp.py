"""The SMTP transport against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.server.notify.loopback import (
    Collector,
    LoopbackController,
    Pki,
    Received,
    accept_only,
    issue_ca,
)
from tests.server.notify.mail import body, parse
from tutela.server.config import Settings
from tutela.server.notify import Email, EmailNotSent, Notifier, notifier_from

SENDER = "Tutela <alerts@tutela.example>"
LOGIN, PASSWORD = "alerts", "correct-horse-battery"
EMAIL = Email(
    to=("ops@example.com", "sec@example.com"),
    subject="Governance drift: tenant acme",
    text="The score fell from 91 to 80.\n",
    html="<p>The score fell from <b>91</b> to <b>80</b>.</p>\n",
)


@dataclass(frozen=True)
class Server:
    port: int
    collector: Collector

    @property
    def received(self) -> list[Received]:
        return self.collector.received


StartServer = Callable[..., Server]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return issue_ca(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls(pki: Pki) -> ssl.SSLContext:
    return pki.server_context("localhost", "127.0.0.1")


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Starts aiosmtpd servers with the given SMTP parameters; stops them all afterwards."""
    controllers: list[LoopbackController] = []

    def start(**smtp_parameters: Any) -> Server:
        collector = Collector()
        controller = LoopbackController(
            collector, hostname="127.0.0.1", port=0, server_hostname="localhost", **smtp_parameters
        )
        controllers.append(controller)
        controller.start()
        return Server(controller.port, collector)

    try:
        yield start
    finally:
        for controller in controllers:
            controller.stop(no_assert=True)


def smtp_settings(tmp_path: Path, port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "email_from": SENDER,
        "smtp_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return make_settings(tmp_path, **values)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_starttls_to_a_verified_server_delivers(
    tmp_path: Path,
    start_server: StartServer,
    tls: ssl.SSLContext,
    pki: Pki,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tutela.notify")
    server = start_server(tls_context=tls, require_starttls=True)
    notifier_from(smtp_settings(tmp_path, server.port, smtp_ca_file=pki.ca_file)).send(EMAIL)

    [received] = server.received
    assert received.over_tls
    assert received.mail_from == "alerts@tutela.example"
    assert received.rcpt_tos == ["ops@example.com", "sec@example.com"]
    message = parse(received.content)
    assert message["From"] == SENDER
    assert message["Subject"] == EMAIL.subject
    assert message["Message-ID"].endswith("@tutela.example>")
    assert body(message, "plain") == EMAIL.text
    assert body(message, "html") == EMAIL.html
    [line] = [r.getMessage() for r in caplog.records if r.name == "tutela.notify"]
    assert line == (
        'email_sent to=ops@example.com,sec@example.com subject="Governance drift: tenant acme" '
        "via=smtp host=127.0.0.1"
    )


def test_login_refused_then_accepted_and_the_password_never_logged(
    tmp_path: Path,
    start_server: StartServer,
    tls: ssl.SSLContext,
    pki: Pki,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_server(
        tls_context=tls,
        require_starttls=True,
        authenticator=accept_only(LOGIN, PASSWORD),
        auth_required=True,
    )

    def notifier(password: str) -> Notifier:
        return notifier_from(
            smtp_settings(
                tmp_path,
                server.port,
                smtp_ca_file=pki.ca_file,
                smtp_username=LOGIN,
                smtp_password=password,
            )
        )

    wrong = notifier("not-the-password")
    with pytest.raises(EmailNotSent, match=r"^SMTP 127\.0\.0\.1:\d+: login refused: 535 ") as exc:
        wrong.send(EMAIL)
    assert "not-the-password" not in str(exc.value)
    assert server.received == []

    right = notifier(PASSWORD)
    right.send(EMAIL)
    [received] = server.received
    assert (received.login, received.over_tls) == (LOGIN, True)
    assert PASSWORD not in caplog.text
    assert "not-the-password" not in caplog.text
    assert PASSWORD not in repr(right.transport)


def test_starttls_required_but_not_offered_sends_nothing(
    tmp_path: Path, start_server: StartServer
) -> None:
    server = start_server()
    notifier = notifier_from(smtp_settings(tmp_path, server.port))
    with pytest.raises(EmailNotSent) as exc:
        notifier.send(EMAIL)
    assert str(exc.value) == f"SMTP 127.0.0.1:{server.port}: STARTTLS not offered by the server"
    assert server.received == []


def test_starttls_turned_off_sends_in_clear(tmp_path: Path, start_server: StartServer) -> None:
    server = start_server()
    notifier_from(smtp_settings(tmp_path, server.port, smtp_starttls=False)).send(EMAIL)
    [received] = server.received
    assert not received.over_tls


def test_untrusted_certificate_is_refused(
    tmp_path: Path, start_server: StartServer, tls: ssl.SSLContext
) -> None:
    server = start_server(tls_context=tls, require_starttls=True)
    notifier = notifier_from(smtp_settings(tmp_path, server.port))  # system CAs only
    with pytest.raises(EmailNotSent, match="certificate not trusted"):
        notifier.send(EMAIL)
    assert server.received == []


def test_certificate_for_another_host_is_refused(
    tmp_path: Path, start_server: StartServer, pki: Pki
) -> None:
    server = start_server(tls_context=pki.server_context("mail.example.org"), require_starttls=True)
    notifier = notifier_from(smtp_settings(tmp_path, server.port, smtp_ca_file=pki.ca_file))
    with pytest.raises(EmailNotSent, match=r"certificate not trusted.*mismatch.*127\.0\.0\.1"):
        notifier.send(EMAIL)
    assert server.received == []


def test_nobody_listening_fails_fast(tmp_path: Path) -> None:
    port = free_port()
    notifier = notifier_from(smtp_settings(tmp_path, port, smtp_timeout_seconds=0.5))
    started = time.monotonic()
    with pytest.raises(EmailNotSent) as exc:
        notifier.send(EMAIL)
    assert time.monotonic() - started < 2
    assert str(exc.value) == f"SMTP 127.0.0.1:{port}: Connection refused"


def test_a_silent_server_times_out(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        notifier = notifier_from(smtp_settings(tmp_path, port, smtp_timeout_seconds=0.3))
        started = time.monotonic()
        with pytest.raises(EmailNotSent) as exc:
            notifier.send(EMAIL)
        elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 2
    assert str(exc.value) == f"SMTP 127.0.0.1:{port}: no answer (timed out)"


def test_a_missing_ca_file_is_named(
    tmp_path: Path, start_server: StartServer, tls: ssl.SSLContext
) -> None:
    server = start_server(tls_context=tls, require_starttls=True)
    missing = tmp_path / "no-such-ca.pem"
    notifier = notifier_from(smtp_settings(tmp_path, server.port, smtp_ca_file=missing))
    with pytest.raises(EmailNotSent) as exc:
        notifier.send(EMAIL)
    assert str(exc.value) == (
        f"SMTP 127.0.0.1:{server.port}: CA file {missing}: No such file or directory"
    )
    assert server.received == []
