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
from collections.abc import Callable
from typing import Any

import orjson

from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.turns import Blocks

_SLOT = "\x00slot\x00"  # a string no document holds: orjson writes it as \u0000slot\u0000
BLOCK_ITEMS = 1_000  # items per block of a list


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

    Filling is the hot path of a large SARIF report (a result per failing check and resource),
    so it is two C calls: orjson encodes all the texts at once as a list, ``["a","b"]``, which is
    cut into the escaped texts at each ``","`` (inside an encoded string every quote is escaped,
    ``\\"``, so that sequence only ever stands between two strings), and the texts go into the
    encoded object through ``bytes %`` (its own ``%`` doubled, each slot made a ``%s``).
    """

    SLOT = _SLOT

    def __init__(self, fields: dict[str, Any], *, depth: int, indent: bool) -> None:
        pad = b"\n" + b"  " * depth if indent else b""
        encoded = b"{" + members(fields, depth=depth, indent=indent) + pad + b"}"
        pieces = encoded.split(escaped(_SLOT))
        self._format = b"%s".join(piece.replace(b"%", b"%%") for piece in pieces)
        self._slots = len(pieces) - 1

    @property
    def slots(self) -> int:
        return self._slots

    def fill(self, *texts: str) -> bytes:
        """The object with the texts (strings, one per slot) escaped in their slots."""
        if len(texts) != self._slots:
            raise ValueError(f"{len(texts)} texts for {self._slots} slots")
        if not texts:
            return self._format % ()
        return self._format % tuple(orjson.dumps(texts)[2:-2].split(b'","'))

    @staticmethod
    def fill_each(templates: list[Template], texts: list[str]) -> list[bytes]:
        """``[t.fill(*its texts) for t in templates]``, each template's texts in turn in ``texts``.

        Every template has the same number of slots. A block of a large report fills a thousand
        templates: encoding all their texts in one ``orjson.dumps`` and cutting them apart in one
        ``split`` (as ``fill`` does for one) costs about half as much as a ``fill`` per template.
        """
        slots = {template._slots for template in templates}
        if len(slots) > 1:
            raise ValueError("templates with different numbers of slots")
        per = slots.pop() if slots else 0
        if len(texts) != per * len(templates):
            raise ValueError(f"{len(texts)} texts for {len(templates)} templates of {per} slots")
        if not texts:
            return [template._format % () for template in templates]
        pieces = iter(orjson.dumps(texts)[2:-2].split(b'","'))
        each = zip(*[pieces] * per, strict=True)  # the pieces, ``per`` at a time
        return [template._format % filled for template, filled in zip(templates, each, strict=True)]


def in_list(
    document: dict[str, Any],
    items: Callable[[int, int], list[bytes]],
    total: int,
    *,
    depth: int,
    indent: bool,
    block_items: int = BLOCK_ITEMS,
) -> Blocks:
    """The document with the one value that is ``Template.SLOT`` replaced by a list of items.

    ``items(start, stop)`` gives items ``start … stop - 1``, encoded objects at ``depth`` (as
    ``Template.fill`` makes them); there are ``total``. A block holds ``block_items`` of them,
    joined by their separator, so the list is never whole in memory.
    """
    encoded = dumps(document, indent=indent)
    before, after = re.split(re.escape(b'"' + escaped(_SLOT) + b'"'), encoded, maxsplit=1)
    line = b"\n" + b"  " * depth if indent else b""  # each item starts a line when indented
    separator = b"," + line

    def block(index: int) -> list[bytes]:
        start = index * block_items
        batch = items(start, min(total, start + block_items))
        return [(line if index == 0 else separator) + separator.join(batch)]

    count = -(-total // block_items)
    if indent and count:  # some items: the bracket closes on its own line
        return Blocks(before + b"[", count, block, b"\n" + b"  " * (depth - 1) + b"]" + after)
    return Blocks(before + b"[", count, block, b"]" + after)
