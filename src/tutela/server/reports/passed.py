"""A stored report's passing evidence: kept after the report, served only when asked for.

The sealed body of a report is its compact JSON as one zlib stream, which every reader inflates
(``GET /report/{id}``, the diff, drift, the insights), followed since passes are recorded by a
second zlib stream: the ``passed`` array (``scanner.outputs.passed``). Readers of the report
stop at the end of the first stream (``inflate``, ``zlib.decompress``), so the report they read
and the bytes ``GET /report/{id}`` answers by default are what they were; no table changed, no
migration. A body with nothing after its first stream is a report stored before passes were
recorded: it is served with ``"passed_recorded": false`` and ``"passed": null``.

``GET /report/{id}?include=passed`` answers the report with ``passed_recorded`` and ``passed``
after its other members, inflated a slice at a time from both streams: at 50,000 resources
(an 840 MiB report, 31 MiB of passes) the answer is never whole in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import orjson

from tutela.scanner.outputs.passed import PASSED, RECORDED
from tutela.scanner.outputs.report_json import inflate

_SLICE = 1 << 22  # bytes of JSON out at a time
_INPUT = 1 << 16  # compressed bytes fed at a time
_NOT_RECORDED = b"," + orjson.dumps({RECORDED: False, PASSED: None})[1:]  # and the brace
_RECORDED = b"," + orjson.dumps({RECORDED: True, PASSED: []})[1:-3]  # before the array


class StoredBody:
    """A stored report's compressed bytes, read as the report and then its passes.

    ``report()`` inflates the report a slice at a time; once it is read, ``passed()`` inflates
    the passes that follow it, or is None for a report stored without them.
    """

    def __init__(self, compressed: bytes) -> None:
        self._compressed = compressed
        self._after: memoryview | None = None  # what follows the report's stream, once read

    def report(self) -> Iterator[bytes]:
        """The report's compact JSON (``inflate``), noting where its stream ends."""
        decompressor = zlib.decompressobj()
        view = memoryview(self._compressed)
        start = 0
        while start < len(view) and not decompressor.eof:
            pending: bytes | memoryview = view[start : start + _INPUT]
            start += len(pending)
            while pending and not decompressor.eof:
                out = decompressor.decompress(pending, _SLICE)
                if out:
                    yield out
                pending = decompressor.unconsumed_tail
        if not decompressor.eof:
            raise zlib.error("incomplete or truncated stream")
        rest = decompressor.flush()
        if rest:
            yield rest
        self._after = view[start - len(decompressor.unused_data) :]

    def passed(self) -> Iterator[bytes] | None:
        """The ``passed`` array's compact JSON after ``report()`` was read; None if not stored."""
        if self._after is None:
            raise RuntimeError("read the report first")
        if not len(self._after):
            return None
        return inflate(bytes(self._after), _SLICE)


def with_passed(compressed: bytes) -> Iterator[bytes]:
    """The stored report's compact JSON with ``passed_recorded`` and ``passed`` as its last
    members, a slice at a time."""
    body = StoredBody(compressed)
    held = b""
    for piece in body.report():
        if held:
            yield held
        held = piece
    if not held.endswith(b"}"):
        raise zlib.error("the stored report is not a JSON object")
    yield held[:-1]
    passes = body.passed()
    if passes is None:
        yield _NOT_RECORDED
        return
    yield _RECORDED
    yield from passes
    yield b"}"


def read_passed(compressed: bytes) -> list[dict[str, object]] | None:
    """The stored ``passed`` array as Python data (the insights' use); None if not recorded."""
    body = StoredBody(compressed)
    for _ in body.report():
        pass
    passes = body.passed()
    if passes is None:
        return None
    parsed: list[dict[str, object]] = orjson.loads(b"".join(passes))
    return parsed
