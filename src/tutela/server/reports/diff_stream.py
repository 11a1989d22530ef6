"""The diff of two stored reports, answered without either report whole in memory.

``scanner.engine.diff.diff_reports`` works on two decoded documents: two reports at the
enterprise limit (900 MiB of JSON each) took many GB that way. Here each stored report is read
once, inflated a slice at a time (``side_of_stored_report``): its findings are split in batches
as they arrive (``stored_findings.StoredFindings``, as ``msgspec.Raw``: their bytes as stored,
never built as objects), and kept as an index (each failing finding's key → position, and its
severity) beside the findings' bytes in sorted, compressed chunks of ``_CHUNK_BYTES`` (an
external sort: the chunks hold about what the stored report's compressed body does).
``StoredDiff.chunks`` then writes the answer, merging each side's chunks in the answer's order
and inflating them a slice at a time. The later report's ``accepted`` member (its accepted pairs)
is read as bytes, each entry's check and resource decoded (``stored_findings.accepted_of``).

The answer is byte for byte what ``dumps(diff_reports(a, b))`` writes for the decoded documents:
the same members in the same order, each section's findings sorted by (control_id, check_id,
lower-cased resource); a finding's bytes are its stored bytes, which orjson wrote as it writes the
decoded finding again. A key found twice in one report counts its last finding, as a dict does.
"""

from __future__ import annotations

import heapq
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
from isal import isal_zlib

from tutela.scanner.engine.diff import Pair
from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.report_json import inflate
from tutela.server.reports.stored_findings import StoredFinding, StoredFindings, accepted_of

Key = tuple[str, str, str]  # control, check, lower-cased resource: ``diff.finding_key``

READ_SLICE = 1 << 20  # bytes of a stored report inflated at a time while it is read
_CHUNK_BYTES = 4 << 20  # findings' bytes sorted and compressed at a time (one chunk in memory)
_MERGE_SLICE = 1 << 16  # bytes inflated at a time from each chunk while they are merged
_WRITE_BYTES = 1 << 20  # bytes of findings per piece of the answer


class ReportNotDiffable(Exception):
    """The stored bytes are not a report (no findings array, or findings that are not objects)."""


class _Members(msgspec.Struct):
    """The report members the diff answers with (header members before or after findings)."""

    report_id: Any = msgspec.UNSET
    aggregate_score: Any = msgspec.UNSET
    findings: list[msgspec.Raw] = []
    accepted: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_RAW_BATCH = msgspec.json.Decoder(list[msgspec.Raw])
_FINDING = msgspec.json.Decoder(StoredFinding)  # (the rest of a finding is kept as its bytes)
_MEMBERS = msgspec.json.Decoder(_Members)


@dataclass
class _Chunk:
    """Findings' bytes in key order, compressed; each one's position and length alongside."""

    data: bytes
    positions: array[int]
    lengths: array[int]


@dataclass
class StoredSide:
    """One stored report as the diff reads it.

    Each failing finding has a position (its rank among the failing findings, in stored order);
    ``positions`` maps a key to the position of its last finding. A key is a tuple of shared
    strings: a finding costs about 200 bytes here, its compressed bytes in ``chunks`` included.
    """

    report_id: Any = None
    aggregate_score: Any = None
    accepted: frozenset[Pair] = frozenset()  # the pairs the report accepted (check, resource)
    positions: dict[Key, int] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)  # by position
    severities: list[Any] = field(default_factory=list)  # by position
    chunks: list[_Chunk] = field(default_factory=list)
    # Read against an earlier side: each key of both whose severity changed → (its resource as
    # stored, the earlier severity, this one).
    changes: dict[Key, tuple[Any, Any, Any]] = field(default_factory=dict)

    def in_order(self) -> Iterator[tuple[Key, bytes]]:
        """Each key's finding (its last one) in key order, as its stored bytes."""
        positions = self.positions
        merged: Iterator[tuple[Key, int, bytes]] = heapq.merge(
            *(self._read(chunk) for chunk in self.chunks)
        )
        for key, position, raw in merged:
            if positions[key] == position:
                yield key, raw

    def _read(self, chunk: _Chunk) -> Iterator[tuple[Key, int, bytes]]:
        keys, pieces = self.keys, inflate(chunk.data, _MERGE_SLICE)
        buffer, start = b"", 0
        for position, length in zip(chunk.positions, chunk.lengths, strict=True):
            end = start + length
            while end > len(buffer):
                buffer, end, start = buffer[start:] + next(pieces), end - start, 0
            yield keys[position], position, buffer[start:end]
            start = end


