"""A report's passing evidence: each (check, resource) pair that passed, with the values seen.

The ``passed`` member lists, by check id, every resource that passed the check and the evidence
that made it pass (each a path and the value seen, as a finding's evidence), and
``"conditional": true`` for a resource a template deploys under a condition not decided offline:

    "passed": [{"check_id": "AOAI-PUBLIC-NETWORK",
                "resources": [{"resource": "/subscriptions/…",
                               "evidence": [{"path": "properties.publicNetworkAccess",
                                             "value": "Disabled"}]}]}]

Passes are per (check, resource), not per control: the controls a check counts for are in the
report's ``score_basis``. ``"passed_recorded": true`` stands before it; a report stored before
passes were recorded is served with ``"passed_recorded": false`` and ``"passed": null``, never as
an empty list, since nothing says nothing passed. Evidence holds only the configuration values
the catalogue's checks read, as a finding's does: never a key, secret or connection string.

Measured on the 100,000-resource template of ``bench/generate.py`` (212,314 passes, 68 checks,
23,584 distinct evidence lists): 52 MiB of compact JSON, 1.2 MiB zlib level 1. Grouping resources
under shared evidence made it 33 MiB and 1.0 MiB: not worth a format an auditor reads less easily
(resource ids, not evidence, are most of the bytes). The array is written from parts, each
distinct evidence list encoded once, a check at a time, so it is never whole in memory; the bytes
are what orjson writes for the same data (a test holds them together), except that compact, as
stored and served, each check starts a line.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from tutela.scanner.engine.assess import Assessment
from tutela.scanner.engine.evaluate import Evidence
from tutela.scanner.outputs.encoding import members
from tutela.scanner.outputs.report import evidence_list, json_default

RECORDED = "passed_recorded"
PASSED = "passed"
_CHECK_DEPTH = 2  # document → passed list → a check's object
_RESOURCE_DEPTH = 4  # … → its resources list → a resource's object
_CHUNK_PARTS = 4 * 2_000  # a chunk per 2,000 passes: about 0.5 MiB of JSON


def passed_array(assessment: Assessment, *, indent: bool) -> Iterator[bytes]:
    """The ``passed`` array, a check at a time, as the value of a member of the document."""
    checks = assessment.passed_by_check()
    if not checks:
        yield b"[]"
        return
    # id of an evidence tuple → the resource's members after its id. Equal evidence is one
    # shared tuple (``engine.evaluate.Passes``), kept alive by the assessment while this runs.
    encoded: dict[int, bytes] = {}
    pad = (lambda depth: b"\n" + b"  " * depth) if indent else (lambda depth: b"")
    open_resource = (
        pad(_RESOURCE_DEPTH)
        + b"{"
        + members({"resource": ""}, depth=_RESOURCE_DEPTH, indent=indent)[:-2]
    )
    close_resource = pad(_RESOURCE_DEPTH) + b"}"
    close_check = pad(_RESOURCE_DEPTH - 1) + b"]" + pad(_CHECK_DEPTH) + b"}"
    dumps, part_of = orjson.dumps, _evidence_part
    next_resource = b"," + open_resource
    # A resource a template deploys under a condition not decided offline says so.
    conditional = b"," + members({"conditional": True}, depth=_RESOURCE_DEPTH, indent=indent)
    # Compact, each check starts a line: JSON allows the newline between values and no encoded
    # string holds one, so a reader can take the stored checks a line at a time.
    between_checks = b"," if indent else b",\n"
    # The loop runs once per pass (a few hundred thousand in a large scan): a pass is four
    # references into a list, joined and handed on every 2,000 passes (``_CHUNK_PARTS``).
    for index, (check_id, resources, evidences) in enumerate(checks):
        fields = {"check_id": check_id, "resources": []}
        head = members(fields, depth=_CHECK_DEPTH, indent=indent)[:-2]  # up to the list's "["
        opening = b"[" if index == 0 else between_checks
        parts = [opening + pad(_CHECK_DEPTH) + b"{" + head + b"["]
        separator = open_resource  # no comma before the first resource
        for resource, evidence in zip(resources, evidences, strict=True):
            part = encoded.get(id(evidence))
            if part is None:
                part = encoded[id(evidence)] = part_of(evidence, indent)
            if resource.conditional is not None:
                part += conditional
            parts += (separator, dumps(resource.id, default=json_default), part, close_resource)
            separator = next_resource
            if len(parts) >= _CHUNK_PARTS:
                yield b"".join(parts)
                parts = []
        parts.append(close_check)
        yield b"".join(parts)
    yield pad(_CHECK_DEPTH - 1) + b"]"


def passed_members(assessment: Assessment, *, indent: bool) -> Iterator[bytes]:
    """``,"passed_recorded":true,"passed":[…]``: the members a document's closing brace follows."""
    recorded = assessment.passes is not None
    fields: dict[str, object] = {RECORDED: recorded, PASSED: [] if recorded else None}
    encoded = b"," + members(fields, depth=0, indent=indent)
    if not recorded:
        yield encoded
        return
    yield encoded[:-2]  # the empty list cut off: the array follows
    yield from passed_array(assessment, indent=indent)


def _evidence_part(evidence: Evidence, indent: bool) -> bytes:
    """``,"evidence":[…]`` at a resource's depth."""
    return b"," + members(
        {"evidence": evidence_list(evidence)}, depth=_RESOURCE_DEPTH, indent=indent
    )
