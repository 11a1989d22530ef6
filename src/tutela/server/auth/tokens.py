"""The API key format: ``tut_`` + 32 base62 random characters + a 6-character base62 CRC32.

32 base62 characters carry 190 bits of randomness. The checksum lets a mistyped key, or a
string that merely looks like a key, be rejected without a database lookup, and lets secret
scanners recognise a leaked key with few false positives (GitHub's token design).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import zlib

KEY_PREFIX = "tut_"
_ALPHABET = string.digits + string.ascii_letters  # base62
_RANDOM_LENGTH = 32
_CHECKSUM_LENGTH = 6
_SHAPE = re.compile(rf"^{KEY_PREFIX}[0-9A-Za-z]{{{_RANDOM_LENGTH + _CHECKSUM_LENGTH}}}$")
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 8


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), _CHECKSUM_LENGTH)


def generate_key() -> str:
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return f"{KEY_PREFIX}{random_part}{_checksum(random_part)}"


def is_well_formed(candidate: str) -> bool:
    """Prefix, alphabet, length and checksum: everything that needs no database."""
    if not _SHAPE.match(candidate):
        return False
    body = candidate[len(KEY_PREFIX) :]
    random_part, checksum = body[:_RANDOM_LENGTH], body[_RANDOM_LENGTH:]
    return hmac.compare_digest(_checksum(random_part), checksum)


def hash_key(pepper: bytes, key: str) -> str:
    """What the store keeps: HMAC-SHA256 under the server's pepper, hex."""
    return hmac.new(pepper, key.encode("ascii"), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    """Enough of the key to recognise it in a list; far too little to guess the rest."""
    return key[:DISPLAY_PREFIX_LENGTH]
