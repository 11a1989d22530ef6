"""``tutela scan``: the offline scanner and gate over Resource Graph exports, ARM and Terraform."""

from __future__ import annotations

import datetime as dt
import gc
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tutela.cli import one_shot
from tutela.cli.config import use_config
from tutela.cli.errors import err_console, fail
from tutela.cli.text import plain

if TYPE_CHECKING:
    from tutela.cli.baseline import Baseline, Comparison
    from tutela.cli.scan_reports import Destination
    from tutela.scanner.acceptance import Acceptance
    from tutela.scanner.catalog import Catalog
    from tutela.scanner.narrative import Narrator

USAGE_EXIT = 2  # bad usage or unreadable input
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class Format(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    csv = "csv"
    html = "html"


class FailOn(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    none = "none"


class NarrativeMode(StrEnum):
    deterministic = "deterministic"
    llm = "llm"
    none = "none"


def _usage_error(message: str) -> typer.Exit:
    return fail(message, USAGE_EXIT)


def gate_failed(report: dict[str, object], fail_on: FailOn) -> bool:
    """True when a finding is at or above the ``--fail-on`` severity."""
    if fail_on is FailOn.none:
        return False
    threshold = SEVERITY_RANK[fail_on.value]
    return any(
        int(report.get(f"{severity}_count", 0) or 0) > 0  # type: ignore[call-overload]
        for severity, rank in SEVERITY_RANK.items()
        if rank <= threshold
    )


INTERNAL_ERROR_EXIT = 3  # not 1: a crash must not read as "the gate found findings"


def scan(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Resource Graph exports, ARM templates or Terraform plan JSON (kind detected); "
            "a directory: every such *.json under it; '-': standard input.",
            show_default=False,
        ),
    ],
    frameworks: Annotated[
        str | None,
        typer.Option(help="Comma-separated framework ids (default: all 7)."),
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="Run only these checks: ids or globs (AOAI-*), repeated or comma-separated.",
            show_default=False,
        ),
    ] = None,
    skip_check: Annotated[
        list[str] | None,
        typer.Option(
            "--skip-check",
            help="Leave these checks out: ids or globs, repeated or comma-separated.",
            show_default=False,
        ),
    ] = None,
    severity: Annotated[
        list[str] | None,
        typer.Option(
            "--severity",
            help="Run only checks of these severities (critical,high,medium,low), repeated or "
            "comma-separated.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        list[Format] | None,
        typer.Option(
            "--format",
            help="Output format; repeat for several reports of one scan (default: table).",
            show_default=False,
        ),
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option(help="Exit 1 when a finding is at or above this severity.")
    ] = FailOn.critical,
    output: Annotated[
        list[Path] | None,
        typer.Option(
            help="Write the report to this file instead of stdout; repeated, each goes with the "
            "--format in the same position ('-': stdout).",
            show_default=False,
        ),
    ] = None,
    output_directory: Annotated[
        Path | None,
        typer.Option(
            "--output-directory",
            "-o",
            help="Write each --format to DIR/tutela-report.<ext> (txt, json, sarif, xml, csv, "
            "html).",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="A baseline (--create-baseline): its failures are still reported, marked, "
            "but only new failures count for --fail-on.",
            show_default=False,
        ),
    ] = None,
    create_baseline: Annotated[
        Path | None,
        typer.Option(
            help="Write this scan's failures to the file, as a baseline for --baseline.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No notes on stderr (errors and the verdict line only); a table lists only "
            "the failing checks, one per line.",
        ),
    ] = False,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="JSON and SARIF without indentation; a table as one line per failing check.",
        ),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            is_eager=True,
            callback=use_config,
            help="Options from this YAML file (default: the first .tutela.yaml or .tutela.yml "
            "from the working directory upwards); flags given win (docs/cli.md).",
            show_default=False,
        ),
    ] = None,
    narrative: Annotated[
        NarrativeMode, typer.Option(help="Narratives for findings.")
    ] = NarrativeMode.deterministic,
    llm_model: Annotated[
        str,
        typer.Option(
            # the server's names first: one environment configures both
            envvar=["TUTELA_LLM_DEPLOYMENT", "TUTELA_LLM_MODEL"],
            help="Model or Azure deployment name.",
        ),
    ] = "gpt-4o-mini",
    llm_base_url: Annotated[
        str | None, typer.Option(envvar="TUTELA_LLM_BASE_URL", help="OpenAI-compatible URL.")
    ] = None,
    azure_openai_endpoint: Annotated[
        str | None,
        typer.Option(
            # TUTELA_AZURE_OPENAI_ENDPOINT: this option's first name, kept
            envvar=["TUTELA_LLM_AZURE_ENDPOINT", "TUTELA_AZURE_OPENAI_ENDPOINT"],
            help="Azure OpenAI endpoint (https://NAME.openai.azure.com).",
        ),
    ] = None,
    llm_api_key: Annotated[
        str | None, typer.Option(envvar="TUTELA_LLM_API_KEY", help="API key for the model.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes that encode a large JSON report (default: one per core).",
            show_default=False,
        ),
    ] = None,
    house_policy: Annotated[
        Path | None,
        typer.Option(
            help="YAML or JSON file of house-policy settings (review periods, risk tiers); "
            "default: the shipped defaults (docs/house-policy.md).",
            show_default=False,
        ),
    ] = None,
    include_passed: Annotated[
        bool,
        typer.Option(
            "--include-passed",
            help="With --format json: also list every passing check and resource with the "
            "evidence it passed on (`passed`, docs/reports.md).",
        ),
    ] = False,
    exceptions: Annotated[
        Path | None,
        typer.Option(
            help="YAML file of accepted risks (`exceptions:` list, docs/risk-acceptance.md): "
            "failures it covers are reported as accepted and never block.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Scan files offline and gate: exit 0 passed, 1 gate failed, 2 bad input, 3 crash."""
    from tutela.scanner.catalog import load_catalog
    from tutela.scanner.scan import UnknownFrameworks, resolve_frameworks

    catalog = load_catalog()
    if house_policy is not None:
        catalog = _with_house_policy(catalog, house_policy)
    try:
        selected = resolve_frameworks(
            frameworks.split(",") if frameworks is not None else None, catalog
        )
    except UnknownFrameworks as exc:
        raise _usage_error(str(exc)) from None
    acceptances = _read_exceptions(exceptions, catalog) if exceptions is not None else ()
    # After the exceptions are read: they may name checks this scan leaves out.
    catalog = _with_selected_checks(catalog, check, skip_check, severity)
    destinations = _destinations(output_format, output, output_directory)
    # Only the JSON report carries findings and their narratives; the other formats show one
    # row per failing check and resource, built straight from the assessment.
    full = any(d.format is Format.json for d in destinations)
    if include_passed and not full:
        raise _usage_error(
            "--include-passed needs --format json: only the JSON report lists passes"
        )
    known = _read_baseline(baseline) if baseline is not None else None
    narrator = (
        _narrator(narrative, llm_model, llm_base_url, azure_openai_endpoint, llm_api_key)
        if full
        else None
    )
    # A long JSON report is encoded by several processes, unless each would ask a narrator.
    # (SARIF is not: what a forked process copies of the scan's memory costs about what it
    # saves there, as measured in bench/RESULTS.md.)
    workers = 1
    if full and (narrator is None or _asks_nobody(narrator)):
        workers = jobs or _default_jobs()
    writing = _Writing(workers, include_passed, compact, quiet, known, create_baseline)
    # Large inputs make millions of small acyclic objects: the cycle collector would only walk
    # them again and again (a scan creates no reference cycles worth collecting). They are all
    # gone when _scan_and_write returns, before the collector is switched back on.
    gc.disable()
    try:
        header, comparison = _scan_and_write(
            paths,
            selected,
            catalog,
            narrator,
            destinations,
            writing,
            acceptances=acceptances,
        )
    finally:
        if not one_shot.active:
            gc.enable()
    if comparison is None:
        failed = gate_failed(header, fail_on)
    else:  # only failures the baseline does not hold count
        failed = new_at_or_above(comparison, fail_on) > 0
    # Always on stderr, so a CI log says why the step passed or failed whatever went to stdout.
    err_console.print(verdict_line(header, fail_on, destinations, comparison), markup=False)
    raise typer.Exit(1 if failed else 0)


@dataclass(frozen=True, slots=True)
class _Writing:
    """How the reports of one scan are written, and the baselines it reads and writes."""

    jobs: int
    include_passed: bool
    compact: bool
    quiet: bool
    baseline: Baseline | None
    create_baseline: Path | None


def _with_selected_checks(
    catalog: Catalog,
    check: list[str] | None,
    skip_check: list[str] | None,
    severity: list[str] | None,
) -> Catalog:
    """The catalogue with only the checks ``--check``, ``--skip-check`` and ``--severity`` keep."""
    from tutela.cli.selection import SelectionError, select_checks

    try:
        return select_checks(
            catalog, include=check or None, exclude=skip_check or None, severities=severity or None
        )
    except SelectionError as exc:
        raise _usage_error(str(exc)) from None


def _destinations(
    formats: list[Format] | None, outputs: list[Path] | None, directory: Path | None
) -> list[Destination]:
    from tutela.cli.scan_reports import OutputError, plan_destinations

    try:
        return plan_destinations(formats or [Format.table], outputs or [], directory)
    except OutputError as exc:
        raise _usage_error(str(exc)) from None


def _read_baseline(path: Path) -> Baseline:
    from tutela.cli.baseline import BaselineError, read_baseline

    try:
        return read_baseline(path)
    except BaselineError as exc:
        raise _usage_error(str(exc)) from None


def new_at_or_above(comparison: Comparison, fail_on: FailOn) -> int:
    """The failures the baseline does not hold at or above the ``--fail-on`` severity."""
    if fail_on is FailOn.none:
        return 0
    threshold = SEVERITY_RANK[fail_on.value]
    return sum(
        count for severity, count in comparison.new.items() if SEVERITY_RANK[severity] <= threshold
    )


def _with_house_policy(catalog: Catalog, path: Path) -> Catalog:
    """The catalogue with the file's house policy applied; a bad file is one line, exit 2."""
    from tutela.scanner.catalog.house_policy import (
        HousePolicyError,
        apply_house_policy,
        read_house_policy,
    )

    try:
        policy = read_house_policy(path)
    except HousePolicyError as exc:
        raise _usage_error(f"--house-policy {path}: {exc}") from None
    return apply_house_policy(catalog, policy)


def _read_exceptions(path: Path, catalog: Catalog) -> list[Acceptance]:
    """The file's accepted risks, checked for today; a bad file is one line, exit 2."""
    from tutela.scanner.acceptance import AcceptanceError, read_acceptances

    try:
        return read_acceptances(path, catalog, dt.datetime.now(dt.UTC).date())
    except AcceptanceError as exc:
        raise _usage_error(f"--exceptions {plain(path)}: {plain(exc)}") from None


def verdict_line(
    header: dict[str, object],
    fail_on: FailOn,
    destinations: Sequence[Destination],
    comparison: Comparison | None = None,
) -> str:
    """One line: passed or blocked at which threshold, the counts, where the reports went; with
    a baseline, how many failures are new and how many it holds."""
    counts = {
        severity: int(str(header.get(f"{severity}_count") or 0)) for severity in SEVERITY_RANK
    }
    found = ", ".join(f"{count} {severity}" for severity, count in counts.items())
    unknown = int(str(header.get("checks_unknown") or 0))
    accepted = int(str(header.get("checks_accepted") or 0))
    where = ", ".join(destination.described() for destination in destinations)
    if fail_on is FailOn.none:
        verdict = "PASSED (--fail-on none: findings never block)"
    elif comparison is not None:
        new = new_at_or_above(comparison, fail_on)
        verdict = (
            f"BLOCKED at --fail-on {fail_on.value} ({new} new failure(s) at or above it)"
            if new
            else f"PASSED --fail-on {fail_on.value} (no new failure at or above it)"
        )
    elif gate_failed(header, fail_on):
        at_or_above = sum(
            count
            for severity, count in counts.items()
            if SEVERITY_RANK[severity] <= SEVERITY_RANK[fail_on.value]
        )
        verdict = f"BLOCKED at --fail-on {fail_on.value} ({at_or_above} finding(s) at or above it)"
    else:
        verdict = f"PASSED --fail-on {fail_on.value} (no finding at or above it)"
    also = f"; {accepted} accepted" if accepted else ""
    if comparison is not None:
        also += f"; failures {comparison.new_total} new, {comparison.in_baseline} in baseline"
    return f"{verdict}: findings {found}; {unknown} check(s) unknown{also}; report: {where}"


def _scan_and_write(
    paths: list[Path],
    selected: tuple[str, ...],
    catalog: Catalog,
    narrator: Narrator | None,
    destinations: Sequence[Destination],
    writing: _Writing,
    *,
    acceptances: Sequence[Acceptance] = (),
) -> tuple[dict[str, object], Comparison | None]:
    """Read and assess once, write every report; the report's header (scores and counts) and,
    with a baseline, how the failures stand against it.

    Passes are recorded only for ``include_passed``: the default report lists failures only and
    costs nothing more for them.
    """
    from tutela.cli.baseline import BaselineError, compare, write_baseline
    from tutela.cli.inputs import expand, read_inputs
    from tutela.cli.progress import stages_for
    from tutela.cli.scan_reports import OutputError, Reports
    from tutela.scanner.scan import run_scan
    from tutela.scanner.sources import SourceError

    inputs = expand(paths)
    with stages_for([item.path for item in inputs]) as stages:
        try:
            estate, files, notes, unread = read_inputs(paths, inputs, stages, quiet=writing.quiet)
        except SourceError as exc:
            raise _usage_error(str(exc)) from None
        scan_ts = dt.datetime.now(dt.UTC)
        assessment, report = run_scan(
            estate,
            selected,
            scan_ts=scan_ts,
            narrator=narrator,
            catalog=catalog,
            progress=stages.checking(estate.scanned),
            record_passes=writing.include_passed,
            acceptances=acceptances,
            notes=notes,
            not_evaluated=unread,
        )
        known = writing.baseline
        comparison = None if known is None else compare(assessment.failed, known)
        try:
            if writing.create_baseline is not None:
                write_baseline(writing.create_baseline, assessment.failed, scan_ts.date())
            reports = Reports(
                report,
                assessment,
                jobs=writing.jobs,
                include_passed=writing.include_passed,
                compact=writing.compact,
                quiet=writing.quiet,
                baseline=known,
                files=files,
            )
            to_stdout = any(d.path is None for d in destinations)
            with stages.writing(to_terminal=to_stdout and sys.stdout.isatty()):
                made = reports.write(destinations)
        except (BaselineError, OutputError) as exc:
            raise _usage_error(str(exc)) from None
    if one_shot.active:
        one_shot.kept_alive.extend((estate, assessment, report, made))
    return report.header, comparison


def _narrator(
    mode: NarrativeMode,
    model: str,
    base_url: str | None,
    azure_endpoint: str | None,
    api_key: str | None,
) -> Narrator | None:
    from tutela.scanner.narrative.deterministic import DeterministicNarrator

    if mode is NarrativeMode.none:
        return None
    if mode is NarrativeMode.deterministic:
        return DeterministicNarrator()
    if not api_key or not (base_url or azure_endpoint):
        raise _usage_error(
            "--narrative llm needs --llm-api-key and --llm-base-url or --azure-openai-endpoint "
            "(or TUTELA_LLM_API_KEY with TUTELA_LLM_BASE_URL / TUTELA_LLM_AZURE_ENDPOINT)"
        )
    try:
        from tutela.scanner.narrative.llm import LLMNarrator, make_client

        client = make_client(api_key=api_key, base_url=base_url, azure_endpoint=azure_endpoint)
    except ModuleNotFoundError:
        raise _usage_error(
            "--narrative llm needs the llm extra: install Tutela with [llm] (README, Install)"
        ) from None
    return LLMNarrator(client, model)


def _default_jobs() -> int:
    from tutela.scanner.outputs.turns import default_jobs

    return default_jobs()


def _asks_nobody(narrator: Narrator) -> bool:
    from tutela.scanner.narrative.deterministic import DeterministicNarrator

    return isinstance(narrator, DeterministicNarrator)
