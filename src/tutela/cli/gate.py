"""``tutela gate``: the CI/CD gate, a scan through the Tutela API that fails closed.

Exit 0 passed, 1 blocked, 2 bad usage or no report (the key refused, the server unreachable,
any answer that is not a 2xx report), 3 a bug. Unlike a ``curl | jq .critical_count`` step, a
scan that did not happen can never read as "0 critical findings".
"""

from __future__ import annotations

import itertools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from tutela.cli.errors import err_console
from tutela.cli.gate_context import ci_label, describe
from tutela.cli.gate_remediation import RemediationFormat, export_script
from tutela.cli.scan import SEVERITY_RANK, FailOn, gate_failed
from tutela.cli.text import shown
from tutela.redaction import redact

if TYPE_CHECKING:
    from tutela.sdk import Report, Session

INTERNAL_ERROR_EXIT = 3
USAGE_EXIT = 2
TABLE_ROWS = 30  # failing checks printed; the files hold them all
BASELINE_CANDIDATES = 10  # saved reports with the same frameworks read to find the baseline
REPORTS_LISTED = 500  # newest saved reports searched for it
IAC_SOURCES = frozenset({"terraform", "arm"})


class GateError(Exception):
    """Bad usage or no report: one line on stderr, exit 2."""


def _fail(message: str, secret: str) -> typer.Exit:
    line = redact(" ".join(message.split()), [secret], "[redacted]")
    err_console.print(f"[bold red]error:[/] {shown(line)}", markup=True)
    return typer.Exit(USAGE_EXIT)


# --- the scan and its baseline --------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    report_id: str
    score: int | None
    label: str | None


def _kind(report: Report) -> tuple[str, frozenset[str]]:
    """What makes two reports' scores comparable: the same source and the same subscriptions."""
    if report.source in IAC_SOURCES:
        return report.source or "", frozenset()
    return "estate", frozenset(s.lower() for s in report.subscriptions or ())


def previous_report(session: Session, current: Report) -> Baseline | None:
    """The newest saved report before ``current`` of the same kind, or None.

    Same kind: a manual report of the same frameworks and the same source (a Terraform plan, an
    ARM template, or the estate of the same subscriptions). Listings carry no source, so up to
    ``BASELINE_CANDIDATES`` reports with the same frameworks are read to find it.
    """
    frameworks = set(current.frameworks)
    kind = _kind(current)
    seen_self = current.report_id is None  # a dry run is not in the listing
    read = 0
    for summary in itertools.islice(session.reports.list(type="manual"), REPORTS_LISTED):
        if not seen_self:  # anything listed before this scan's own report is newer than it
            seen_self = summary.report_id == current.report_id
            continue
        if set(summary.frameworks) != frameworks:
            continue
        if read == BASELINE_CANDIDATES:
            return None
        read += 1
        if _kind(session.reports.get(summary.report_id)) == kind:
            return Baseline(summary.report_id, summary.aggregate_score, summary.label)
    return None


def _read_iac(path: Path) -> bytes:
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise GateError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    data = data.removeprefix(b"\xef\xbb\xbf")  # templates saved by Windows tools carry a BOM
    if data.lstrip()[:1] != b"{":  # e.g. the binary plan instead of its JSON; the API parses
        raise GateError(
            f"{path}: not a JSON document; give the output of `terraform show -json PLAN` or "
            "an ARM template"
        )
    return data


