"""A stored report's own zlib stream: where it ends in the sealed body, and its JSON's CRC-32.

The sealed body is the report's zlib stream, then (since passes are recorded) the passes' stream
(``reports.passed``). The report's stream is what a client that accepts ``deflate`` or ``gzip``
is sent as it is (``responses.EncodedReport``); gzip's trailer also needs the CRC-32 and size
of the JSON in it. They are known when the report is stored, and this process remembers them for
the reports it last stored or read; otherwise they are found by inflating the stream once
(its JSON is neither kept nor sent). Entries are keyed by tenant, report id and the report's
wrapped data key, which is new for every sealed body: a report deleted and another stored under
its id is another entry. An entry holds three numbers, never a report's content, and is only
used once the body it describes has been opened (its integrity checked) for its own tenant.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from typing import NamedTuple

from tutela.scanner.outputs.deflating import Deflated

REMEMBERED = 4096  # entries; a few hundred KiB at most
_SLICE = 1 << 22  # JSON bytes inflated at a time while measuring


class StreamFacts(NamedTuple):
    end: int  # where the report's stream ends in the compressed body
    crc32: int
    size: int


_Key = tuple[str, str, bytes]  # tenant id, report id, wrapped data key


class _Remembered:
    """The facts of the streams last stored or read, least recently used dropped first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[_Key, StreamFacts] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> StreamFacts | None:
        with self._lock:
            facts = self._entries.get(key)
            if facts is not None:
                self._entries.move_to_end(key)
            return facts

    def put(self, key: _Key, facts: StreamFacts) -> None:
        with self._lock:
            self._entries[key] = facts
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_remembered = _Remembered(REMEMBERED)


def remember(tenant_id: str, report_id: str, wrapped_key: bytes, report: Deflated) -> None:
    """Note the stream of a report just stored (``report``: its own stream, as sealed)."""
    facts = StreamFacts(len(report.stream), report.crc32, report.size)
    _remembered.put((tenant_id, report_id, wrapped_key), facts)


def report_stream(
    tenant_id: str, report_id: str, wrapped_key: bytes, compressed: bytes
) -> Deflated:
    """The report's own stream of an opened body, with its JSON's CRC-32 and size.

    Raises ``zlib.error`` for a body whose first stream is not whole.
    """
    key = (tenant_id, report_id, wrapped_key)
    facts = _remembered.get(key)
    if facts is None:
        facts = measure(compressed)
        _remembered.put(key, facts)
    stream = compressed if facts.end == len(compressed) else compressed[: facts.end]
    return Deflated(stream, facts.crc32, facts.size)


def measure(compressed: bytes) -> StreamFacts:
    """Where the first zlib stream of ``compressed`` ends, and its content's CRC-32 and size."""
    decompressor = zlib.decompressobj()
    pending: bytes = compressed
    crc32 = size = 0
    while pending and not decompressor.eof:
        out = decompressor.decompress(pending, _SLICE)
        crc32, size = zlib.crc32(out, crc32), size + len(out)
        pending = decompressor.unconsumed_tail
    if not decompressor.eof:
        raise zlib.error("incomplete or truncated stream")
    # Past the end, the input left is ``unused_data``. When the call that reached the end also
    # hit the output limit, CPython leaves the same bytes in ``unconsumed_tail`` too: not added.
    return StreamFacts(len(compressed) - len(decompressor.unused_data), crc32, size)
