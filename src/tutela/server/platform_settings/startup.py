"""The start-up settings as GET /admin/settings shows them: every field, no secret.

A ``SecretStr`` field shows ``********`` when set; so does the password of any URL, in its
user-info (``postgresql+psycopg://user:pw@host/db``) or its query (``?password=pw``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from tutela.server.config import Settings

MASK = "********"
_SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pass", "secret", "token", "api_key"})


def startup_view(settings: Settings) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    plain = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        raw = getattr(settings, name)
        if isinstance(raw, SecretStr):
            shown[name] = MASK
        elif isinstance(plain[name], str) and "://" in plain[name]:
            shown[name] = masked_url(plain[name])
        else:
            shown[name] = plain[name]
    return shown


def masked_url(url: str) -> str:
    """``url`` with the password in its user-info and its query replaced by the mask."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not parseable as a URL: shown whole would risk a secret
        return MASK
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret_query = any(key.lower() in _SECRET_QUERY_KEYS for key, _ in pairs)
    if password is None and not secret_query:
        return url  # as given: rebuilding would change an unusual URL's spelling
    netloc = parts.netloc
    if password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    query = urlencode(
        [(k, MASK if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs], safe="*"
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
