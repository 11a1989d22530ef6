"""JSON with comments, as ARM reads templates: ``//`` and ``/* */`` comments, trailing commas.

``plain_json`` blanks them out rather than removing them: every other byte keeps its offset, so
the lines and columns reported for a resource are those of the file as written.
"""

from __future__ import annotations

import re
from typing import Final

# A string (kept as it is), a comment, or a comma before a closing bracket (blanked). Comments
# are atomic groups: a bracket inside one is never taken for the one a comma stands before.
_COMMENT: Final = rb"(?>//[^\r\n]*)|(?>/\*.*?\*/)"
_EXTRA: Final = re.compile(
    rb'"(?:[^"\\]|\\.)*"|' + _COMMENT + rb"|,(?=(?:\s|" + _COMMENT + rb")*[\]}])", re.DOTALL
)
# Every byte but a line break becomes a space.
_KEEP_LINES: Final = bytes(byte if byte in b"\r\n" else 32 for byte in range(256))


def _blank(match: re.Match[bytes]) -> bytes:
    text = match.group()
    return text if text.startswith(b'"') else text.translate(_KEEP_LINES)


def plain_json(data: bytes | memoryview) -> bytes | None:
    """The document with its comments and trailing commas blanked; None if it has neither."""
    raw = bytes(data)
    plain = _EXTRA.sub(_blank, raw)
    return None if plain == raw else plain
