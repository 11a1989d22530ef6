"""The outbox transport: every message becomes one ``.eml`` file in a folder.

It is the default (no ``TUTELA_SMTP_HOST``), so a self-hosted platform can mail without an SMTP
relay and a developer can read what would have been sent. Read the outbox with
``ls $TUTELA_DATA_DIR/outbox`` (or ``TUTELA_OUTBOX_DIR``): names start with the UTC time they were
written (``20261123T143005.123456Z-1a2b3c4d.eml``), so they sort oldest first, and any mail
client opens a ``.eml`` file. A file appears complete or not at all: it is written under a hidden
temporary name in the same folder, then renamed. Files are readable by their owner only, since
messages may carry one-time tokens.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

from tutela.server.notify.message import EmailNotSent, log_fields

log = logging.getLogger("tutela.notify")


class OutboxTransport:
    """Writes each message as an RFC 5322 file (CRLF line endings) into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, message: EmailMessage) -> None:
        target = self.folder / _file_name()
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write_atomically(target, message.as_bytes(policy=policy.SMTP))
        except OSError as exc:
            cause = exc.strerror or str(exc)
            raise EmailNotSent(f"outbox {self.folder}: {cause}") from exc
        log.info("email_written %s file=%s", log_fields(message), target)


def _file_name() -> str:
    # Microseconds order files written within one second; the random part keeps them apart.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}.eml"


def _write_atomically(target: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