def side_of_stored_report(pieces: Iterable[bytes], against: StoredSide | None = None) -> StoredSide:
    """A stored report's JSON, read a piece at a time (``inflate``), as the diff reads it.

    Read ``against`` the earlier report's side, it also notes the severity changes. Raises
    ``ReportNotDiffable`` when the bytes are not a report.
    """
    side = StoredSide()
    reader = _Reader(side, against)
    findings = StoredFindings(pieces, _RAW_BATCH)
    try:
        for batch in findings:
            reader.add(batch)
        # The members before the findings, then the last findings and the members after them.
        before = _MEMBERS.decode(findings.head)
        after = _MEMBERS.decode(findings.tail)
    except (msgspec.DecodeError, zlib.error) as exc:
        raise ReportNotDiffable(str(exc)) from None
    reader.add(after.findings)
    reader.flush()
    for members in (before, after):  # a member given twice counts its last value, as in orjson
        if members.report_id is not msgspec.UNSET:
            side.report_id = members.report_id
        if members.aggregate_score is not msgspec.UNSET:
            side.aggregate_score = members.aggregate_score
        if not isinstance(members.accepted, msgspec.UnsetType):
            side.accepted = accepted_of(members.accepted)
    return side


class _Reader:
    """Adds a stored report's findings to its side, sorting and compressing them a chunk at a
    time."""

    def __init__(self, side: StoredSide, against: StoredSide | None) -> None:
        self.side = side
        self.against = against
        self.shared: dict[Any, Any] = {}  # one string for each control, check, resource, severity
        self.pending: list[tuple[Key, int, msgspec.Raw]] = []
        self.pending_bytes = 0

    def add(self, batch: list[msgspec.Raw]) -> None:
        side, share = self.side, self.shared.setdefault
        positions, keys, severities, changes = (
            side.positions,
            side.keys,
            side.severities,
            side.changes,
        )
        earlier = self.against.positions if self.against is not None else {}
        earlier_severities = self.against.severities if self.against is not None else []
        pending = self.pending
        for raw in batch:
            try:
                finding = _FINDING.decode(raw)
            except msgspec.DecodeError as exc:  # (a ValidationError: not an object)
                raise ReportNotDiffable(str(exc)) from None
            if finding.status != "fail":
                continue
            control, check = str(finding.control_id), str(finding.check_id)
            resource = finding.resource
            lowered = str(resource).lower()
            key = (share(control, control), share(check, check), share(lowered, lowered))
            position = len(keys)
            positions[key] = position  # the last finding of a key counts, as in a dict
            keys.append(key)
            severity = finding.severity
            if isinstance(severity, str):
                severity = share(severity, severity)
            severities.append(severity)
            was = earlier.get(key)
            if was is not None:  # (the last finding of a key counts, here too)
                if earlier_severities[was] != severity:
                    changes[key] = (resource, earlier_severities[was], severity)
                else:
                    changes.pop(key, None)
            pending.append((key, position, raw))
            self.pending_bytes += len(raw)
            if self.pending_bytes >= _CHUNK_BYTES:
                self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.pending.sort(key=lambda item: (item[0], item[1]))
        compressor = isal_zlib.compressobj(1)
        data = [compressor.compress(raw) for _, _, raw in self.pending]
        data.append(compressor.flush())
        self.side.chunks.append(
            _Chunk(
                b"".join(data),
                array("I", (position for _, position, _ in self.pending)),
                array("I", (len(raw) for _, _, raw in self.pending)),
            )
        )
        self.pending.clear()  # (in place: ``add`` holds it by a local name)
        self.pending_bytes = 0


