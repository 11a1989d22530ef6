"""What a long ``tutela scan`` shows on a terminal while it works: each stage, on stderr.

Reading a file is one call that says nothing until it is done, so it pulses with the file's
name and size; checking moves by (check, resource) pairs; writing a report to a file pulses.
Nothing is shown for small inputs, nor when stderr is not a terminal (CI logs, pipes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tutela.cli.errors import err_console

if TYPE_CHECKING:
    from rich.progress import Progress

    from tutela.scanner.engine.evaluate import Progress as Follow

PROGRESS_THRESHOLD_BYTES = 5 * 1024 * 1024


class Stages:
    """The stages of one scan; every method does nothing when nothing is shown."""

    def __init__(self, progress: Progress | None = None) -> None:
        self._progress = progress

    @contextlib.contextmanager
    def reading(self, path: Path, size: int) -> Iterator[None]:
        if self._progress is None:
            yield
            return
        task = self._progress.add_task(f"Reading {path.name} ({size / 2**20:,.0f} MiB)", total=None)
        yield
        self._progress.update(task, total=1, completed=1)

    def checking(self, resources: int) -> Follow | None:
        """The engine's progress callback, or None."""
        progress = self._progress
        if progress is None:
            return None
        task = progress.add_task(f"Checking {resources:,} resources", total=None)

        def follow(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return follow

    @contextlib.contextmanager
    def writing(self, *, to_terminal: bool) -> Iterator[None]:
        """A report to a terminal ends the display first: the two would write over each other."""
        if self._progress is None:
            yield
            return
        if to_terminal:
            self._progress.stop()
            yield
            return
        task = self._progress.add_task("Writing the report", total=None)
        yield
        self._progress.update(task, total=1, completed=1)


@contextlib.contextmanager
def stages_for(paths: Sequence[Path]) -> Iterator[Stages]:
    """Stages shown while the block runs when the input is large and stderr a terminal."""
    total = sum(p.stat().st_size if p.is_file() else 0 for p in paths)
    if total < PROGRESS_THRESHOLD_BYTES or not err_console.is_terminal:
        yield Stages()
        return
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        redirect_stdout=False,  # the report is written to stdout's buffer, not through rich
        redirect_stderr=False,
    ) as progress:
        yield Stages(progress)
