"""Text every store can hold: the one rule applied to bodies, query strings and paths.

PostgreSQL's ``text`` cannot hold NUL (SQLite can), and neither driver can encode an unpaired
UTF-16 surrogate (JSON's ``"\\ud800"``) as UTF-8. Such input is refused at the edge with the
same 422 on both backends, instead of a 500 on one of them.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr

UNSTORABLE_MESSAGE = "Text may not contain NUL characters or unpaired surrogates"
UNSTORABLE_TYPE = "string_unstorable"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def holds_unstorable_text(value: Any) -> bool:
    """Whether a validated value holds unstorable text, in strings, containers or secrets.

    Nested models are not entered: they are input models, which check their own fields.
    """
    if isinstance(value, str):
        return not is_storable(value)
    if isinstance(value, SecretStr):
        return not is_storable(value.get_secret_value())
    if isinstance(value, dict):
        return any(holds_unstorable_text(k) or holds_unstorable_text(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(holds_unstorable_text(item) for item in value)
    return False
