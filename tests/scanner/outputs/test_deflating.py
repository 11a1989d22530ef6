"""A zlib stream put together from a head compressed alone and a rest compressed once."""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import pytest

from tutela.scanner.outputs.deflating import (
    Deflater,
    adler32_combine,
    crc32_combine,
    zlib_stream,
)


@pytest.mark.parametrize(("first", "second"), [(0, 0), (1, 0), (0, 5), (100, 70_000), (7, 1 << 20)])
def test_checksums_combine_as_zlib_s(first: int, second: int) -> None:
    a, b = os.urandom(first), os.urandom(second)
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


@pytest.mark.parametrize("level", [0, 1, 3])  # ISA-L's levels
def test_a_head_and_a_rest_make_one_stream_in_both_codings(level: int) -> None:
    rest = b'{"check_id":"AOAI-LOCAL-AUTH","status":"fail"},' * 40_000 + b"]}"
    rest += bytes(range(256)) * 20_000  # 5 MiB in all: pieces compressed in slices side by side
    deflater = Deflater(level)
    for start, end in ((0, 300_000), (300_000, 310_000), (310_000, len(rest))):
        deflater.feed(rest[start:end])  # in pieces, as a report's blocks come
    deflater.finish()
    for head in (b'{"report_id":null,"findings":[', b'{"report_id":"COMP-1-2","findings":['):
        made = zlib_stream(level, head, deflater)
        assert zlib.decompress(made.stream) == head + rest
        assert (made.crc32, made.size) == (zlib.crc32(head + rest), len(head + rest))
        member = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + made.stream[2:-4]
        assert gzip.decompress(member + struct.pack("<II", made.crc32, made.size)) == head + rest
