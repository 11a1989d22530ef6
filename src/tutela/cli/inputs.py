"""What ``tutela scan`` reads: files, directories searched for known documents, standard input.

A file named on the command line must be a Resource Graph export, an ARM template or a
Terraform plan (anything else is bad input). A directory is searched recursively for ``*.json``
files (hidden directories, ``node_modules`` and ``.terraform`` left out); those of another kind
are skipped and named once on stderr, and a directory holding none of a known kind is bad
input. ``-`` is standard input, read as JSON of any known kind.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutela.cli.errors import err_console
from tutela.cli.text import plain

if TYPE_CHECKING:
    from tutela.cli.progress import Stages
    from tutela.scanner.estate import Estate, Resource

STDIN = "-"
STDIN_SOURCE = "<stdin>"  # the name resources read from standard input carry
_SKIPPED_DIRECTORIES = {"node_modules", ".terraform"}


@dataclass(frozen=True, slots=True)
class Input:
    """One document to read: ``directory`` is the directory it was found in, if it was."""

    path: Path
    directory: Path | None = None

    @property
    def is_stdin(self) -> bool:
        return str(self.path) == STDIN and self.directory is None

    @property
    def size(self) -> int:
        return 0 if self.is_stdin or not self.path.is_file() else self.path.stat().st_size


@dataclass(slots=True)
class Reading:
    """What reading the inputs found besides resources: files skipped, directories used, and
    what each input's reading left out (``notes``, each "<input>: <what>") or found and did not
    evaluate (``not_evaluated``, the report's entries)."""

    skipped: list[tuple[Path, str]] = field(default_factory=list)
    found_in: set[Path] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    not_evaluated: list[dict[str, Any]] = field(default_factory=list)

    def note_what_was_left_out(self, source: str) -> None:
        """Keep the notes of the input just read, before another reading of it replaces them."""
        from tutela.scanner.not_evaluated import from_reading
        from tutela.scanner.outputs.report import input_notes

        self.notes += (f"{source}: {text}" for text in input_notes(source))
        self.not_evaluated += from_reading(source)


def expand(paths: Sequence[Path]) -> list[Input]:
    """The documents the paths name, directories searched (in name order), stdin kept as is."""
    inputs: list[Input] = []
    for path in paths:
        if str(path) != STDIN and path.is_dir():
            inputs += (Input(found, path) for found in _json_files(path))
        else:
            inputs.append(Input(path))
    return inputs


def _json_files(directory: Path) -> Iterator[Path]:
    for root, directories, files in os.walk(directory):
        directories[:] = sorted(
            d for d in directories if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES
        )
        for name in sorted(files):
            if name.lower().endswith(".json") and not name.startswith("."):
                yield Path(root) / name


def read_input(item: Input, reading: Reading) -> Iterable[Resource]:
    """The input's resources; a document of no known kind found in a directory is skipped
    (noted in ``reading``), anywhere else it is a ``SourceError``."""
    from tutela.scanner.sources import (
        SourceError,
        decode_document,
        detect_kind,
        parse_document,
        read_estate,
    )

    if item.is_stdin:
        data = sys.stdin.buffer.read()
        document, kind = decode_document(data, STDIN_SOURCE)
        return parse_document(document, STDIN_SOURCE, kind)
    if item.directory is None:
        return read_estate([item.path])
    source = str(item.path)
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        raise SourceError(source, f"cannot be read ({exc.strerror})") from None
    try:
        document, kind = decode_document(data, source)
    except SourceError as exc:
        reading.skipped.append((item.path, exc.problem.split(" (")[0]))  # empty, not JSON
        return []
    if kind is None:
        try:
            kind = detect_kind(document, source)
        except SourceError:
            reading.skipped.append((item.path, "of no known kind"))
            return []
    reading.found_in.add(item.directory)
    return parse_document(document, source, kind)


def directories_without_documents(paths: Sequence[Path], reading: Reading) -> list[Path]:
    """The directories named that held no document of a known kind."""
    return [
        path
        for path in paths
        if str(path) != STDIN and path.is_dir() and path not in reading.found_in
    ]


def scanned_files(inputs: Sequence[Input], reading: Reading) -> list[Path]:
    """The files whose resources were read (standard input and skipped files left out)."""
    skipped = {path for path, _ in reading.skipped}
    return [item.path for item in inputs if not item.is_stdin and item.path not in skipped]


def read_inputs(
    paths: Sequence[Path], inputs: Sequence[Input], stages: Stages, *, quiet: bool
) -> tuple[Estate, list[Path], list[str], list[dict[str, Any]]]:
    """The estate the inputs hold, the files it was read from, what reading them left out
    (the report's ``notes``) and what it found and did not evaluate (``not_evaluated``'s
    entries from reading); unless ``quiet``, what was skipped is noted on stderr. Bad input
    is a ``SourceError``."""
    from tutela.scanner.estate import Estate as EmptyEstate
    from tutela.scanner.sources import SourceError, read_estate

    reading = Reading()
    if len(inputs) == 1 and inputs[0].directory is None and not inputs[0].is_stdin:
        with stages.reading(inputs[0].path, inputs[0].size):
            estate = read_estate([inputs[0].path])
        reading.note_what_was_left_out(str(inputs[0].path))
    else:  # one by one, each shown as it is read
        estate = EmptyEstate()
        for item in inputs:
            with stages.reading(item.path, item.size):
                for resource in read_input(item, reading):
                    estate.add(resource)
            reading.note_what_was_left_out(STDIN_SOURCE if item.is_stdin else str(item.path))
    empty = directories_without_documents(paths, reading)
    if empty:
        raise SourceError(
            str(empty[0]),
            "the directory holds no Resource Graph export, ARM template or Terraform plan (*.json)",
        )
    files = scanned_files(inputs, reading)
    notes = list(dict.fromkeys(reading.notes))
    if not quiet:
        if reading.skipped:
            listed = ", ".join(f"{path} ({why})" for path, why in reading.skipped)
            err_console.print(
                f"note: {len(reading.skipped)} JSON file(s) skipped: {listed}", markup=False
            )
        for text in notes:  # the Terraform types not mapped, the constructs not followed
            err_console.print(f"note: {plain(text)}", markup=False)
    return estate, files, notes, reading.not_evaluated
