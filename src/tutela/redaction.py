"""Removing secrets from text shown to people: error messages, log lines, CLI output.

Plain ``text.replace(secret, …)`` reveals a short secret instead of hiding it: a one-character
client secret was replaced wherever that character occurred in a GUID, and the gaps spelled it
out. So a secret is only replaced as a whole value, never as a fragment of a longer token
(letters, digits and ``_ ~ . -``, the alphabet of API keys and Azure client secrets). A
secret of ``ANYWHERE_CHARS`` characters or more is replaced wherever it occurs: a random
string that long does not occur by chance, so a longer token holding it holds the secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ANYWHERE_CHARS = 16
_VALUE_CHAR = r"[A-Za-z0-9_~-]"


def redact(text: str, secrets: Iterable[str], replacement: str) -> str:
    """``text`` with each non-empty secret replaced by ``replacement`` where it is a whole value."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= ANYWHERE_CHARS:
            text = text.replace(secret, replacement)
            continue
        # Not preceded by a token character (nor a dot), not followed by one; a dot after it
        # ends a sentence unless a token character follows the dot.
        whole = rf"(?<!{_VALUE_CHAR})(?<!\.){re.escape(secret)}(?!{_VALUE_CHAR}|\.{_VALUE_CHAR})"
        text = re.sub(whole, lambda _match: replacement, text)
    return text
