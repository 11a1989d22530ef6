"""The report as JSON, written from its parts rather than built as one dict and encoded.

A report of 100,000 resources holds a million findings, but they repeat a few thousand texts: a
check's title, description and remediation, a control's id and title, the closing of a
narrative. Building a dict per finding and encoding each spent most of a large scan's time and
memory. Here every shared part is encoded once and a finding is the concatenation of its
encoded parts; the findings are streamed out in chunks, so the document is never whole in memory.

The bytes are exactly what orjson writes for the same document, indented (``OPT_INDENT_2``, what
``tutela scan --format json`` prints) or compact (what the API stores and serves): a test holds
the two together.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import IO, Any, NamedTuple

import orjson

from tutela.scanner.engine.assess import Assessment, MappedControl
from tutela.scanner.engine.evaluate import CheckResult, evidence_key
from tutela.scanner.narrative import Narrator
from tutela.scanner.outputs.encoding import escaped, members
from tutela.scanner.outputs.report import evidence_list, json_default

_CHUNK_PARTS = 10_000  # encoded parts per written chunk (4 per finding): a few MiB


class ReportDocument:
    """A scan's report: its fields in ``header`` (``findings`` a placeholder) and its findings.

    The findings are encoded when the document is written; ``json()`` keeps the compact encoding
    of the findings, so the API can store and answer the same bytes after setting the report id.
    """

    def __init__(
        self, header: dict[str, Any], assessment: Assessment, narrator: Narrator | None
    ) -> None:
        self.header = header
        self._assessment = assessment
        self._narrator = narrator
        self._compact_findings: bytes | None = None

    def write(self, out: IO[bytes], *, indent: bool = True) -> None:
        """Stream the document to ``out``."""
        for chunk in self._chunks(indent):
            out.write(chunk)

    def json(self) -> bytes:
        """The compact document with the header as it is now."""
        if self._compact_findings is None:
            self._compact_findings = b"".join(_FindingsEncoder(self, indent=False).chunks())
        return b"".join(self._chunks(False, findings=self._compact_findings))

    def to_dict(self) -> dict[str, Any]:
        """The document as Python data."""
        parsed: dict[str, Any] = orjson.loads(self.json())
        return parsed

    def _chunks(self, indent: bool, findings: bytes | None = None) -> Iterator[bytes]:
        yield b"{"
        separator = b""
        for key, value in self.header.items():
            if key != "findings":
                yield separator + members({key: value}, depth=0, indent=indent)
            else:
                # The key as orjson writes it before an empty list, then the list streamed.
                yield separator + members({key: []}, depth=0, indent=indent)[:-2]
                if findings is None:
                    yield from _FindingsEncoder(self, indent=indent).chunks()
                else:
                    yield findings
            separator = b","
        yield b"\n}" if indent else b"}"


class _Shared(NamedTuple):
    """The encoded parts every failing result of one check on one resource type shares.

    A finding is written as four parts: ``heads[i]`` (its opening brace, the control's members,
    the check id, the ``resource`` key), the result's part (the resource's values, the check's
    members, the narrative's opening), ``tails[i]`` (the narrative's closing for the control and
    the remediation) and the result's evidence and origin. ``tails`` is None when the closing
    must be asked for each result: then ``remediation`` follows it.
    """

    heads: list[bytes]
    about_check: bytes  # from the resource type's key to the narrative's opening quote
    tails: list[bytes] | None
    remediation: bytes


class _FindingsEncoder:
    """The findings array as JSON chunks, each shared part encoded once.

    The loop runs once per failing result (a few hundred thousand in a large scan) and adds four
    parts per finding (a million): everything that is the same for a check, resource type and
    control is joined in advance (``_Shared``), everything about the result is joined once for
    all its findings, so a finding costs a tuple of four references. The joined pieces are the
    same bytes in the same order as writing each member separately.
    """

    def __init__(self, document: ReportDocument, *, indent: bool) -> None:
        self.assessment = document._assessment
        self.narrator = document._narrator
        self.indent = indent
        self.shared: dict[tuple[str, str], _Shared] = {}
        self.closings: dict[str, bytes] = {}  # each closing text asked per result, encoded
        self.evidence: dict[Hashable, bytes] = {}  # evidence_key → the encoded evidence member
        # A finding is an object at depth 2 (document → findings list → finding). Every finding
        # is written after a comma; the first one's is cut off.
        self.open_next = b",\n    {" if indent else b",{"
        self.close = b"\n    }" if indent else b"}"
        # Keys as orjson writes them before a string value, the value's quotes cut off.
        self.resource_key, self.name_key, self.type_key, self.origin_key = (
            self.members({key: ""})[:-2]
            for key in ("resource", "resource_name", "resource_type", "origin")
        )

    def chunks(self) -> Iterator[bytes]:
        if self.narrator is not None:
            self.narrator.prepare(self.assessment)
        # The loop runs once per failing result: what it calls is bound to local names.
        dumps = orjson.dumps
        shared_parts, evidence_part = self.shared_parts, self.evidence_part
        opening = self.narrator.opening if self.narrator is not None else None
        name_key, close = b"," + self.name_key, self.close
        narrative = b""
        pending: list[bytes] = []
        first = True
        for result in self.assessment.failed_in_order():
            resource = result.resource
            shared = shared_parts(result)
            if opening is not None:
                narrative = escaped(opening(result))
            about = b"".join(
                (
                    dumps(resource.id, default=json_default),
                    name_key,
                    dumps(resource.name, default=json_default),  # a plan's may be unknown
                    shared.about_check,
                    narrative,
                )
            )
            seen = b"".join(
                (evidence_part(result), dumps(resource.origin, default=json_default), close)
            )
            if shared.tails is not None:
                for head, tail in zip(shared.heads, shared.tails, strict=True):
                    pending += (head, about, tail, seen)
            else:
                self.add_asking_closings(pending, result, shared, about, seen)
            if len(pending) >= _CHUNK_PARTS:
                yield self.joined(pending, first)
                first = False
        if first and not pending:  # not one finding
            yield b"[]"
            return
        pending.append(b"\n  ]" if self.indent else b"]")
        yield self.joined(pending, first)

    @staticmethod
    def joined(pending: list[bytes], first: bool) -> bytes:
        """The pending parts as one chunk (emptying the list); the first opens the array."""
        if first:
            pending[0] = b"[" + pending[0][1:]  # no comma before the first finding
        chunk = b"".join(pending)
        pending.clear()
        return chunk

    def add_asking_closings(
        self, pending: list[bytes], result: CheckResult, shared: _Shared, about: bytes, seen: bytes
    ) -> None:
        """The result's findings when the narrator's closing depends on the result."""
        assert self.narrator is not None
        encoded = self.closings
        controls = self.assessment.controls_for(result)
        for (control, by_analogy), head in zip(controls, shared.heads, strict=True):
            text = self.narrator.closing(result, control, by_analogy)
            closing = encoded.get(text) or encoded.setdefault(text, escaped(text))
            pending += (head, about, closing, shared.remediation, seen)

    def shared_parts(self, result: CheckResult) -> _Shared:
        """The parts shared by the results of this check on this type, made at the first."""
        check, resource_type = result.check, result.resource.type
        shared = self.shared.get((check.id, resource_type))
        if shared is not None:
            return shared
        about_check = self.members(
            {
                "severity": check.severity,
                "status": "fail",
                "title": check.title,
                "description": check.description,
                "narrative": "",
            }
        )
        remediation = self.members({"remediation": check.remediation})
        if self.narrator is None:  # "narrative": null, then the rest
            about_check = about_check[:-2] + b"null"
            remediation = b"," + remediation + b","
        else:  # the narrative's text goes between its quotes
            about_check = about_check[:-1]
            remediation = b'",' + remediation + b","
        check_id = b"," + self.members({"check_id": check.id}) + b","
        type_value = orjson.dumps(resource_type, default=json_default)
        heads: list[bytes] = []
        tails: list[bytes] | None = []
        for control, by_analogy in self.assessment.controls_for(result):
            control_members = self.members(
                {
                    "control_id": control.control_id,
                    "control_title": control.title,
                    "framework": control.framework,
                    "mapping": "by analogy" if by_analogy else "direct",
                }
            )
            heads.append(self.open_next + control_members + check_id + self.resource_key)
            closing = self.shared_closing(result, control, by_analogy)
            if closing is None:
                tails = None
            elif tails is not None:
                tails.append(closing + remediation)
        about_check = b"," + self.type_key + type_value + b"," + about_check
        shared = self.shared[check.id, resource_type] = _Shared(
            heads, about_check, tails, remediation
        )
        return shared

    def shared_closing(
        self, result: CheckResult, control: MappedControl, by_analogy: bool
    ) -> bytes | None:
        if self.narrator is None:
            return b""
        if not self.narrator.closing_per_control:
            return None
        return escaped(self.narrator.closing(result, control, by_analogy))

    def evidence_part(self, result: CheckResult) -> bytes:
        """The evidence member and the origin's key: the same for equal evidence (cached)."""
        key = evidence_key(result.evidence)
        part = self.evidence.get(key) if key is not None else None
        if part is None:
            fields = {"evidence": evidence_list(result.evidence)}
            part = self.members(fields) + b"," + self.origin_key
            if key is not None:
                self.evidence[key] = part
        return part

    def members(self, fields: dict[str, Any]) -> bytes:
        return members(fields, depth=2, indent=self.indent)
