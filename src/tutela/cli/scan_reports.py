"""Where ``tutela scan`` writes its reports: one scan, each format to its own place.

``--format`` may be repeated; each ``--output`` goes with the ``--format`` in the same
position, a format without one goes to standard output (only one may), and
``--output-directory DIR`` writes ``DIR/tutela-report.<ext>`` for every format instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, zip_longest
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console

from tutela.cli.text import plain

if TYPE_CHECKING:
    from tutela.cli.baseline import Baseline
    from tutela.cli.scan import Format
    from tutela.scanner.engine.assess import Assessment
    from tutela.scanner.outputs.failing import FailingCheck
    from tutela.scanner.outputs.report_json import ReportDocument

REPORT_STEM = "tutela-report"
EXTENSIONS = {
    "table": "txt",
    "json": "json",
    "sarif": "sarif",
    "junit": "xml",
    "csv": "csv",
    "html": "html",
}
# Formats whose renderer ships separately from the scanner's core formats.
RENDERERS = {
    "csv": "tutela.scanner.outputs.csv_report",
    "html": "tutela.scanner.outputs.html_report",
}
STDOUT = "-"
FILE_WIDTH = 120  # a table written to a file: as wide as a CI log shows


class OutputError(ValueError):
    """Formats and outputs that do not pair up, or a report that cannot be written."""


@dataclass(frozen=True, slots=True)
class Destination:
    """One report of the scan: its format, and its file (None: standard output)."""

    format: Format
    path: Path | None

    def described(self) -> str:
        if self.path is None:
            return f"{self.format.value} on stdout"
        return f"{self.format.value} written to {plain(self.path)}"


def plan_destinations(
    formats: Sequence[Format], outputs: Sequence[Path], directory: Path | None
) -> list[Destination]:
    """Each format with where it goes (module docstring); an impossible pairing is refused."""
    twice = sorted({f.value for f in formats if formats.count(f) > 1})
    if twice:
        raise OutputError(f"--format {', '.join(twice)} given more than once")
    for f in formats:
        module = RENDERERS.get(f.value)
        if module is not None and importlib.util.find_spec(module) is None:
            raise OutputError(f"--format {f.value} is not available in this installation")
    if directory is not None:
        if outputs:
            raise OutputError("give --output or --output-directory, not both")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"--output-directory {directory}: cannot be created ({exc.strerror})"
            ) from None
        return [Destination(f, directory / f"{REPORT_STEM}.{EXTENSIONS[f.value]}") for f in formats]
    if len(outputs) > len(formats):
        raise OutputError(
            f"{len(outputs)} --output for {len(formats)} --format: each --output goes with "
            "the --format in the same position"
        )
    paired = [
        Destination(f, None if o is None or str(o) == STDOUT else o)
        for f, o in zip_longest(formats, outputs)
    ]
    to_stdout = [f"--format {d.format.value}" for d in paired if d.path is None]
    if len(to_stdout) > 1:
        raise OutputError(
            f"{' and '.join(to_stdout)} would all go to standard output, where only one may: "
            "give each an --output (in the order of the --format options), or "
            "--output-directory DIR"
        )
    return paired


@dataclass(slots=True)
class Reports:
    """What every report of one scan is written from."""

    report: ReportDocument
    assessment: Assessment
    jobs: int = 1
    include_passed: bool = False
    compact: bool = False
    quiet: bool = False
    baseline: Baseline | None = None
    files: Sequence[Path] = ()  # the files read, for SARIF to point at lines in them

    def write(self, destinations: Sequence[Destination]) -> list[Any]:
        """Write each report; what was made for them (kept alive by a one-shot process)."""
        from tutela.scanner.outputs.failing import FailingRows, failing_checks_of
        from tutela.scanner.outputs.table import MAX_ROWS

        # The other formats show one row per failing check and resource, each made when read;
        # a table reads only its first rows (found without sorting every failure).
        rows: FailingRows | None = None
        for destination in destinations:
            kind = destination.format.value
            if kind == "table":
                self._table(destination.path, failing_checks_of(self.assessment, MAX_ROWS))
                continue
            if rows is None:
                rows = FailingRows(self.assessment)
            with opened(destination.path) as handle:
                self._write(kind, handle, rows)
                handle.write(b"\n")
        return [rows]

    def _write(self, kind: str, handle: IO[bytes], rows: Sequence[FailingCheck]) -> None:
        header = self.report.header
        if kind == "json":
            self.report.write(
                handle, jobs=self.jobs, include_passed=self.include_passed, indent=not self.compact
            )
        elif kind == "sarif":
            self._sarif(handle, rows)
        elif kind == "junit":
            from tutela.scanner.outputs.junit import junit_xml

            handle.write(junit_xml(header, list(rows)))
        elif kind == "csv":
            from tutela.scanner.outputs.csv_report import write_csv

            write_csv(handle, header, rows)
        else:
            from tutela.scanner.outputs.html_report import write_html

            write_html(handle, header, rows)

    def _sarif(self, handle: IO[bytes], rows: Sequence[FailingCheck]) -> None:
        import orjson

        from tutela.scanner.outputs.locations import locate
        from tutela.scanner.outputs.sarif import sarif_blocks
        from tutela.scanner.outputs.turns import write_blocks

        # Each result on its resource's line in the file it was read from.
        failed = self.assessment.failed
        accepted = (item.result for item in self.assessment.accepted)
        locations = locate(self.files, (r.resource for r in chain(failed, accepted)))
        blocks = sarif_blocks(
            self.report.header, rows, indent=not self.compact, locations=locations
        )
        if self.baseline is None:
            write_blocks(handle, blocks)
            return
        from tutela.cli.baseline import mark_sarif

        document = orjson.loads(b"".join(blocks.chunks()))
        mark_sarif(document, self.baseline)
        handle.write(orjson.dumps(document, option=0 if self.compact else orjson.OPT_INDENT_2))

    def _table(self, path: Path | None, first: Sequence[FailingCheck]) -> None:
        if path is None:
            self._table_to(Console(highlight=False), first)
            return
        with opened(path) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8")
            self._table_to(Console(file=text, width=FILE_WIDTH, highlight=False), first)
            text.flush()
            text.detach()

    def _table_to(self, console: Console, first: Sequence[FailingCheck]) -> None:
        from tutela.scanner.outputs.table import MAX_ROWS, render_table

        header = self.report.header
        total = int(str(header.get("checks_failed") or 0))
        if not (self.compact or self.quiet):
            render_table(header, console, failing=first, failing_total=total)
            if self.baseline is not None and total:
                known = sum(
                    self.baseline.holds(r.check.id, r.resource.id) for r in self.assessment.failed
                )
                console.print(
                    f"Baseline {plain(self.baseline.path)}: {total - known} new failing "
                    f"check(s), {known} in the baseline.",
                    markup=False,
                )
            return
        # One line per failing check: what --compact and --quiet show (--quiet: nothing else).
        if not self.quiet:
            console.print(_summary_line(header), markup=False, soft_wrap=True)
        for row in first:
            known = self.baseline is not None and self.baseline.holds(row.check_id, row.resource)
            mark = (" (conditional)" if row.conditional else "") + (
                " (in baseline)" if known else ""
            )
            console.print(
                f"{row.severity:<8} {row.check_id}  {plain(row.resource_name)} "
                f"({plain(row.resource_type)}){mark}",
                markup=False,
                soft_wrap=True,
            )
        if total > MAX_ROWS:
            console.print(f"… and {total - MAX_ROWS} more failing checks (--format json for all).")


def _summary_line(header: dict[str, Any]) -> str:
    score = header.get("aggregate_score")
    counts = ", ".join(
        f"{header.get(f'{s}_count', 0)} {s}" for s in ("critical", "high", "medium", "low")
    )
    return (
        f"Aggregate score {'n/a' if score is None else f'{score}/100'} · "
        f"{header.get('resources_scanned', 0)} resources · "
        f"{header.get('checks_evaluated', 0)} checks evaluated · findings: {counts}"
    )


@contextlib.contextmanager
def opened(output: Path | None) -> Iterator[IO[bytes]]:
    """Standard output, or the file (a write error is an ``OutputError``, not a crash)."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    try:
        with output.open("wb") as handle:
            yield handle
    except OSError as exc:
        raise OutputError(f"{output}: cannot be written ({exc.strerror})") from None