def _located(report: dict[str, Any], iac: Path | None) -> dict[str, Any]:
    """The report with IaC findings pointing at the file gated, not the request body (SARIF)."""
    if iac is None or str(iac) == "-":
        return report
    findings = []
    for finding in report.get("findings", []):
        origin = finding.get("origin")
        if isinstance(origin, str) and (origin == "body" or origin.startswith("body: ")):
            finding = {**finding, "origin": iac.as_posix() + origin[len("body") :]}
        findings.append(finding)
    return {**report, "findings": findings}


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise GateError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def _write_outputs(
    report: dict[str, Any],
    iac: Path | None,
    sarif: Path | None,
    junit: Path | None,
    json_out: Path | None,
) -> None:
    import orjson

    from tutela.scanner.outputs.junit import junit_xml
    from tutela.scanner.outputs.sarif import sarif_chunks

    if json_out is not None:
        _write(json_out, orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    if sarif is not None:
        _write(sarif, b"".join(sarif_chunks(_located(report, iac), None)) + b"\n")
    if junit is not None:
        _write(junit, junit_xml(report) + b"\n")


# --- the verdict ---------------------------------------------------------------------------------


def _at_or_above(report: dict[str, Any], fail_on: FailOn) -> str:
    threshold = SEVERITY_RANK.get(fail_on.value, -1)
    return ", ".join(
        f"{report[f'{severity}_count']} {severity}"
        for severity, rank in SEVERITY_RANK.items()
        if rank <= threshold and report.get(f"{severity}_count")
    )


def score_verdict(score: int | None, baseline: Baseline | None, limit: int) -> tuple[str, str]:
    """(what the comparison found, why it blocks or ""): blocks when the drop is over ``limit``."""
    if baseline is None:
        return (
            "No previous report of the same kind (same frameworks and source) to compare the "
            "score with: --max-score-drop not applied.",
            "",
        )
    named = baseline.report_id + (f" ({baseline.label})" if baseline.label else "")
    if score is None or baseline.score is None:
        return f"This report or {named} has no score: --max-score-drop not applied.", ""
    drop = baseline.score - score
    points = f"{abs(drop)} point{'s' * (abs(drop) != 1)}"
    change = f"fell {points}" if drop > 0 else f"rose {points}" if drop < 0 else "is unchanged"
    text = f"Score {change} since {named}: {baseline.score} → {score}/100"
    if drop > limit:
        return f"{text}.", f"the score fell {points} since {baseline.report_id}, more than " + (
            f"--max-score-drop {limit}"
        )
    return f"{text} (--max-score-drop {limit}).", ""


def _summarise(console: Console, report: dict[str, Any], score: str) -> None:
    from tutela.scanner.outputs.failing import failing_checks
    from tutela.scanner.outputs.table import render_table

    render_table(
        report,
        console,
        failing=failing_checks(report),  # most severe first
        max_rows=TABLE_ROWS,
        more_hint="all of them: --json, --sarif or --junit",
    )
    if report.get("report_id"):
        label = report.get("scan_label")
        where = f" · label {shown(str(label))}" if label else " · no label"
        console.print(f"Report [bold]{report['report_id']}[/] saved{where}")
    else:
        console.print("Dry run: the report was not saved and used no scan quota.")
    if score:
        console.print(shown(score))


def _verdict(console: Console, report: dict[str, Any], fail_on: FailOn, score_reason: str) -> bool:
    """Print why the gate blocks or passes; True when it blocks."""
    reasons = []
    if gate_failed(report, fail_on):
        found = _at_or_above(report, fail_on)
        reasons.append(f"{found} finding(s) at or above --fail-on {fail_on.value}")
    if score_reason:
        reasons.append(score_reason)
    if reasons:
        console.print(f"[bold red]BLOCKED[/]: {shown('; '.join(reasons))}.")
        return True
    why = (
        "--fail-on none, findings do not block"
        if fail_on is FailOn.none
        else f"no finding at or above --fail-on {fail_on.value}"
    )
    console.print(f"[bold green]PASSED[/]: {shown(why)}.")
    return False


def _console() -> Console:
    # CI logs are not terminals: rich would fold the tables at 80 columns.
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, soft_wrap=True, width=140 if wide else None)


# --- the command ---------------------------------------------------------------------------------


def _session(url: str, key: str, timeout: float, retries: int) -> Session:
    from tutela.sdk import Session

    try:
        return Session(url, key, timeout=timeout, retries=retries)
    except ValueError as exc:  # a URL the SDK cannot use
        raise GateError(str(exc)) from None


def _scan(
    session: Session,
    document: bytes | None,
    frameworks: list[str] | None,
    subscription: str | None,
    label: str | None,
    dry_run: bool,
) -> Report:
    if document is not None:
        return session.scans.iac(document, frameworks, label=label, dry_run=dry_run)
    scan = session.scans.dry_run if dry_run else session.scans.run
    return scan(frameworks, subscription_id=subscription, label=label)


def _compare(session: Session, report: Report, limit: int | None, url: str) -> tuple[str, str]:
    """The score comparison and why it blocks ("" if it does not); both "" without a limit."""
    from tutela.sdk import TutelaError

    if limit is None:
        return "", ""
    try:
        baseline = previous_report(session, report)
    except TutelaError as exc:
        saved = f"; this scan was saved as {report.report_id}" if report.report_id else ""
        raise GateError(
            f"{describe(exc, url)} (while looking for the previous report{saved})"
        ) from None
    return score_verdict(report.aggregate_score, baseline, limit)


