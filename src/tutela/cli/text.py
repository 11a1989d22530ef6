"""Printing what others named: key names, tenants, emails, labels, server messages.

Such a name may hold terminal control sequences (``ESC[31m`` colours the operator's terminal,
``ESC]8;…`` writes a link, a CR overwrites the line) or rich markup (``[link=…]``). ``plain``
drops the first; ``shown`` also escapes the second, for text printed with markup on.
"""

from __future__ import annotations

import re

from rich.markup import escape

# An escape sequence whole (CSI ``ESC [ … final``, OSC/DCS/APC/PM/SOS strings up to their
# terminator, or ESC and one character), then any single control character left: C0, DEL,
# C1 (``\x9b`` is a CSI of its own), line separators and bidirectional overrides.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: object) -> str:
    """``text`` without terminal escape sequences or control characters (tabs become spaces)."""
    return _CONTROL.sub("", _SEQUENCE.sub("", str(text).replace("\t", " ")))


def shown(text: object) -> str:
    """``plain(text)`` with rich markup escaped: safe inside a string printed with markup."""
    return escape(plain(text))
