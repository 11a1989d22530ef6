"""A stored report's findings, cut into batches as its JSON arrives a piece at a time.

Governance drift (``side_of_stored``) and the stored diff (``side_of_stored_report``) both read
a stored report without its JSON (900 MiB at 50,000 resources) ever whole in memory: its
``"findings":[`` array is cut into batches that decode on their own, and the last batch is read
with the members after the array. Each caller decodes the batches as it needs them (drift as
``StoredFinding``, the diff as their bytes) and reads the members around the array itself; both
read the ``accepted`` member (after the array in a report Tutela wrote) with ``accepted_of``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

import msgspec

from tutela.scanner.engine.diff import Pair, accepted_pair

T = TypeVar("T")

_FINDINGS = b'"findings":['
# Between two findings of the compact report (each opens with its control_id). The bytes cannot
# occur inside a JSON string (its quotes would be escaped); inside a finding's evidence they
# could, and a batch cut there does not decode: it waits for a later cut. Findings that open
# otherwise (a report made elsewhere) are read as one batch at the end: the same findings,
# without the bound.
_BETWEEN = b'},{"control_id":'


class StoredFinding(msgspec.Struct):
    """What drift and the diff read of a stored finding; its other fields are skipped unbuilt."""

    control_id: Any = ""
    check_id: Any = ""
    resource: Any = ""
    status: Any = None
    severity: Any = None


class _AcceptedEntry(msgspec.Struct):
    """What drift and the diff read of an accepted entry; its acceptance and evidence are
    skipped unbuilt."""

    check_id: Any = ""
    resource_id: Any = ""


_ENTRIES = msgspec.json.Decoder(list[msgspec.Raw])
_ENTRY = msgspec.json.Decoder(_AcceptedEntry)


def accepted_of(member: msgspec.Raw) -> frozenset[Pair]:
    """``diff.accepted_pairs`` of a stored report's ``accepted`` member, given as its bytes:
    only each entry's check and resource are decoded. Not a list, or an entry that is not an
    object, holds no pair (as there)."""
    try:
        entries = _ENTRIES.decode(member)
    except msgspec.ValidationError:
        return frozenset()
    pairs: set[Pair] = set()
    for entry in entries:
        try:
            decoded = _ENTRY.decode(entry)
        except msgspec.ValidationError:
            continue
        pairs.add(accepted_pair(decoded.check_id, decoded.resource_id))
    return frozenset(pairs)


class StoredFindings(Generic[T]):
    """The findings array of a stored report's JSON pieces, iterated as decoded batches.

    Each batch is decoded by ``batch`` (a decoder of a list). Once the iteration is done,
    ``head`` is the members before the array and ``tail`` the last findings with the members
    after it, each as a JSON object of its own (``head``'s findings are empty). The pieces are
    read once. Raises ``msgspec.DecodeError`` when the bytes have no findings array.
    """

    def __init__(self, pieces: Iterable[bytes], batch: msgspec.json.Decoder[list[T]]) -> None:
        self._pieces = pieces
        self._batch = batch
        self.head = b""
        self.tail = b""

    def __iter__(self) -> Iterator[list[T]]:
        buffer = b""
        started = False
        for piece in self._pieces:
            buffer += piece
            if not started:
                at = buffer.find(_FINDINGS)
                if at < 0:
                    continue
                self.head = buffer[:at] + b'"findings":[]}'
                buffer, started = buffer[at + len(_FINDINGS) :], True
            cut = buffer.rfind(_BETWEEN)
            if cut <= 0:
                continue
            try:
                batch = self._batch.decode(b"[" + buffer[: cut + 1] + b"]")
            except msgspec.DecodeError:
                continue
            yield batch
            buffer = buffer[cut + 2 :]
        if not started:
            raise msgspec.DecodeError("not a report: no findings")
        self.tail = b'{"findings":[' + buffer
