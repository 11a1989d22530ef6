"""The platform key file and AES-256-GCM sealing."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from tutela.server.config import Settings, SettingsError
from tutela.server.crypto import (
    DecryptionError,
    PlatformKeys,
    load_platform_key,
    seal,
    unseal,
)


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = load_platform_key(settings)
    path = settings.resolved_platform_key_file
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_platform_key(settings) == key


def test_key_from_settings_and_bad_keys(tmp_path: Path) -> None:
    raw = bytes(range(32))
    given = Settings(data_dir=tmp_path, platform_key=base64.b64encode(raw).decode())
    assert load_platform_key(given) == raw
    assert not (tmp_path / "platform.key").exists()
    with pytest.raises(SettingsError, match=r"^TUTELA_PLATFORM_KEY: "):
        load_platform_key(Settings(data_dir=tmp_path, platform_key="short"))
    broken = tmp_path / "broken.key"
    broken.write_text(base64.b64encode(b"x" * 16).decode())
    with pytest.raises(SettingsError, match="TUTELA_PLATFORM_KEY_FILE"):
        load_platform_key(Settings(data_dir=tmp_path, platform_key_file=broken))


def test_subkeys_differ_by_purpose() -> None:
    keys = PlatformKeys(bytes(32))
    assert keys.api_key_pepper != keys.credentials_key != keys.master


def test_seal_round_trip_and_tampering() -> None:
    key = PlatformKeys(bytes(32)).credentials_key
    sealed = seal(key, b"plaintext", b"context-a")
    assert b"plaintext" not in sealed
    assert seal(key, b"plaintext", b"context-a") != sealed  # fresh nonce each time
    assert unseal(key, sealed, b"context-a") == b"plaintext"
    with pytest.raises(DecryptionError):
        unseal(key, sealed, b"context-b")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionError):
        unseal(key, tampered, b"context-a")
    with pytest.raises(DecryptionError):
        unseal(bytes(32), sealed, b"context-a")
