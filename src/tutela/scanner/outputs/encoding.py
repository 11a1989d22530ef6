"""JSON by parts: exactly what orjson writes for a document, assembled from pieces encoded once.

Large outputs (a million findings, hundreds of thousands of SARIF results) repeat a few texts
many times. Encoding each repeated piece once and joining bytes is several times faster than
building a dict per item and encoding it, and lets the output be streamed.

Indented output is orjson's ``OPT_INDENT_2``: an object's members are written by orjson at two
spaces and moved to their depth here. No JSON string holds a raw newline, so every newline in
encoded bytes starts a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from tutela.scanner.outputs.report import dumps

_SLOT = "\x00slot\x00"  # a string no document holds: orjson writes it as \u0000slot\u0000


def members(fields: dict[str, Any], *, depth: int, indent: bool) -> bytes:
    """The members of an object at ``depth`` (0: the document) without its braces."""
    encoded = dumps(fields, indent=indent)[1:-1]
    if not indent:
        return encoded
    return encoded[:-1].replace(b"\n", b"\n" + b"  " * depth)


def escaped(text: str) -> bytes:
    """The text as it stands inside a JSON string, without the quotes."""
    return orjson.dumps(text)[1:-1]


class Template:
    """An object at ``depth`` whose string values hold ``Template.SLOT``s, filled per use.

    ``Template({"id": SLOT, "message": {"text": f"Failed: {SLOT}"}}, depth=4, indent=True)``
    encodes the object once; ``fill("a", "b")`` puts each text, escaped, into its slot.
    """

    SLOT = _SLOT

    def __init__(self, fields: dict[str, Any], *, depth: int, indent: bool) -> None:
        pad = b"\n" + b"  " * depth if indent else b""
        encoded = b"{" + members(fields, depth=depth, indent=indent) + pad + b"}"
        self._pieces = encoded.split(escaped(_SLOT))

    @property
    def slots(self) -> int:
        return len(self._pieces) - 1

    def fill(self, *texts: str) -> bytes:
        pieces = self._pieces
        parts = [pieces[0]]
        for text, piece in zip(texts, pieces[1:], strict=True):
            parts += (escaped(text), piece)
        return b"".join(parts)


def with_list(
    document: dict[str, Any], items: Iterable[bytes], *, depth: int, indent: bool
) -> Iterator[bytes]:
    """The document with the one value that is ``Template.SLOT`` replaced by a list of items.

    ``items`` are encoded objects at ``depth`` (as ``Template.fill`` makes them); the list is
    written in chunks as they come, so it is never whole in memory.
    """
    encoded = dumps(document, indent=indent)
    before, after = re.split(re.escape(b'"' + escaped(_SLOT) + b'"'), encoded, maxsplit=1)
    yield before + b"["
    separator, count = (b"\n" + b"  " * depth if indent else b""), 0
    pending: list[bytes] = []
    for item in items:
        pending += (b"," if count else b"", separator, item)
        count += 1
        if len(pending) >= 3_000:
            yield b"".join(pending)
            pending.clear()
    if count and indent:
        pending.append(b"\n" + b"  " * (depth - 1))
    yield b"".join(pending) + b"]" + after
