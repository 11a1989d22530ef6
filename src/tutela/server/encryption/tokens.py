"""The one-time token of the switch back to the platform key: emailed once, stored as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# 32 random bytes: 43 URL-safe characters, far beyond guessing within the token's 30 minutes.
TOKEN_BYTES = 32


def new_token() -> tuple[str, str]:
    """A fresh token and the SHA-256 hex digest stored in its place."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matches(token: str, stored_digest: str) -> bool:
    """Whether ``token`` is the one whose digest was stored, compared in constant time."""
    return hmac.compare_digest(digest(token), stored_digest)
