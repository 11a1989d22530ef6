"""``tutela gate --iac-out DIR``: a blocked run's remediation script, downloaded beside the verdict.

A convenience, never a verdict: every outcome here is one line and leaves the exit code to the
findings. The script is the report's ``GET /report/{id}/iac/azcli`` (Enterprise), written as
``DIR/<report id>-remediate.azcli.sh`` with mode 0644, and never over a different file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from tutela.cli.errors import err_console
from tutela.cli.gate_context import describe
from tutela.cli.text import shown
from tutela.redaction import redact

if TYPE_CHECKING:
    from tutela.sdk import Session

SCRIPT_FORMAT = "azcli"
SCRIPT_MODE = 0o644  # read and run with `bash FILE`, never executable by accident
SAFE_REPORT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def script_path(directory: Path, report_id: str) -> Path:
    return directory / f"{report_id}-remediate.azcli.sh"


class NotWritten(Exception):
    """Why the script was not written, as one line."""


def _place(path: Path, script: bytes) -> bool:
    """Write ``script`` at ``path``; False when the same bytes are there already.

    Created exclusively, so neither an existing file nor a symlink planted there is followed or
    overwritten: a different file raises :class:`NotWritten`.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # FileExistsError too: a file where a directory should be
        raise NotWritten(f"{path.parent}: cannot be created ({exc.strerror or exc})") from None
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SCRIPT_MODE)
    except FileExistsError:
        if not path.is_symlink() and path.is_file() and path.read_bytes() == script:
            return False
        raise NotWritten(
            f"{path} already exists with other content: not overwritten (move it away or choose "
            "another --iac-out)"
        ) from None
    except OSError as exc:
        raise NotWritten(f"{path}: cannot be written ({exc.strerror or exc})") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), SCRIPT_MODE)  # whatever the umask
            file.write(script)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise NotWritten(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return True


def export_script(
    console: Console, session: Session, report_id: str, directory: Path, url: str, key: str
) -> None:
    """Download the saved report's remediation script into ``directory``; one line whatever
    happens, and nothing raised: the gate's exit code stays the findings'."""
    from tutela.sdk import TutelaError

    def warn(text: str) -> None:
        line = redact(" ".join(text.split()), [key], "[redacted]") if key else text
        err_console.print(f"[yellow]warning:[/] {shown(line)}", markup=True)

    if not SAFE_REPORT_ID.fullmatch(report_id):
        warn("Remediation script not exported: the report id is not a safe file name.")
        return
    try:
        availability = session.reports.iac(report_id)
        if not availability.iac_available:
            console.print(
                f"No remediation script: none of report {report_id}'s findings is fixed by a "
                "configuration change (the portal steps are in each check's remediation)."
            )
            return
        script = session.reports.iac_script(report_id, SCRIPT_FORMAT)
    except TutelaError as exc:
        warn(f"Remediation script not exported: {describe(exc, url)}.")
        return
    path = script_path(directory, report_id)
    try:
        written = _place(path, script.encode())
    except NotWritten as exc:
        warn(f"Remediation script not exported: {exc}.")
        return
    count = availability.finding_count
    findings = f"{count} finding{'s' * (count != 1)}"
    if written:
        console.print(f"Remediation script {shown(str(path))} written: it fixes {findings}.")
    else:
        console.print(f"Remediation script {shown(str(path))} already there: it fixes {findings}.")
