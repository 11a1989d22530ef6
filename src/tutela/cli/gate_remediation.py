"""``tutela gate --iac-out DIR``: a blocked run's remediation, downloaded beside the verdict.

A convenience, never a verdict: every outcome here is one line and leaves the exit code to the
findings. The remediation is the report's ``GET /report/{id}/iac/{fmt}`` (Enterprise), in the
format ``--iac-format`` names; ``auto`` follows what was scanned: Terraform for a plan, an ARM
template for an ARM template, Azure CLI for a live estate. Files are written with mode 0644, and
never over a different file:

- azcli: ``DIR/<report id>-remediate.azcli.sh``
- arm: ``DIR/<report id>-remediate.arm.json``; bicep: ``DIR/<report id>-remediate.bicep``
- terraform: ``DIR/<report id>-remediate.terraform/`` holding each file of the output
  (``tutela_override.tf`` and ``tutela_remediation.tf`` for a plan, a module's in a folder named
  by its address, e.g. ``module.chat/``; a root module for a live estate)
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from tutela.cli.errors import err_console
from tutela.cli.gate_context import describe
from tutela.cli.text import shown
from tutela.redaction import redact

if TYPE_CHECKING:
    from tutela.sdk import Session


class RemediationFormat(StrEnum):
    auto = "auto"
    azcli = "azcli"
    arm = "arm"
    bicep = "bicep"
    terraform = "terraform"


SCRIPT_MODE = 0o644  # read and run with `bash FILE`, never executable by accident
SAFE_REPORT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SUFFIX = {"azcli": "azcli.sh", "arm": "arm.json", "bicep": "bicep"}


def chosen_format(requested: str, source: str | None) -> str:
    """The format to download: ``requested``, or for ``auto`` the one that fits the source."""
    if requested != "auto":
        return requested
    return {"terraform": "terraform", "arm": "arm"}.get(source or "", "azcli")


def script_path(directory: Path, report_id: str, fmt: str = "azcli") -> Path:
    """Where a one-file format is written; Terraform's files go in :func:`terraform_dir`."""
    return directory / f"{report_id}-remediate.{_SUFFIX[fmt]}"


def terraform_dir(directory: Path, report_id: str) -> Path:
    return directory / f"{report_id}-remediate.terraform"


def files_of(directory: Path, report_id: str, fmt: str, text: str) -> dict[Path, bytes]:
    """Each file a downloaded remediation is written as."""
    if fmt != "terraform":
        return {script_path(directory, report_id, fmt): text.encode()}
    from tutela.scanner.outputs.iac.terraform import split_files

    folder = terraform_dir(directory, report_id)
    files: dict[Path, bytes] = {}
    for name, content in split_files(text).items():
        # "tutela_override.tf", or a module's "module.chat/tutela_override.tf": nothing else
        parts = name.split("/")
        if not all(SAFE_FILE_NAME.fullmatch(part) and part != ".." for part in parts):
            raise NotWritten(f"the server named a file {name!r}: not a plain relative path")
        files[folder.joinpath(*parts)] = content.encode()
    return files


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
    console: Console,
    session: Session,
    report_id: str,
    directory: Path,
    url: str,
    key: str,
    fmt: str = "azcli",
    source: str | None = None,
) -> None:
    """Download the saved report's remediation into ``directory`` in ``fmt`` (or ``auto``); one
    line whatever happens, and nothing raised: the gate's exit code stays the findings'."""
    from tutela.sdk import TutelaError

    def warn(text: str) -> None:
        line = redact(" ".join(text.split()), [key], "[redacted]") if key else text
        err_console.print(f"[yellow]warning:[/] {shown(line)}", markup=True)

    if not SAFE_REPORT_ID.fullmatch(report_id):
        warn("Remediation script not exported: the report id is not a safe file name.")
        return
    fmt = chosen_format(fmt, source)
    try:
        availability = session.reports.iac(report_id)
        if not availability.iac_available:
            console.print(
                f"No remediation script: none of report {report_id}'s findings is fixed by a "
                "configuration change (the portal steps are in each check's remediation)."
            )
            return
        text = session.reports.iac_script(report_id, fmt)
    except TutelaError as exc:
        warn(f"Remediation script not exported: {describe(exc, url)}.")
        return
    try:
        files = files_of(directory, report_id, fmt, text)
        written = [_place(path, content) for path, content in files.items()]
    except NotWritten as exc:
        warn(f"Remediation script not exported: {exc}.")
        return
    count = availability.finding_count
    findings = f"{count} finding{'s' * (count != 1)}"
    if fmt == "terraform":
        folder = terraform_dir(directory, report_id)
        state = "written" if any(written) else "already there"
        console.print(
            f"Remediation files ({len(files)}) {state} in {shown(str(folder))}: "
            f"they fix {findings}."
        )
        return
    [path] = files
    if written[0]:
        console.print(f"Remediation script {shown(str(path))} written: it fixes {findings}.")
    else:
        console.print(f"Remediation script {shown(str(path))} already there: it fixes {findings}.")
