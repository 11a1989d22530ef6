"""Steps shared by the platform settings tests: read and change them as an operator would."""

from __future__ import annotations

import weakref
from typing import Any

import httpx

from tests.platform import Platform, auth

# One operator key per platform: the operator of the session's PostgreSQL database may hold
# only TUTELA_MAX_KEYS_PER_USER live keys, for every test of the session.
_operator_keys: weakref.WeakKeyDictionary[Platform, str] = weakref.WeakKeyDictionary()


def operator_key(platform: Platform) -> str:
    if platform not in _operator_keys:
        _operator_keys[platform] = platform.operator_key()
    return _operator_keys[platform]


def change(platform: Platform, key: str | None = None, **body: Any) -> httpx.Response:
    return platform.client.patch(
        "/admin/settings", headers=auth(key or operator_key(platform)), json=body
    )


def changed(platform: Platform, key: str | None = None, **body: Any) -> dict[str, Any]:
    response = change(platform, key, **body)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


def shown(platform: Platform, key: str | None = None) -> dict[str, Any]:
    response = platform.client.get("/admin/settings", headers=auth(key or operator_key(platform)))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def retire_operator_key(platform: Platform) -> None:
    """Expire the platform's operator key (the operator's live keys are counted)."""
    key = _operator_keys.pop(platform, None)
    if key is not None:
        platform.expire(key)
