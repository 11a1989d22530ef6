"""Log lines: one per event, whatever a caller puts in a path, a name or an error message."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import DemoServer
from tutela.server.observability import EscapingFormatter, LogFields

FORGED = "2026-12-06 00:00:00,000 level=ERROR logger=tutela.auth cid=- sign_in_failed"
LINE_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} level=")


def rendered(message: str, *args: object, exc: bool = False) -> str:
    record = logging.LogRecord("tutela.http", logging.INFO, __file__, 1, message, args, None)
    record.correlation_id = "-"
    if exc:
        try:
            raise ValueError("bad\ninput")
        except ValueError:
            record.exc_info = sys.exc_info()
    return EscapingFormatter("level=%(levelname)s %(message)s").format(record)


def test_arguments_are_escaped_and_quoted_never_a_second_line() -> None:
    line = rendered("request path=%s status=%s", f"/x\n{FORGED}", 404)
    assert "\n" not in line
    assert line == f'level=INFO request path="/x\\n{FORGED}" status=404'


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain", "plain"),
        ("", '""'),
        ("a b", '"a b"'),
        ("k=v", '"k=v"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", "back\\\\slash"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("cr\rlf\n", "cr\\rlf\\n"),
        ("\u2028\u202e", "\\u2028\\u202e"),
    ],
)
def test_each_kind_of_value(value: str, shown: str) -> None:
    assert rendered("v=%s", value) == f"level=INFO v={shown}"


def test_numbers_keep_their_format_and_prerendered_fields_are_not_quoted() -> None:
    assert rendered("ms=%.1f n=%d", 1.25, 3) == "level=INFO ms=1.2 n=3"
    fields = LogFields('to=a@example.com subject="Drift\nnow"')
    assert (
        rendered("email_sent %s", fields)
        == 'level=INFO email_sent to=a@example.com subject="Drift\\nnow"'
    )


def test_a_message_without_arguments_and_a_traceback_stay_on_the_line() -> None:
    line = rendered(f"built by a caller\n{FORGED}", exc=True)
    assert "\n" not in line
    assert "built by a caller\\n2026" in line
    assert "Traceback (most recent call last):\\n" in line
    assert "ValueError: bad\\ninput" in line


def test_other_handlers_see_the_record_as_logged(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tutela.test")
    handler = logging.StreamHandler()
    handler.setFormatter(EscapingFormatter("%(message)s"))
    logger.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO, logger="tutela.test"):
            logger.info("x=%s", "a b")
    finally:
        logger.removeHandler(handler)
    assert caplog.records[0].getMessage() == "x=a b"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DemoServer]:
    running = DemoServer(tmp_path)
    try:
        running.wait_until_serving()
        yield running
    finally:
        running.stop()


def test_a_newline_in_a_url_cannot_forge_a_log_line(server: DemoServer, tmp_path: Path) -> None:
    """A %0A in a URL wrote a `level=ERROR logger=tutela.auth` line of the caller's choosing."""
    encoded = FORGED.replace(" ", "%20")
    for path in (f"/report/x%0A{encoded}", f"/nothing%0D%0A{encoded}", f"/a%1B[31m%0A{encoded}"):
        httpx.get(f"{server.base_url}{path}", headers={"X-API-Key": "tut_x%0Ay"}, timeout=5)
    server.stop()

    lines = (tmp_path / "serve.log").read_text(encoding="utf-8").splitlines()
    events = [line for line in lines if "level=" in line]
    assert events, lines
    assert not [line for line in lines if line.startswith("2026-12-06 00:00:00")]
    forged = [line for line in events if "sign_in_failed" in line]
    assert len(forged) == 3
    for line in forged:
        assert LINE_START.match(line)
        assert "level=INFO logger=tutela.http" in line
        assert "\x1b" not in line
        assert "\r" not in line
        assert 'path="/' in line
