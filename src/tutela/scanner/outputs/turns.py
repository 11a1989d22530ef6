"""Long outputs written with every core: blocks encoded side by side, written in their order.

A large report is a head, a long list of items (a million JSON findings, a few hundred thousand
SARIF results) and a tail. Each block of items can be encoded on its own, so the blocks are dealt
round-robin to ``jobs`` workers: this process and ``jobs - 1`` forked children, which see the
scan's objects as they are (copy-on-write) instead of being sent them. Every worker encodes its
next block while the others encode theirs, then waits for its turn to write it straight to the
output. The turn goes round a ring of pipes, one per worker, so the blocks reach the output in
order, each worker holds at most one block, and the bytes are those one process would write.

A worker whose predecessor in the ring has died reads the end of its pipe instead of a turn and
stops; the parent then stops the others and raises ``WorkerFailed``, so a failed write is never
taken for a complete report. Where ``os.fork`` does not exist (Windows), or the output is not a
file descriptor, or there are too few blocks to be worth a process, one process writes them all.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

_IOV_MAX = 1024  # buffers per writev call (Linux's IOV_MAX)
MIN_BLOCKS_PER_JOB = 4  # fewer blocks than this per worker: forking would cost more than it saves


class WorkerFailed(RuntimeError):
    """A worker stopped before writing its blocks: the output is incomplete."""


@dataclass(frozen=True, slots=True)
class Blocks:
    """An output as ``head``, ``count`` blocks made by ``encode(index)``, and ``tail``.

    ``encode`` returns a block as a list of byte strings, written one after the other; it must
    depend only on the index (and what was known before the first block), never on earlier calls.
    """

    head: bytes
    count: int
    encode: Callable[[int], Sequence[bytes]]
    tail: bytes

    def chunks(self) -> Iterator[bytes]:
        """The output in one process, a block at a time."""
        yield self.head
        for index in range(self.count):
            yield b"".join(self.encode(index))
        yield self.tail


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def write_blocks(out: IO[bytes], blocks: Blocks, *, jobs: int = 1) -> None:
    """Write the output to ``out``, its blocks encoded by up to ``jobs`` processes.

    To a file descriptor, a block's parts go out as they are (``writev``): joining them first
    would copy every byte once more (1.8 GB for the JSON report of 100,000 resources).
    """
    fd = _descriptor(out)
    if fd is None:
        for chunk in blocks.chunks():
            out.write(chunk)
        return
    out.write(blocks.head)
    out.flush()  # what is buffered goes out before any block is written to the descriptor
    workers = min(jobs, blocks.count // MIN_BLOCKS_PER_JOB) if hasattr(os, "fork") else 1
    write_in_turns(fd, blocks.count, blocks.encode, jobs=workers)
    out.write(blocks.tail)


def _descriptor(out: IO[bytes]) -> int | None:
    try:
        return out.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None


def write_in_turns(
    fd: int, count: int, encode: Callable[[int], Sequence[bytes]], *, jobs: int
) -> None:
    """Write blocks ``0 … count - 1`` to ``fd`` in order; worker ``i % jobs`` encodes block ``i``.

    Worker 0 is this process; the others are forked here and have ended when this returns.
    """
    if jobs < 2:
        for index in range(count):
            _write_all(fd, encode(index))
        return
    ring = _Ring(jobs)
    children: list[int] = []
    try:
        for worker in range(1, jobs):
            sys.stdout.flush()  # (or the child would inherit, and one day write, these buffers)
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # pragma: no cover -- runs in the child (its coverage is not collected)
                _child(ring, worker, fd, count, encode)
            children.append(pid)
        ring.keep(0)
        _work(ring, 0, fd, count, encode)
        failed = sum(_exit_code(pid) != 0 for pid in children)  # each ends after its last block
        children.clear()
        if failed:
            raise WorkerFailed(f"{failed} output worker(s) failed")
    except WorkerFailed as exc:
        _stop(children)
        said = "; ".join(ring.reports())  # every child has ended: what the failed ones said
        detail = f" ({said})" if said else ""
        raise WorkerFailed(f"{exc}{detail}; the output is incomplete") from None
    finally:
        _stop(children)  # this process failed: the others stop at once
        ring.close()


def _exit_code(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _stop(children: list[int]) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    children.clear()


class _Ring:
    """The pipes the workers share: ``turns[k]`` brings worker k its turn (only worker k - 1
    keeps the end that gives it), and ``errors`` brings the parent a failed child's one line."""

    def __init__(self, jobs: int) -> None:
        self.turns = [os.pipe() for _ in range(jobs)]
        self.errors = os.pipe()
        self._open = {end for pair in (*self.turns, self.errors) for end in pair}

    def keep(self, worker: int) -> None:
        """Close every end this worker does not use (so a dead peer's pipe reads as ended)."""
        jobs = len(self.turns)
        unused = {read_end for k, (read_end, _) in enumerate(self.turns) if k != worker}
        unused |= {
            write_end for k, (_, write_end) in enumerate(self.turns) if k != (worker + 1) % jobs
        }
        unused.add(self.errors[1] if worker == 0 else self.errors[0])
        for end in unused & self._open:
            os.close(end)
        self._open -= unused

    def wait_turn(self, worker: int) -> None:
        if os.read(self.turns[worker][0], 1) != b".":  # the pipe ended: the predecessor died
            before = (worker - 1) % len(self.turns)
            raise WorkerFailed(f"output worker {before} stopped before its turn")

    def give_turn(self, worker: int) -> None:
        after = (worker + 1) % len(self.turns)
        try:
            os.write(self.turns[after][1], b".")
        except BrokenPipeError:  # the successor died (and its read end with it) before its turn
            raise WorkerFailed(f"output worker {after} stopped before its turn") from None

    def report(self, line: str) -> None:
        os.write(self.errors[1], line.encode()[:512] + b"\n")  # (atomic: under PIPE_BUF)

    def reports(self) -> list[str]:
        """The children's lines, once every child has ended."""
        chunks = []
        while chunk := os.read(self.errors[0], 4096):
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace").splitlines()

    def close(self) -> None:
        for end in self._open:
            os.close(end)
        self._open.clear()


