"""Envelope encryption of stored documents (reports, snapshots).

Each document gets a fresh AES-256-GCM data key; the data key is wrapped by a key-encryption key
(a version of the platform key: mode ``pmk``; or a tenant's own Azure Key Vault key or secret:
mode ``cmk``). The tenant and the document's id are bound as associated data on both layers, so a
body or a wrapped key moved to another row does not open. Rotating the platform key re-wraps
data keys only: a document's body is never re-encrypted.
"""

from __future__ import annotations

import secrets
import zlib
from typing import Any, Protocol

import orjson
from isal import isal_zlib

from tutela.scanner.outputs.report import dumps
from tutela.server.crypto import KEY_BYTES, DecryptionError, derive_key, seal, unseal


class DocumentUnreadable(Exception):
    """A stored document failed its integrity check: tampered, moved or under the wrong key."""


class KeyWrapper(Protocol):
    mode: str
    key_ref: str | None  # the exact key that wraps (a versioned Key Vault id); None for pmk

    def wrap(self, data_key: bytes, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...


class PlatformKeyWrapper:
    """Wraps data keys with one version of the platform key (``encryption.platform_keys``)."""

    mode = "pmk"

    def __init__(self, kek: bytes, key_ref: str | None) -> None:
        self._kek = kek
        self.key_ref = key_ref  # None for the original version, else ``pmk:<id>``

    @classmethod
    def original(cls, master: bytes) -> PlatformKeyWrapper:
        """The first version: a subkey of the root key, which every document before the first
        rotation is sealed with."""
        return cls(derive_key(master, "tutela/report-kek/v1"), None)

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        return seal(self._kek, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        return unseal(self._kek, wrapped, context)


def context(kind: str, tenant_id: str, document_id: str) -> bytes:
    """Associated data binding a sealed document to its tenant and id."""
    return f"tutela/{kind}/v1|{tenant_id}|{document_id}".encode()


def seal_document(wrapper: KeyWrapper, document: Any, bound_to: bytes) -> tuple[bytes, bytes]:
    """(wrapped data key, sealed body) of a JSON document, compressed before encryption."""
    return seal_json(wrapper, dumps(document, indent=False), bound_to)


# ISA-L's level 1 (``scanner.outputs.deflating``): most of the size gain of JSON compression
# for a fraction of the time; zlib's format, so read back with ``zlib.decompress``.
COMPRESSION_LEVEL = 1


def seal_json(wrapper: KeyWrapper, data: bytes, bound_to: bytes) -> tuple[bytes, bytes]:
    """(wrapped data key, sealed body) of a document's JSON bytes."""
    return seal_compressed(wrapper, isal_zlib.compress(data, COMPRESSION_LEVEL), bound_to)


def seal_compressed(wrapper: KeyWrapper, compressed: bytes, bound_to: bytes) -> tuple[bytes, bytes]:
    """(wrapped data key, sealed body) of a document's JSON already zlib-compressed, as a large
    report compresses itself while it is encoded (``ReportDocument.compressed``): the same
    stored format as ``seal_json``."""
    data_key = secrets.token_bytes(KEY_BYTES)
    return wrapper.wrap(data_key, bound_to), seal(data_key, compressed, bound_to)


def open_compressed(wrapper: KeyWrapper, wrapped_key: bytes, body: bytes, bound_to: bytes) -> bytes:
    """The document's compressed JSON (``inflate`` streams it): its integrity checked."""
    try:
        data_key = wrapper.unwrap(wrapped_key, bound_to)
        return unseal(data_key, body, bound_to)
    except DecryptionError as exc:
        raise DocumentUnreadable(str(exc)) from None


def open_json(wrapper: KeyWrapper, wrapped_key: bytes, body: bytes, bound_to: bytes) -> bytes:
    """The document's JSON bytes, as sealed: for serving it without parsing it."""
    compressed = open_compressed(wrapper, wrapped_key, body, bound_to)
    try:
        return zlib.decompress(compressed)
    except zlib.error as exc:
        raise DocumentUnreadable(str(exc)) from None


def open_document(wrapper: KeyWrapper, wrapped_key: bytes, body: bytes, bound_to: bytes) -> Any:
    try:
        return orjson.loads(open_json(wrapper, wrapped_key, body, bound_to))
    except orjson.JSONDecodeError as exc:
        raise DocumentUnreadable(str(exc)) from None
