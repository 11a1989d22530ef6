"""Blocks written in turns: several processes, one output, the blocks in their order."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from tutela.scanner.outputs.turns import (
    MIN_BLOCKS_PER_JOB,
    Blocks,
    WorkerFailed,
    write_blocks,
    write_in_turns,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")


def _block(index: int) -> list[bytes]:
    """A block that says which block it is and which process made it (in several parts)."""
    return [b"<%d" % index, b":%d>" % os.getpid(), b"." * (index % 7)]


def _parse(data: bytes) -> list[tuple[int, int]]:
    """(block index, pid) of each block ``_block`` made, in the order they were written."""
    text = data.decode().replace(".", "").removeprefix("[").removesuffix("]")
    pairs = [part.split(":") for part in text.strip("<>").split("><")] if text else []
    return [(int(index), int(pid)) for index, pid in pairs]


def _written(path: Path) -> list[tuple[int, int]]:
    return _parse(path.read_bytes())


def test_the_blocks_reach_the_output_in_order_from_every_worker(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with out.open("wb") as handle:
        write_in_turns(handle.fileno(), 50, _block, jobs=3)
    written = _written(out)
    assert [index for index, _ in written] == list(range(50))
    pids = [pid for _, pid in written]
    assert pids[0] == os.getpid()  # worker 0 is this process
    assert len(set(pids)) == 3  # block i by worker i % 3
    assert all(pids[i] == pids[i % 3] for i in range(50))


def test_the_last_block_never_waits_on_a_worker_that_has_finished(tmp_path: Path) -> None:
    """The child ends after block 5; the parent writes block 6 later and passes no turn on."""

    def encode(index: int) -> list[bytes]:
        if index == 6:
            time.sleep(0.3)  # the child has ended by now: its end of the turn pipe is closed
        return _block(index)

    out = tmp_path / "out"
    with out.open("wb") as handle:
        write_in_turns(handle.fileno(), 7, encode, jobs=2)
    assert [index for index, _ in _written(out)] == list(range(7))


def test_the_output_is_what_one_process_writes(tmp_path: Path) -> None:
    """Across a pipe too (short writes), with parts beyond one writev call (IOV_MAX)."""
    parts = [bytes([65 + i % 26]) * (1 + i % 5000) for i in range(3000)]

    def encode(index: int) -> list[bytes]:
        return [*parts[index * 300 : (index + 1) * 300], b"|"]

    expected = b"".join(b"".join(encode(i)) for i in range(10))
    read_end, write_end = os.pipe()
    received = bytearray()
    pid = os.fork()
    if pid == 0:  # pragma: no cover -- the child writes; the test reads
        os.close(read_end)
        code = 0
        try:
            write_in_turns(write_end, 10, encode, jobs=2)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_end)
    while chunk := os.read(read_end, 1 << 16):
        received += chunk
    os.close(read_end)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert bytes(received) == expected


def test_a_failing_child_fails_the_write_and_says_why(tmp_path: Path) -> None:
    def encode(index: int) -> list[bytes]:
        if index == 5:  # block 5 is worker 1's (of 2)
            raise RuntimeError("cannot encode block 5")
        return _block(index)

    with (tmp_path / "out").open("wb") as handle, pytest.raises(WorkerFailed) as failed:
        write_in_turns(handle.fileno(), 20, encode, jobs=2)
    message = str(failed.value)
    assert "output worker 1: RuntimeError: cannot encode block 5" in message
    assert message.endswith("the output is incomplete")
    assert [i for i, _ in _written(tmp_path / "out")] == [0, 1, 2, 3, 4]  # nothing after
    with pytest.raises(ChildProcessError):  # every child was waited for: none left behind
        os.waitpid(-1, os.WNOHANG)


def test_a_failing_parent_stops_the_children(tmp_path: Path) -> None:
    def encode(index: int) -> list[bytes]:
        if index == 4 and os.getpid() == parent:
            raise ValueError("the parent's block failed")
        return _block(index)

    parent = os.getpid()
    with (tmp_path / "out").open("wb") as handle, pytest.raises(ValueError, match="parent's"):
        write_in_turns(handle.fileno(), 40, encode, jobs=2)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_a_child_killed_mid_write_fails_the_write(tmp_path: Path) -> None:
    def encode(index: int) -> list[bytes]:
        if index == 3:
            os.kill(os.getpid(), 9)  # worker 1, as if the machine killed it
        return _block(index)

    with (tmp_path / "out").open("wb") as handle, pytest.raises(WorkerFailed, match="stopped"):
        write_in_turns(handle.fileno(), 12, encode, jobs=2)


def test_write_blocks_uses_one_process_when_it_cannot_or_need_not_fork(tmp_path: Path) -> None:
    few = Blocks(b"[", MIN_BLOCKS_PER_JOB, _block, b"]")
    memory = io.BytesIO()  # no file descriptor
    write_blocks(memory, Blocks(b"[", 40, _block, b"]"), jobs=4)
    assert {pid for _, pid in _parse(memory.getvalue())} == {os.getpid()}
    out = tmp_path / "out"
    with out.open("wb") as handle:
        write_blocks(handle, few, jobs=2)  # one block per worker or fewer: not worth a fork
    assert {pid for _, pid in _parse(out.read_bytes())} == {os.getpid()}
    assert out.read_bytes() == b"".join(few.chunks())


def test_write_blocks_writes_head_blocks_and_tail_in_order(tmp_path: Path) -> None:
    blocks = Blocks(b"HEAD[", 30, _block, b"]TAIL")
    out = tmp_path / "out"
    with out.open("wb") as handle:
        handle.write(b"buffered before;")  # still in the file object's buffer
        write_blocks(handle, blocks, jobs=2)
        handle.write(b";after")
    data = out.read_bytes()
    assert data.startswith(b"buffered before;HEAD[")
    assert data.endswith(b"]TAIL;after")
    inner = data[len(b"buffered before;HEAD[") : -len(b"]TAIL;after")]
    assert [i for i, _ in _parse(inner)] == list(range(30))
    assert len({pid for _, pid in _parse(inner)}) == 2