def _child(
    ring: _Ring, worker: int, fd: int, count: int, encode: Callable[[int], Sequence[bytes]]
) -> None:  # pragma: no cover -- runs in the child
    """A forked worker: its blocks, then ``os._exit`` (never the parent's clean-up or buffers)."""
    code = 1
    try:
        gc.disable()  # collecting would touch, and so copy, every page shared with the parent
        ring.keep(worker)
        _work(ring, worker, fd, count, encode)
        code = 0
    except BaseException as exc:  # the parent raises WorkerFailed with this line
        with contextlib.suppress(Exception):
            ring.report(f"output worker {worker}: {type(exc).__name__}: {exc}")
    finally:
        os._exit(code)


def _work(
    ring: _Ring, worker: int, fd: int, count: int, encode: Callable[[int], Sequence[bytes]]
) -> None:
    for index in range(worker, count, len(ring.turns)):
        block = encode(index)  # while the others write theirs
        if index > 0:
            ring.wait_turn(worker)
        _write_all(fd, block)
        if index + 1 < count:  # (after the last block, the next worker may have ended)
            ring.give_turn(worker)


def _write_all(fd: int, parts: Sequence[bytes]) -> None:
    """Write the parts in order, with as few system calls and copies as the kernel allows."""
    for start in range(0, len(parts), _IOV_MAX):
        batch = list(parts[start : start + _IOV_MAX])
        left = sum(map(len, batch))
        while left:
            written = os.writev(fd, batch)
            left -= written
            if left:  # a short write (a pipe, a signal): drop what went, go on with the rest
                batch = _after(batch, written)


def _after(parts: list[bytes], written: int) -> list[bytes]:
    for index, part in enumerate(parts):
        if written < len(part):
            return [memoryview(part)[written:].tobytes(), *parts[index + 1 :]]
        written -= len(part)
    return []
