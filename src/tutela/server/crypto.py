"""The platform master key (PMK) and the AES-256-GCM sealing built on it.

One 32-byte secret, kept in a 0600 file under the data dir (or given in settings), is the root of
every server-side secret. Purpose-specific subkeys are derived from it with HKDF so the API-key
pepper and the credential-encryption key are never the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tutela.server.config import Settings, SettingsError

KEY_BYTES = 32
_NONCE_BYTES = 12
_FORMAT_V1 = b"\x01"


class DecryptionError(Exception):
    """A sealed value could not be opened: wrong key, wrong context or tampered bytes."""


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"{source}: not valid base64") from None
    if len(key) != KEY_BYTES:
        raise SettingsError(f"{source}: must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def load_platform_key(settings: Settings) -> bytes:
    """Return the PMK, creating the key file (mode 0600) on first start."""
    if settings.platform_key is not None:
        return _decode_key(settings.platform_key.get_secret_value(), "TUTELA_PLATFORM_KEY")
    path = settings.resolved_platform_key_file
    if path.exists():
        return _decode_key(path.read_text(encoding="ascii"), f"TUTELA_PLATFORM_KEY_FILE ({path})")
    return _create_key_file(path)


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _decode_key(path.read_text(encoding="ascii"), f"TUTELA_PLATFORM_KEY_FILE ({path})")
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(key).decode("ascii") + "\n")
    return key


def derive_key(master: bytes, purpose: str) -> bytes:
    """A 32-byte subkey of the master key for one purpose (HKDF-SHA256)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode())
    return hkdf.derive(master)


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """AES-256-GCM: version byte, random 96-bit nonce, ciphertext with tag."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return _FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def unseal(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    if not sealed.startswith(_FORMAT_V1) or len(sealed) < 1 + _NONCE_BYTES + 16:
        raise DecryptionError("unknown sealed format")
    nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, associated_data)
    except InvalidTag:
        raise DecryptionError("integrity check failed") from None


class PlatformKeys:
    """The PMK and its derived subkeys, held for the life of the app."""

    def __init__(self, master: bytes) -> None:
        self.api_key_pepper = derive_key(master, "tutela/api-key-pepper/v1")
        self.credentials_key = derive_key(master, "tutela/tenant-credentials/v1")
        self._master = master

    @property
    def master(self) -> bytes:
        return self._master
