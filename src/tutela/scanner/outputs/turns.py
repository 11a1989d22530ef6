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
    """Write the output to ``out``, its blocks encoded by up to ``jobs`` processes."""
    jobs = min(jobs, blocks.count // MIN_BLOCKS_PER_JOB)
    fd = _descriptor(out) if jobs > 1 and hasattr(os, "fork") else None
    if fd is None:
        for chunk in blocks.chunks():
            out.write(chunk)
        return
    out.write(blocks.head)
    out.flush()  # what is buffered goes out before any worker writes to the descriptor
    write_in_turns(fd, blocks.count, blocks.encode, jobs=jobs)
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
    # ring[k]: where worker k's turn arrives; only worker k - 1 keeps the end that gives it.
    ring = [os.pipe() for _ in range(jobs)]
    open_ends = {end for pair in ring for end in pair}
    children: list[int] = []
    try:
        for worker in range(1, jobs):
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # pragma: no cover -- runs in the child (its coverage is not collected)
                _child(worker, ring, fd, count, encode)
            children.append(pid)
        open_ends -= _keep_own_ends(ring, 0)
        _work(0, ring, fd, count, encode)
        _wait(children)
        children.clear()
    finally:
        for pid in children:  # this process failed: the others stop at once
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        for end in open_ends:
            os.close(end)


def _child(
    worker: int,
    ring: list[tuple[int, int]],
    fd: int,
    count: int,
    encode: Callable[[int], Sequence[bytes]],
) -> None:  # pragma: no cover -- runs in the child
    """A forked worker: its blocks, then ``os._exit`` (never the parent's clean-up or buffers)."""
    code = 1
    try:
        gc.disable()  # collecting would touch, and so copy, every page shared with the parent
        _keep_own_ends(ring, worker)
        _work(worker, ring, fd, count, encode)
        code = 0
    except BaseException as exc:  # reported in one line; the parent raises WorkerFailed
        with contextlib.suppress(Exception):
            os.write(2, f"error: output worker {worker}: {type(exc).__name__}: {exc}\n".encode())
    finally:
        os._exit(code)


def _keep_own_ends(ring: list[tuple[int, int]], worker: int) -> set[int]:
    """Close every end of the ring but this worker's (reading its turn, giving the next one's);
    return the ends closed."""
    jobs = len(ring)
    closed = {read_end for k, (read_end, _) in enumerate(ring) if k != worker}
    closed |= {write_end for k, (_, write_end) in enumerate(ring) if k != (worker + 1) % jobs}
    for end in closed:
        os.close(end)
    return closed


def _work(
    worker: int,
    ring: list[tuple[int, int]],
    fd: int,
    count: int,
    encode: Callable[[int], Sequence[bytes]],
) -> None:
    jobs = len(ring)
    my_turn, next_turn = ring[worker][0], ring[(worker + 1) % jobs][1]
    for index in range(worker, count, jobs):
        block = encode(index)  # while the others write theirs
        if index > 0 and os.read(my_turn, 1) != b".":
            raise WorkerFailed(f"output worker {(worker - 1) % jobs} stopped before its turn")
        _write_all(fd, block)
        os.write(next_turn, b".")


def _wait(children: list[int]) -> None:
    failed = []
    for pid in children:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            failed.append(pid)
    if failed:
        raise WorkerFailed(f"{len(failed)} output worker(s) failed: the output is incomplete")


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
