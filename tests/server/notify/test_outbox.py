"""The outbox transport: one complete .eml file per message, sortable, never colliding."""

from __future__ import annotations

import logging
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.server.notify.mail import body, parse
from tutela.server.notify import Email, EmailNotSent, notifier_from
from tutela.server.notify import outbox as outbox_module

FILE_NAME = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}\.eml$")
SECRET_BODY = "Your one-time token is tok_8f3a9c"
EMAIL = Email(
    to=("ops@example.com", "sec@example.com"),
    subject="Governance drift: tenant acme",
    text=f"The score fell.\n{SECRET_BODY}\n",
    html=f"<p>The score fell.</p><p>{SECRET_BODY}</p>\n",
)


def test_message_is_written_as_an_eml_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, email_from="Tutela <alerts@tutela.example>")
    assert not settings.resolved_outbox_dir.exists()

    notifier_from(settings).send(EMAIL)

    [path] = settings.resolved_outbox_dir.iterdir()
    assert FILE_NAME.match(path.name), path.name
    raw = path.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b""), "every line ends in CRLF"
    message = parse(path.read_bytes())
    assert message["From"] == "Tutela <alerts@tutela.example>"
    assert message["To"] == "ops@example.com, sec@example.com"
    assert message["Subject"] == EMAIL.subject
    assert message["Message-ID"].endswith("@tutela.example>")
    assert message["Date"].datetime.tzinfo is not None
    assert body(message, "plain") == EMAIL.text
    assert body(message, "html") == EMAIL.html
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "messages may hold one-time tokens"


def test_outbox_dir_setting_is_created(tmp_path: Path) -> None:
    folder = tmp_path / "mail" / "outbox"
    notifier_from(make_settings(tmp_path, outbox_dir=folder)).send(EMAIL)
    assert len(list(folder.glob("*.eml"))) == 1


def test_files_sort_in_the_order_they_were_written(tmp_path: Path) -> None:
    notifier = notifier_from(make_settings(tmp_path))
    for number in range(5):
        notifier.send(Email(to="ops@example.com", subject=f"message {number}", text="t"))
    files = sorted((tmp_path / "outbox").iterdir())
    assert [parse(path.read_bytes())["Subject"] for path in files] == [
        f"message {n}" for n in range(5)
    ]


def test_messages_written_at_the_same_instant_get_their_own_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instant = datetime(2026, 11, 23, 14, 30, 5, tzinfo=UTC)

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> FrozenClock:
            return cls.fromtimestamp(instant.timestamp(), tz=UTC)

    monkeypatch.setattr(outbox_module, "datetime", FrozenClock)
    notifier = notifier_from(make_settings(tmp_path))
    notifier.send(Email(to="ops@example.com", subject="first", text="t"))
    notifier.send(Email(to="ops@example.com", subject="second", text="t"))

    files = sorted((tmp_path / "outbox").iterdir())
    assert [path.name[:24] for path in files] == ["20261123T143005.000000Z-"] * 2
    assert {parse(path.read_bytes())["Subject"] for path in files} == {"first", "second"}


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    notifier = notifier_from(make_settings(tmp_path))
    notifier.send(EMAIL)
    notifier.send(EMAIL)
    names = os.listdir(tmp_path / "outbox")  # hidden files included
    assert len(names) == 2
    assert all(FILE_NAME.match(name) for name in names), names


def test_a_failed_write_leaves_nothing_and_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox_module.os, "replace", disk_full)
    with pytest.raises(EmailNotSent, match=r"^outbox .*outbox: No space left on device$"):
        notifier_from(make_settings(tmp_path)).send(EMAIL)
    assert os.listdir(tmp_path / "outbox") == []


def test_an_unusable_folder_raises(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    settings = make_settings(tmp_path, outbox_dir=tmp_path / "taken" / "outbox")
    with pytest.raises(EmailNotSent, match=r"^outbox .*taken/outbox: "):
        notifier_from(settings).send(EMAIL)


def test_log_line_names_the_file_but_not_the_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notifier_from(make_settings(tmp_path)).send(EMAIL)
    [path] = (tmp_path / "outbox").iterdir()
    [line] = [r.getMessage() for r in caplog.records if r.name == "tutela.notify"]
    assert line == (
        'email_written to=ops@example.com,sec@example.com subject="Governance drift: tenant '
        f'acme" file={path}'
    )
    assert [r.levelno for r in caplog.records if r.name == "tutela.notify"] == [logging.INFO]
    assert SECRET_BODY not in caplog.text