@dataclass
class StoredDiff:
    """What changed from ``before`` to ``after``: its answer is written by ``chunks``."""

    before: StoredSide
    after: StoredSide

    def chunks(self) -> Iterator[bytes]:
        """The answer's JSON a piece at a time: ``dumps(diff_reports(a, b))``'s bytes."""
        before, after = self.before, self.after
        score_a, score_b = before.aggregate_score, after.aggregate_score
        delta = score_b - score_a if isinstance(score_a, int) and isinstance(score_b, int) else None
        head = {
            "report_a": before.report_id,
            "report_b": after.report_id,
            "score_a": score_a,
            "score_b": score_b,
            "score_delta": delta,
        }
        yield dumps(head, indent=False)[:-1] + b',"new_findings":['
        # Each report is merged once: the later one's new findings are sent, its unchanged ones
        # held compressed (they come in order) and sent after the resolved ones; the earlier
        # one's findings the later one accepted are held too, and sent last.
        old, new, accepted = before.positions, after.positions, after.accepted
        unchanged, still_failing = _Held(), _Held()

        def new_findings() -> Iterator[bytes]:
            for key, raw in after.in_order():
                if key not in old:
                    yield raw
                else:
                    unchanged.add(raw)

        def resolved() -> Iterator[bytes]:
            for key, raw in before.in_order():
                if key in new:
                    continue
                if key[1:] in accepted:
                    still_failing.add(raw)
                else:
                    yield raw

        yield from _joined(new_findings())
        yield b'],"resolved":['
        yield from _joined(resolved())
        yield b'],"unchanged":['
        yield from unchanged.written()
        yield b'],"severity_changes":['
        yield from self._severity_changes()
        yield b'],"accepted":['
        yield from still_failing.written()
        yield b"]}"

    def _severity_changes(self) -> Iterator[bytes]:
        changed = sorted(
            (key[0], key[1], str(change[0]), change) for key, change in self.after.changes.items()
        )
        for start in range(0, len(changed), 10_000):
            batch = [
                {"control_id": control, "check_id": check, "resource": r, "from": a, "to": b}
                for control, check, _, (r, a, b) in changed[start : start + 10_000]
            ]
            yield (b"," if start else b"") + dumps(batch, indent=False)[1:-1]


class _Held:
    """Findings' bytes held compressed, comma-separated, until they are written in that order."""

    def __init__(self) -> None:
        self._compressor = isal_zlib.compressobj(1)
        self._parts: list[bytes] = []
        self._count = 0

    def add(self, raw: bytes) -> None:
        self._parts.append(self._compressor.compress((b"," if self._count else b"") + raw))
        self._count += 1

    def written(self) -> Iterator[bytes]:
        """The held bytes, inflated ``_WRITE_BYTES`` at a time; held no more once read."""
        self._parts.append(self._compressor.flush())
        compressed = b"".join(self._parts)
        self._parts.clear()
        yield from inflate(compressed, _WRITE_BYTES)


def _joined(findings: Iterable[bytes]) -> Iterator[bytes]:
    """Findings' bytes comma-separated, in pieces of about ``_WRITE_BYTES``."""
    batch: list[bytes] = []
    size, separator = 0, b""
    for raw in findings:
        batch.append(raw)
        size += len(raw)
        if size >= _WRITE_BYTES:
            yield separator + b",".join(batch)
            batch, size, separator = [], 0, b","
    if batch:
        yield separator + b",".join(batch)
