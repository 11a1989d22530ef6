"""Run Tutela's reader and engine over every *.json under a folder; summarise what each file gave.

    python bench/scan_folder.py DIR [--format table|json|markdown] [--jobs N] [--as-of DATE]

Each file is read and assessed in-process with the calls ``tutela scan`` makes (``cli.inputs``
reads it, ``scanner.scan.run_scan`` assesses it against every framework), one file at a time, so
one file's problem never hides another's. Per file: the outcome (``read``; ``refused``, with the
one-line reason, for a file that is not valid JSON or a document the reader will not take;
``not an input`` for JSON of no kind Tutela reads, a deployment parameters file named as such),
its kind, the resources read, the failing, passing and unknown (check, resource) pairs, the
reading notes, the resources not evaluated (the report's ``not_evaluated`` counts), and the time.
The summary adds the checks most often unknown and the constructs most often noted. Nothing
leaves the machine; the exit code is 0 whatever the files hold (2 for a bad command line).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

READ, REFUSED, NOT_INPUT = "read", "refused", "not an input"
TOP = 5  # checks and constructs the summary names
_PATH = re.compile(r"resources(\[\d+\]|\.[\w$@-]+)([\w.\[\]$@-]*)")
_ID = re.compile(r"(/subscriptions/|/providers/)\S*")
_URI = re.compile(r"https?://\S+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\b\d+\b")


@dataclass(slots=True)
class FileResult:
    """What one file gave; counts are zero unless it was read."""

    file: str
    outcome: str
    reason: str = ""
    kind: str = ""
    resources: int = 0
    failed: int = 0
    passed: int = 0
    unknown: int = 0
    notes: list[str] = field(default_factory=list)
    not_evaluated: int = 0
    unknown_checks: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def json_files(directory: Path) -> list[Path]:
    """The *.json files under the directory as ``tutela scan DIR`` finds them, in name order."""
    from tutela.cli.inputs import expand

    return [item.path for item in expand([directory])]


def scan_file(path: Path, root: Path, as_of: dt.date) -> FileResult:
    """Read and assess one file as ``tutela scan`` would, never raising for what the file holds."""
    from tutela.scanner.sources import SourceError

    started = time.perf_counter()
    name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        result = _scan(path, name, as_of)
    except SourceError as exc:
        result = FileResult(name, REFUSED, _one_line(exc.problem))
    result.seconds = round(time.perf_counter() - started, 4)
    return result


def _scan(path: Path, name: str, as_of: dt.date) -> FileResult:
    from tutela.scanner.catalog import load_catalog
    from tutela.scanner.estate import Estate
    from tutela.scanner.not_evaluated import from_reading
    from tutela.scanner.outputs.report import input_notes
    from tutela.scanner.scan import run_scan
    from tutela.scanner.sources import SourceError, decode_document, detect_kind, parse_document

    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(source, f"cannot be read ({exc.strerror})") from None
    document, kind = decode_document(data, source)  # empty or not JSON: refused
    if kind is None:
        parameters = _parameters_file(document)
        if parameters:
            return FileResult(name, NOT_INPUT, "a deployment parameters file")
        try:
            kind = detect_kind(document, source)
        except SourceError:
            return FileResult(name, NOT_INPUT, "JSON of no kind Tutela reads")
    estate = Estate()
    for resource in parse_document(document, source, kind):
        estate.add(resource)
    notes = input_notes(source, kind)
    unread = from_reading(source, kind)
    catalog = load_catalog()
    scan_ts = dt.datetime.combine(as_of, dt.time(12), tzinfo=dt.UTC)
    assessment, report = run_scan(
        estate,
        catalog.framework_ids,
        scan_ts=scan_ts,
        catalog=catalog,
        record_passes=False,
        notes=[f"{source}: {text}" for text in notes],
        not_evaluated=unread,
    )
    unseen = report.header.get("not_evaluated") or []
    return FileResult(
        name,
        READ,
        kind=kind,
        resources=estate.scanned,
        failed=assessment.checks_failed,
        passed=assessment.checks_passed,
        unknown=assessment.checks_unknown,
        notes=notes,
        not_evaluated=sum(int(entry.get("count") or 0) for entry in unseen),
        unknown_checks=dict(Counter(r.check.id for r in assessment.unknown_results)),
    )


def _parameters_file(document: Any) -> bool:
    schema = document.get("$schema", "") if isinstance(document, dict) else ""
    return isinstance(schema, str) and "deploymentparameters" in schema.lower()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def construct(note: str) -> str:
    """A reading note without what names one place or count: the construct it is about."""
    text = _URI.sub("<uri>", _ID.sub("<id>", note))
    return _NUMBER.sub("N", _QUOTED.sub("<value>", _PATH.sub("<path>", text)))


def _most_common(counted: Counter[str]) -> list[tuple[str, int]]:
    """The ``TOP`` most frequent, ties in name order (so a run always lists the same)."""
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:TOP]


def summarise(results: Sequence[FileResult]) -> dict[str, Any]:
    """The totals of a run, the checks most often unknown and the constructs most often noted."""
    read = [r for r in results if r.outcome == READ]
    unknown_checks: Counter[str] = Counter()
    constructs: Counter[str] = Counter()
    for result in read:
        unknown_checks.update(result.unknown_checks)
        constructs.update({construct(note) for note in result.notes})
    return {
        "files": len(results),
        "read": len(read),
        "refused": sum(r.outcome == REFUSED for r in results),
        "not_inputs": sum(r.outcome == NOT_INPUT for r in results),
        "resources": sum(r.resources for r in read),
        "failed": sum(r.failed for r in read),
        "passed": sum(r.passed for r in read),
        "unknown": sum(r.unknown for r in read),
        "notes": sum(len(r.notes) for r in read),
        "not_evaluated": sum(r.not_evaluated for r in read),
        "files_with_notes": sum(bool(r.notes) for r in read),
        "seconds": round(sum(r.seconds for r in results), 3),
        "most_unknown_checks": _most_common(unknown_checks),
        "most_noted_constructs": _most_common(constructs),  # counted once per file
        "refusals": [(r.file, r.reason) for r in results if r.outcome == REFUSED],
    }


def scan_folder(
    directory: Path, *, jobs: int = 1, as_of: dt.date, show: bool = False
) -> list[FileResult]:
    """Every JSON file under the directory, scanned in name order (in ``jobs`` processes)."""
    from tutela.scanner.catalog import load_catalog

    files = json_files(directory)
    load_catalog()  # loaded once, before any file's time is taken
    with _progress(len(files), show) as advance:
        if jobs <= 1 or len(files) < 2:
            results = []
            for path in files:
                results.append(scan_file(path, directory, as_of))
                advance()
            return results
        with ProcessPoolExecutor(max_workers=jobs, initializer=load_catalog) as pool:
            results = []
            count = len(files)
            for result in pool.map(scan_file, files, [directory] * count, [as_of] * count):
                results.append(result)
                advance()
            return results


class _progress:
    """A progress bar on stderr for a long run on a terminal; otherwise nothing."""

    def __init__(self, total: int, show: bool) -> None:
        self.total, self.show = total, show and total >= 20 and sys.stderr.isatty()
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return lambda: None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task("scanning", total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()


_COLUMNS = (
    "file",
    "outcome",
    "kind",
    "resources",
    "fail",
    "pass",
    "unknown",
    "notes",
    "not eval.",
    "s",
)


def _row(result: FileResult, *, with_reason: bool) -> list[str]:
    outcome = (
        f"{result.outcome}: {result.reason}" if with_reason and result.reason else result.outcome
    )
    counted = result.outcome == READ
    numbers = (
        result.resources,
        result.failed,
        result.passed,
        result.unknown,
        len(result.notes),
        result.not_evaluated,
    )
    return [
        result.file,
        outcome,
        result.kind,
        *(str(n) if counted else "" for n in numbers),
        f"{result.seconds:.2f}",
    ]


def _summary_lines(summary: dict[str, Any]) -> Iterator[str]:
    yield (
        f"{summary['files']} files: {summary['read']} read, {summary['refused']} refused, "
        f"{summary['not_inputs']} not an input; {summary['resources']} resources; "
        f"{summary['failed']} failing, {summary['passed']} passing, {summary['unknown']} unknown "
        f"pairs; {summary['notes']} notes in {summary['files_with_notes']} file(s); "
        f"{summary['not_evaluated']} resources not evaluated; {summary['seconds']:.2f} s"
    )
    if summary["most_unknown_checks"]:
        listed = ", ".join(f"{check} ({n})" for check, n in summary["most_unknown_checks"])
        yield f"checks most often unknown: {listed}"
    if summary["most_noted_constructs"]:
        yield "constructs most often noted (files):"
        yield from (f"  {n}: {text}" for text, n in summary["most_noted_constructs"])


def render_table(results: Sequence[FileResult], summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    # A pipe or a file gets every column whole; a terminal, its own width.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    table = Table(*_COLUMNS, title="tutela over a folder", title_justify="left")
    for result in results:
        table.add_row(*_row(result, with_reason=False))
    console.print(table, markup=False)  # file names and reasons are data, never markup
    for result in results:
        if result.reason:
            console.print(f"{result.outcome}: {result.file}: {result.reason}", markup=False)
    for line in _summary_lines(summary):
        console.print(line, markup=False, highlight=False)


def render_markdown(results: Sequence[FileResult], summary: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for result in results:
        cells = (cell.replace("|", "\\|") for cell in _row(result, with_reason=True))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += (
        f"  - {line.strip()}" if line.startswith("  ") else f"- {line}"
        for line in _summary_lines(summary)
    )
    return "\n".join(lines)


def render_json(results: Sequence[FileResult], summary: dict[str, Any]) -> str:
    return json.dumps({"files": [asdict(r) for r in results], "summary": summary}, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="folder searched recursively for *.json")
    parser.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=dt.datetime.now(dt.UTC).date(),
        help="the scan's date, YYYY-MM-DD (model retirements, validation dates); default today",
    )
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        parser.error(f"{args.directory} is not a directory")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    results = scan_folder(args.directory, jobs=args.jobs, as_of=args.as_of, show=True)
    summary = summarise(results)
    if args.format == "json":
        print(render_json(results, summary))
    elif args.format == "markdown":
        print(render_markdown(results, summary))
    else:
        render_table(results, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
