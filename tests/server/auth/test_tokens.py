"""The key format: prefix, 190 bits of base62, CRC32 checksum checked offline."""

from __future__ import annotations

import math
import string

from tutela.server.auth import tokens


def test_shape_and_entropy() -> None:
    key = tokens.generate_key()
    assert key.startswith("tut_")
    assert len(key) == 4 + 32 + 6
    assert set(key[4:]) <= set(string.digits + string.ascii_letters)
    assert 32 * math.log2(62) >= 160
    assert len({tokens.generate_key() for _ in range(1000)}) == 1000


def test_checksum_catches_every_single_character_typo() -> None:
    key = tokens.generate_key()
    assert tokens.is_well_formed(key)
    alphabet = string.digits + string.ascii_letters
    for position in range(4, len(key)):
        replacement = alphabet[(alphabet.index(key[position]) + 1) % 62]
        typo = key[:position] + replacement + key[position + 1 :]
        assert not tokens.is_well_formed(typo), position


def test_shape_rejections() -> None:
    key = tokens.generate_key()
    for bad in [
        "",
        "tut_",
        key[:-1],
        key + "0",
        "ghp_" + key[4:],
        key.replace("tut_", "TUT_"),
        key[:10] + "-" + key[11:],
        " " + key,
    ]:
        assert not tokens.is_well_formed(bad), bad


def test_hash_depends_on_the_pepper() -> None:
    key = tokens.generate_key()
    assert tokens.hash_key(b"a" * 32, key) != tokens.hash_key(b"b" * 32, key)
    assert len(tokens.hash_key(b"a" * 32, key)) == 64
    assert tokens.display_prefix(key) == key[:12]
