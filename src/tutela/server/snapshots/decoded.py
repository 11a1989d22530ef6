"""Snapshots this process last read for a scan, kept decoded (bounded), per tenant.

Parsing a snapshot (its JSON, then its records into resources) is most of reading it; the same
snapshot is scanned again and again until it is replaced. A scan still reads the row, unwraps
its data key (503 while a customer-managed key cannot be used) and decrypts and checks the body
every time, as before; only then, for the same stored body, it takes the resources parsed last
time instead of parsing them again.

An entry is keyed by tenant, subscription and the snapshot's wrapped data key, which is new for
every upload: a replaced snapshot is never matched, and its entry is dropped when it is
replaced or deleted through this process. The resources are shared, never changed, by the
scans that read them (the engine only reads an estate). At most ``MAX_RESOURCES`` resources are
kept in all, the least recently used dropped first; a larger snapshot is not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from tutela.scanner.estate import Resource

MAX_RESOURCES = 10_000  # a few tens of MiB of parsed records at most

_Key = tuple[str, str, bytes]  # tenant id, subscription id, wrapped data key


class DecodedSnapshots:
    def __init__(self, max_resources: int = MAX_RESOURCES) -> None:
        self.max_resources = max_resources
        self._entries: OrderedDict[_Key, tuple[Resource, ...]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(
        self, tenant_id: str, subscription_id: str, wrapped_key: bytes
    ) -> list[Resource] | None:
        """The resources parsed from this stored body, if kept (a new list each time)."""
        key = (tenant_id, subscription_id, wrapped_key)
        with self._lock:
            resources = self._entries.get(key)
            if resources is None:
                return None
            self._entries.move_to_end(key)
            return list(resources)

    def put(
        self, tenant_id: str, subscription_id: str, wrapped_key: bytes, resources: list[Resource]
    ) -> None:
        if len(resources) > self.max_resources:
            return
        with self._lock:
            self._drop(lambda key: key[:2] == (tenant_id, subscription_id))
            self._entries[(tenant_id, subscription_id, wrapped_key)] = tuple(resources)
            self._held += len(resources)
            while self._held > self.max_resources:
                _, dropped = self._entries.popitem(last=False)
                self._held -= len(dropped)

    def forget(self, tenant_id: str, subscription_id: str) -> None:
        """Drop the subscription's entry (its snapshot was replaced or deleted)."""
        with self._lock:
            self._drop(lambda key: key[:2] == (tenant_id, subscription_id))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._held = 0

    def _drop(self, matches: Callable[[_Key], bool]) -> None:
        for key in [key for key in self._entries if matches(key)]:
            self._held -= len(self._entries.pop(key))


decoded_snapshots = DecodedSnapshots()