def _remediation(
    console: Console,
    session: Session,
    report: Report,
    blocked: bool,
    directory: Path,
    url: str,
    key: str,
    fmt: str,
) -> None:
    """--iac-out: the script of a blocked, saved run; one line, never a change of exit code."""
    if report.report_id is None:
        console.print(
            "--iac-out ignored: a dry run saves no report, so there is no remediation script "
            "to export."
        )
    elif blocked:
        export_script(console, session, report.report_id, directory, url, key, fmt, report.source)


def gate(
    url: Annotated[
        str | None,
        typer.Option(envvar="TUTELA_URL", help="The Tutela API, e.g. https://tutela.example.com."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="TUTELA_API_KEY",
            show_default=False,
            help="A key with scan:run and report:read. Prefer the variable, from the CI's "
            "secret store: a command line shows in process lists.",
        ),
    ] = None,
    frameworks: Annotated[
        str | None,
        typer.Option(help="Comma-separated framework ids (default: every one of your plan)."),
    ] = None,
    subscription: Annotated[
        str | None,
        typer.Option(help="Scan this linked subscription only (default: every linked one)."),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(help="Stored with the report (default: the CI run, when one is detected)."),
    ] = None,
    iac: Annotated[
        Path | None,
        typer.Option(
            help="Gate a Terraform plan (terraform show -json) or an ARM template instead of "
            "the linked subscriptions; - reads standard input."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Scan in full; neither save the report nor use quota."),
    ] = False,
    fail_on: Annotated[
        FailOn, typer.Option(help="Block (exit 1) on a finding at or above this severity.")
    ] = FailOn.critical,
    max_score_drop: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Block when the score fell more than N points since the previous saved "
            "report of the same kind.",
        ),
    ] = None,
    sarif: Annotated[Path | None, typer.Option(help="Write SARIF 2.1.0 here.")] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the report as the API returned it.")
    ] = None,
    iac_out: Annotated[
        Path | None,
        typer.Option(
            help="When blocked, download the saved report's remediation (Enterprise) into this "
            "directory. A --dry-run has no saved report to export from.",
        ),
    ] = None,
    iac_format: Annotated[
        RemediationFormat,
        typer.Option(
            help="Format of the --iac-out remediation; auto: Terraform for a plan, ARM for an "
            "ARM template, Azure CLI for a live estate.",
        ),
    ] = RemediationFormat.auto,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait for each answer, a scan's included.")
    ] = 300.0,
    retries: Annotated[
        int, typer.Option(min=0, help="Extra attempts on lost connections, 429 and 502-504.")
    ] = 2,
) -> None:
    """Scan through the Tutela API and gate: exit 0 passed, 1 blocked, 2 usage or API error."""
    from tutela.sdk import TutelaError

    key, where = (api_key or "").strip(), (url or "").strip()
    console = _console()
    try:
        if not where:
            raise GateError("no API URL: pass --url or set TUTELA_URL")
        if not key:
            raise GateError(
                "no API key: set TUTELA_API_KEY (from your CI's secret store) or pass --api-key"
            )
        if iac is not None and subscription is not None:
            raise GateError("--subscription applies to estate scans, not to an --iac file")
        document = _read_iac(iac) if iac is not None else None
        if label is None and (detected := ci_label(os.environ)) is not None:
            label = detected[0]
            console.print(f"Label {shown(label)} (detected from {detected[1]})")
        chosen = [f.strip() for f in frameworks.split(",") if f.strip()] if frameworks else None
        what = f"{iac} (IaC)" if iac else f"subscription {subscription}" if subscription else ""
        console.print(
            f"Scanning {shown(what or 'the linked subscriptions')} through {shown(where)}"
            + (" (dry run)" if dry_run else "")
        )
        with _session(where, key, timeout, retries) as session:
            report = _scan(session, document, chosen, subscription, label or None, dry_run)
            score, score_reason = _compare(session, report, max_score_drop, where)
            raw = report.raw  # the body as the API sent it
            _write_outputs(raw, iac, sarif, junit, json_out)
            _summarise(console, raw, score)
            blocked = _verdict(console, raw, fail_on, score_reason)
            if iac_out is not None:
                _remediation(
                    console, session, report, blocked, iac_out, where, key, iac_format.value
                )
    except GateError as exc:
        raise _fail(str(exc), key) from None
    except TutelaError as exc:
        raise _fail(describe(exc, where), key) from None
    raise typer.Exit(1 if blocked else 0)
