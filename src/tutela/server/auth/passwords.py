"""People's passwords: argon2id through argon2-cffi, with its default (RFC 9106 low-memory) cost.

A sign-in for an email that has no password still spends one verification, against a hash made
once per process, so its timing does not tell whether the account exists.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; a cap keeps one request from costing much more

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; None (no password set) never matches but costs
    the same."""
    try:
        return _hasher.verify(stored or _decoy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the stored hash used weaker parameters than today's: rehash on sign-in."""
    return _hasher.check_needs_rehash(stored)


def weakness(password: str, email: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if password.strip().lower() == email.strip().lower():
        return "must not be your email address"
    if len(set(password)) < 4:
        return "must not repeat so few characters"
    return None


@lru_cache(maxsize=1)
def _decoy() -> str:
    return _hasher.hash("tutela decoy password, never anyone's")
