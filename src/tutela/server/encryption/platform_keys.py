"""The platform key ring: which version of the platform key seals a new ``pmk`` document, and
which opens a stored one.

The root key file (``crypto.load_platform_key``) stays put: it also derives the API-key pepper
and the credential key. What rotates is the key that wraps documents' data keys. Its first
version, ``original``, is derived from the root key; each later one is 32 random bytes stored in
``platform_keys`` sealed under the root key's ring subkey. ``rotation`` makes a new version
current and re-wraps every data key under it before the old version is retired.

Sealing reads the current version in the caller's transaction with a shared row lock
(``FOR SHARE`` on PostgreSQL; SQLite's writers already queue). A rotation replaces the current
version under an exclusive lock, so it waits for every transaction still sealing with the old
one to commit: once the new version is current, no row can appear under the old one, and the
rotation's sweep sees every row that needs re-wrapping.
"""

from __future__ import annotations

import threading
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.server.crypto import derive_key, seal, unseal
from tutela.server.encryption.models import PlatformKey
from tutela.server.reports.envelope import DocumentUnreadable, PlatformKeyWrapper

ORIGINAL: Final = "original"
CURRENT: Final = "current"
RETIRING: Final = "retiring"
RETIRED: Final = "retired"
_REF_PREFIX: Final = "pmk:"


def key_ref(key_id: str) -> str | None:
    """The ``key_ref`` a document sealed under this version records."""
    return None if key_id == ORIGINAL else _REF_PREFIX + key_id


def key_id(ref: str | None) -> str:
    """The version a ``pmk`` document's ``key_ref`` names."""
    if ref is None:
        return ORIGINAL
    if not ref.startswith(_REF_PREFIX):
        raise DocumentUnreadable(f"{ref!r} does not name a platform key")
    return ref.removeprefix(_REF_PREFIX)


def _material_context(key_id: str) -> bytes:
    return f"tutela/platform-key/v1|{key_id}".encode()


class PlatformKeyRing:
    """The versions of the platform key this process has opened, by id (they never change)."""

    def __init__(self, master: bytes) -> None:
        self._sealing_key = derive_key(master, "tutela/platform-key-ring/v1")
        self._lock = threading.Lock()
        self._wrappers: dict[str, PlatformKeyWrapper] = {
            ORIGINAL: PlatformKeyWrapper.original(master)
        }

    def seal_material(self, key_id: str, material: bytes) -> bytes:
        """A new version's 32 bytes as ``platform_keys`` stores them."""
        return seal(self._sealing_key, material, _material_context(key_id))

    def sealing(self, session: Session) -> PlatformKeyWrapper:
        """The current version, share-locked until the caller's transaction ends."""
        return self.wrapper(session, current(session).id)

    def opening(self, session: Session, ref: str | None) -> PlatformKeyWrapper:
        """The version that sealed a stored ``pmk`` row."""
        return self.wrapper(session, key_id(ref))

    def wrapper(self, session: Session, key_id: str) -> PlatformKeyWrapper:
        with self._lock:
            known = self._wrappers.get(key_id)
        if known is not None:
            return known
        row = session.get(PlatformKey, key_id)
        if row is None or row.sealed_key is None:
            state = "unknown" if row is None else row.state
            raise DocumentUnreadable(f"platform key {key_id} is {state}: it opens nothing")
        material = unseal(self._sealing_key, row.sealed_key, _material_context(key_id))
        wrapper = PlatformKeyWrapper(material, key_ref(key_id))
        with self._lock:
            self._wrappers[key_id] = wrapper
        return wrapper


def current(session: Session, *, lock: str = "share") -> PlatformKey:
    """The current version's row, locked (``share`` for sealing, ``update`` for a rotation).

    On PostgreSQL a reader that waited for a rotation's lock finds the row it waited for no
    longer current, and the new one outside its statement's snapshot: the second look sees it.
    """
    query = select(PlatformKey).where(PlatformKey.state == CURRENT)
    query = query.with_for_update(read=lock == "share")
    for _ in range(2):
        row = session.scalars(query).first()
        if row is not None:
            return row
    raise RuntimeError("the platform key ring has no current version (run `tutela db upgrade`)")
