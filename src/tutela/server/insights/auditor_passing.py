"""The first passes of each check of a stored report, with their evidence, for the auditor package.

A report stored since passes are recorded keeps them after itself (``reports.passed``): every
passing (check, resource) pair with the values it passed on. The package shows a few per
control; the rest are a ``GET /report/{id}?include=passed`` away. At 50,000 resources the passes
are some 31 MiB of JSON: they are read a check at a time (each starts a line of the stored
array, ``scanner.outputs.passed``), and the evidence of the passes not shown is never decoded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from tutela.server.insights.auditor_schemas import PassingEvidence
from tutela.server.reports.schemas import Evidence

PASSING_SAMPLES = 3  # passing pairs shown per control (all: GET /report/{id}?include=passed)


class _PassedResource(msgspec.Struct):
    resource: Any = ""
    evidence: msgspec.Raw = msgspec.Raw(b"[]")  # decoded only for the few shown


class _PassedCheck(msgspec.Struct):
    check_id: Any = ""
    resources: list[_PassedResource] = []


_CHECK = msgspec.json.Decoder(_PassedCheck)
_EVIDENCE = msgspec.json.Decoder(list[dict[str, Any]])


def first_passes(passed: Iterable[bytes]) -> dict[str, list[PassingEvidence]]:
    """Check id → its first ``PASSING_SAMPLES`` passes (in resource id order) with evidence,
    from the stored ``passed`` array's JSON pieces; ``msgspec.DecodeError`` if unreadable."""
    first: dict[str, list[PassingEvidence]] = {}
    for line in _lines(passed):
        element = line.lstrip(b"[").rstrip(b",]")  # "[{…}," … "{…}," … "{…}]", or "[]"
        if not element:
            continue
        check = _CHECK.decode(element)
        first[str(check.check_id)] = [
            PassingEvidence(
                check_id=str(check.check_id),
                resource=str(passed.resource),
                evidence=[Evidence.model_validate(e) for e in _EVIDENCE.decode(passed.evidence)],
            )
            for passed in check.resources[:PASSING_SAMPLES]
        ]
    return first


def _lines(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The pieces' bytes a line at a time, each line whole once, never all of them."""
    pending: list[bytes] = []
    for piece in pieces:
        *ends, rest = piece.split(b"\n")
        for end in ends:
            yield b"".join((*pending, end))
            pending = []
        pending.append(rest)
    yield b"".join(pending)
