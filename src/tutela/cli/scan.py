"""``tutela scan``: the offline scanner and gate over Resource Graph exports, ARM and Terraform."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import sys
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tutela.cli.errors import err_console, fail
from tutela.cli.text import plain

if TYPE_CHECKING:
    from tutela.cli.progress import Stages
    from tutela.scanner.catalog import Catalog
    from tutela.scanner.estate import Estate
    from tutela.scanner.narrative import Narrator
    from tutela.scanner.outputs.failing import FailingCheck
    from tutela.scanner.outputs.report_json import ReportDocument

USAGE_EXIT = 2  # bad usage or unreadable input
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class Format(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    junit = "junit"


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

# Set by the console script (main.run): the process ends right after the scan, so the objects of
# a large scan are kept here and the process exits without freeing them one by one (as mypy
# does); a scan of 100,000 resources would otherwise spend seconds in teardown.
one_shot_process = False
kept_alive: list[object] = []


def scan(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Resource Graph exports, ARM templates or Terraform plan JSON (kind detected).",
            show_default=False,
        ),
    ],
    frameworks: Annotated[
        str | None,
        typer.Option(help="Comma-separated framework ids (default: all 7)."),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="Output format.")
    ] = Format.table,
    fail_on: Annotated[
        FailOn, typer.Option(help="Exit 1 when a finding is at or above this severity.")
    ] = FailOn.critical,
    output: Annotated[
        Path | None, typer.Option(help="Write the report to this file instead of stdout.")
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
    # Only the JSON report carries findings and their narratives; the other formats show one
    # row per failing check and resource, built straight from the assessment.
    full = output_format is Format.json
    if include_passed and not full:
        raise _usage_error(
            "--include-passed needs --format json: only the JSON report lists passes"
        )
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
    # Large inputs make millions of small acyclic objects: the cycle collector would only walk
    # them again and again (a scan creates no reference cycles worth collecting). They are all
    # gone when _scan_and_write returns, before the collector is switched back on.
    gc.disable()
    try:
        header = _scan_and_write(
            paths, selected, catalog, narrator, output_format, output, workers, include_passed
        )
    finally:
        if not one_shot_process:
            gc.enable()
    failed = gate_failed(header, fail_on)
    # Always on stderr, so a CI log says why the step passed or failed whatever went to stdout.
    err_console.print(verdict_line(header, fail_on, output_format, output), markup=False)
    raise typer.Exit(1 if failed else 0)


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


def verdict_line(
    header: dict[str, object], fail_on: FailOn, output_format: Format, output: Path | None
) -> str:
    """One line: passed or blocked at which threshold, the counts, where the report went."""
    counts = {
        severity: int(str(header.get(f"{severity}_count") or 0)) for severity in SEVERITY_RANK
    }
    found = ", ".join(f"{count} {severity}" for severity, count in counts.items())
    unknown = int(str(header.get("checks_unknown") or 0))
    where = (
        f"{output_format.value} on stdout"
        if output is None
        else f"{output_format.value} written to {plain(output)}"
    )
    if fail_on is FailOn.none:
        verdict = "PASSED (--fail-on none: findings never block)"
    elif gate_failed(header, fail_on):
        at_or_above = sum(
            count
            for severity, count in counts.items()
            if SEVERITY_RANK[severity] <= SEVERITY_RANK[fail_on.value]
        )
        verdict = f"BLOCKED at --fail-on {fail_on.value} ({at_or_above} finding(s) at or above it)"
    else:
        verdict = f"PASSED --fail-on {fail_on.value} (no finding at or above it)"
    return f"{verdict}: findings {found}; {unknown} check(s) unknown; report: {where}"


def _scan_and_write(
    paths: list[Path],
    selected: tuple[str, ...],
    catalog: Catalog,
    narrator: Narrator | None,
    output_format: Format,
    output: Path | None,
    jobs: int,
    include_passed: bool = False,
) -> dict[str, object]:
    """Read, assess and write the report; the report's header (scores and counts).

    Passes are recorded only for ``include_passed``: the default report lists failures only and
    costs nothing more for them.
    """
    from tutela.cli.progress import stages_for
    from tutela.scanner.outputs.failing import FailingRows, failing_checks_of
    from tutela.scanner.outputs.table import MAX_ROWS
    from tutela.scanner.scan import run_scan
    from tutela.scanner.sources import SourceError

    with stages_for(paths) as stages:
        try:
            estate = _read(paths, stages)
        except SourceError as exc:
            raise _usage_error(str(exc)) from None
        assessment, report = run_scan(
            estate,
            selected,
            scan_ts=dt.datetime.now(dt.UTC),
            narrator=narrator,
            catalog=catalog,
            progress=stages.checking(len(estate)),
            record_passes=include_passed,
        )
        failing: Sequence[FailingCheck] | None = None
        if output_format is Format.table:  # only the first rows are shown: the others counted
            failing = failing_checks_of(assessment, MAX_ROWS)
        elif output_format is Format.sarif:  # rows made as their blocks are written
            failing = FailingRows(assessment)
        elif output_format is Format.junit:
            failing = failing_checks_of(assessment)
        with stages.writing(to_terminal=output is None and sys.stdout.isatty()):
            _write(report, failing, output_format, output, jobs, include_passed)
    if one_shot_process:
        kept_alive.extend((estate, assessment, report, failing))
    return report.header


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


def _read(paths: list[Path], stages: Stages) -> Estate:
    from tutela.scanner.estate import Estate as EmptyEstate
    from tutela.scanner.sources import read_estate

    if len(paths) == 1:
        with stages.reading(paths[0], _size(paths[0])):
            estate = read_estate(paths)
    else:  # one by one, each shown as it is read
        estate = EmptyEstate()
        for path in paths:
            with stages.reading(path, _size(path)):
                for resource in read_estate([path]):
                    estate.add(resource)
    _say_what_was_skipped(paths)
    return estate


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _say_what_was_skipped(paths: list[Path]) -> None:
    """Name the Terraform resource types the scan could not map: honest about coverage."""
    from tutela.scanner.sources.terraform import unsupported_types

    for path in paths:
        skipped = unsupported_types(str(path))
        if skipped:
            kinds = ", ".join(f"{count} {name}" for name, count in sorted(skipped.items()))
            err_console.print(
                f"note: {path}: {sum(skipped.values())} resources of unsupported types "
                f"skipped ({kinds})",
                markup=False,
            )


def _default_jobs() -> int:
    from tutela.scanner.outputs.turns import default_jobs

    return default_jobs()


def _asks_nobody(narrator: Narrator) -> bool:
    from tutela.scanner.narrative.deterministic import DeterministicNarrator

    return isinstance(narrator, DeterministicNarrator)


def _write(
    report: ReportDocument,
    failing: Sequence[FailingCheck] | None,
    output_format: Format,
    output: Path | None,
    jobs: int,
    include_passed: bool = False,
) -> None:
    from tutela.scanner.outputs.junit import junit_xml
    from tutela.scanner.outputs.sarif import sarif_blocks
    from tutela.scanner.outputs.table import render_table
    from tutela.scanner.outputs.turns import write_blocks

    if output_format is Format.table:
        total = report.header["checks_failed"]  # ``failing`` holds only the rows shown
        if output is None:
            render_table(
                report.header, Console(highlight=False), failing=failing, failing_total=total
            )
            return
        with _opened(output) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8")
            console = Console(file=text, width=120, highlight=False)
            render_table(report.header, console, failing=failing, failing_total=total)
            text.flush()
            text.detach()
        return
    with _opened(output) as handle:
        if output_format is Format.json:
            report.write(handle, jobs=jobs, include_passed=include_passed)
        elif output_format is Format.sarif:
            write_blocks(handle, sarif_blocks(report.header, failing))
        else:
            handle.write(junit_xml(report.header, None if failing is None else list(failing)))
        handle.write(b"\n")


@contextlib.contextmanager
def _opened(output: Path | None) -> Iterator[IO[bytes]]:
    """Standard output, or the file (a write error is bad usage, exit 2, not a crash)."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    try:
        with output.open("wb") as handle:
            yield handle
    except OSError as exc:
        raise _usage_error(f"{output}: cannot be written ({exc.strerror})") from None
