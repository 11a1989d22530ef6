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

import io
import zlib
from collections.abc import Hashable, Iterator
from dataclasses import replace
from typing import IO, Any, NamedTuple

import orjson

from tutela.scanner.catalog.checks import Strength
from tutela.scanner.engine.assess import Assessment, MappedControl
from tutela.scanner.engine.evaluate import CheckResult, evidence_key
from tutela.scanner.narrative import Narrator
from tutela.scanner.outputs.deflating import Deflated, Deflater, zlib_stream
from tutela.scanner.outputs.encoding import escaped, members
from tutela.scanner.outputs.passed import passed_array, passed_members
from tutela.scanner.outputs.report import evidence_list, json_default
from tutela.scanner.outputs.turns import Blocks, write_blocks

_BLOCK_RESULTS = 1_000  # failing results per block: about 7,000 findings, a few MiB
_SLICE = 1 << 22  # bytes per chunk when a compressed document is inflated
_PASSES_BATCH = 1 << 20  # bytes of the passes' JSON compressed at a time


class _Body(NamedTuple):
    """The findings and closing members compressed (raw deflate, ending the stream), and the
    level and closing members they were compressed with."""

    deflated: Deflater
    level: int
    tail: bytes


class ReportDocument:
    """A scan's report: its fields in ``header`` (``findings`` a placeholder) and its findings.

    The findings are encoded when the document is written. ``compressed()`` (what the API
    seals and stores) compresses it a block at a time as it is encoded and keeps the compressed
    bytes, a hundredth of the document; ``compact_chunks()`` then answers by inflating them a
    piece at a time (cheaper than encoding the findings again), or, never compressed (a dry
    run), encodes it a block at a time. Either way the whole document is never in memory.
    """

    def __init__(
        self, header: dict[str, Any], assessment: Assessment, narrator: Narrator | None
    ) -> None:
        self.header = header
        self._assessment = assessment
        self._narrator = narrator
        self._body: _Body | None = None
        self._passed: bytes | None = None  # the passes' zlib stream, once made
        # The document's stream for the opening members it was last given, and with the
        # passes appended (what ``compressed(with_passed=True)`` returned).
        self._stream: tuple[bytes, Deflated] | None = None
        self._stored: tuple[bytes, bytes] | None = None

    @property
    def assessment(self) -> Assessment:
        """The assessment the findings are written from."""
        return self._assessment

    def write(
        self, out: IO[bytes], *, indent: bool = True, jobs: int = 1, include_passed: bool = False
    ) -> None:
        """Stream the document to ``out``, its findings encoded by up to ``jobs`` processes.

        Only a narrator that asks nobody (the deterministic one, or none) may be given more than
        one job: the others would each ask it again. ``include_passed`` adds ``passed_recorded``
        and ``passed`` (``outputs.passed``) after the other members.
        """
        blocks = self._blocks(indent)
        if not include_passed:
            write_blocks(out, blocks, jobs=jobs)
            return
        closing = b"\n}" if indent else b"}"
        write_blocks(out, replace(blocks, tail=blocks.tail[: -len(closing)]), jobs=jobs)
        for chunk in passed_members(self._assessment, indent=indent):
            out.write(chunk)
        out.write(closing)

    def passed_compressed(self, level: int = 1) -> bytes | None:
        """The compact ``passed`` array as a zlib stream, a check at a time; None if the scan
        recorded no passes. A stored report keeps it after the document's own stream."""
        parts = self._passed_parts(level)
        return None if parts is None else b"".join(parts)

    def _passed_parts(self, level: int) -> list[bytes] | None:
        if self._assessment.passes is None:
            return None
        deflater = Deflater(level)
        batch: list[bytes] = []
        held = 0
        for chunk in passed_array(self._assessment, indent=False):  # a check's passes each
            batch.append(chunk)
            held += len(chunk)
            if held >= _PASSES_BATCH:  # (a worker's task per check would cost more than it saves)
                deflater.feed(b"".join(batch))
                batch, held = [], 0
        if batch:
            deflater.feed(b"".join(batch))
        deflater.finish()
        return [zlib_stream(level, b"", deflater).stream]

    def json(self) -> bytes:
        """The compact document with the header as it is now, whole (for small reports and
        tests: the API compresses or streams it instead).

        Made in one buffer a block at a time (``BytesIO.getvalue`` hands its buffer over), so
        the document is in memory once, not also as the list of its blocks and a joined copy.
        """
        out = io.BytesIO()
        for chunk in _FindingsEncoder(self, indent=False).blocks(*self._ends()).chunks():
            out.write(chunk)
        return out.getvalue()

    def compressed(self, level: int = 1, *, with_passed: bool = False) -> bytes:
        """``zlib.compress(self.json(), level)``'s format, made without the whole document.

        Each block is compressed as soon as it is encoded (``zlib.compressobj``, in a worker
        thread while the next block's findings are encoded), so only the compressed bytes (about
        1 % of a large report's JSON) and one joined block are in memory. They are kept: for
        ``compact_chunks`` and ``deflated`` to answer from, and for the next call, which
        compresses only the opening members again if they changed (a report id given:
        ``deflating.zlib_stream``). ``with_passed`` appends ``passed_compressed()``, when
        recorded, as a stored report keeps it (``server.reports.passed``).
        """
        if not with_passed:
            return self.deflated(level).stream
        head, _ = self._ends()
        stored = self._stored
        if stored is not None and stored[0] == head and self._stream_matches(level):
            return stored[1]
        if self._passed is None:  # first: what encoding them holds is gone before the findings
            self._passed = self.passed_compressed(level) or b""
        data = self.deflated(level).stream + self._passed
        self._stored = (head, data)
        return data

    def deflated(self, level: int = 1) -> Deflated:
        """The compact document as one zlib stream, with its JSON's CRC-32 and size.

        Sent as it is, that stream is an answer in HTTP's ``deflate`` content coding; its deflate
        data between the CRC-32 and size given make a gzip member (``server.responses``).
        """
        head, tail = self._ends()
        if self._stream is not None and self._stream[0] == head and self._stream_matches(level):
            return self._stream[1]
        body = self._body
        if body is None or (body.level, body.tail) != (level, tail):
            body = self._body = _Body(self._deflate_body(level, tail), level, tail)
        stream = zlib_stream(level, head, body.deflated)
        self._stream = (head, stream)
        return stream

    def _stream_matches(self, level: int) -> bool:
        body = self._body
        return body is not None and (body.level, body.tail) == (level, self._ends()[1])

    def _deflate_body(self, level: int, tail: bytes) -> Deflater:
        """The findings array and ``tail`` as raw deflate data ending the stream."""
        deflater = Deflater(level)
        blocks = _FindingsEncoder(self, indent=False).blocks(b"", tail)
        deflater.feed(blocks.head)  # (the array's opening, or ``[]`` without findings)
        for index in range(blocks.count):
            pieces = blocks.encode(index)  # while the block before is compressed
            deflater.wait()  # that block let go before this one is joined: one whole at a time
            deflater.feed(b"".join(pieces))
            del pieces
        deflater.feed(blocks.tail)
        deflater.finish()
        return deflater

    def compact_chunks(self) -> Iterator[bytes]:
        """The compact document a piece at a time, the same bytes as ``json()``.

        Once ``compressed()`` made it (a stored report) with the closing members as they are,
        inflated from those bytes a slice at a time; otherwise encoded a block at a time (a dry
        run's answer). Never whole in memory.
        """
        if self._body is not None and self._body.tail == self._ends()[1]:
            yield from inflate(self.deflated(self._body.level).stream)
            return
        yield from _FindingsEncoder(self, indent=False).blocks(*self._ends()).chunks()

    def to_dict(self) -> dict[str, Any]:
        """The document as Python data."""
        parsed: dict[str, Any] = orjson.loads(self.json())
        return parsed

    def _ends(self) -> tuple[bytes, bytes]:
        """The compact document before and after its findings array."""
        blocks = self._blocks(False, findings=b"")
        return blocks.head, blocks.tail

    def _blocks(self, indent: bool, findings: bytes | None = None) -> Blocks:
        """The document: the header's members around the findings, which are the blocks."""
        head: list[bytes] = [b"{"]
        tail: list[bytes] = []
        into, separator = head, b""
        for key, value in self.header.items():
            if key == "findings":
                # The key as orjson writes it before an empty list; the list follows it.
                head.append(separator + members({key: []}, depth=0, indent=indent)[:-2])
                into = tail
            else:
                into.append(separator + members({key: value}, depth=0, indent=indent))
            separator = b","
        tail.append(b"\n}" if indent else b"}")
        if findings is not None:  # encoded already: the document has no blocks to encode
            head.append(findings)
            return Blocks(b"".join(head), 0, _no_block, b"".join(tail))
        return _FindingsEncoder(self, indent=indent).blocks(b"".join(head), b"".join(tail))


def _no_block(index: int) -> list[bytes]:
    raise IndexError(index)


_INFLATE_INPUT = 1 << 16  # compressed bytes fed at a time: a few MiB out at most


def inflate(compressed: bytes, size: int = _SLICE) -> Iterator[bytes]:
    """A zlib stream's bytes, at most ``size`` at a time: never the whole output at once.

    Bytes after the stream's end (a stored report's passes, ``server.reports.passed``) are
    not read.
    """
    decompressor = zlib.decompressobj()
    view = memoryview(compressed)
    for start in range(0, len(view), _INFLATE_INPUT):
        pending: bytes | memoryview = view[start : start + _INFLATE_INPUT]
        # At the stream's end the input left may stay in ``unconsumed_tail`` (the limit was hit
        # in the same call): it is not the stream's, and decompressing it again gives nothing.
        while pending and not decompressor.eof:
            out = decompressor.decompress(pending, size)
            if out:
                yield out
            pending = decompressor.unconsumed_tail
        if decompressor.eof:
            break
    rest = decompressor.flush()
    if rest:
        yield rest
    if not decompressor.eof:
        raise zlib.error("incomplete or truncated stream")


class _Shared(NamedTuple):
    """The encoded parts every failing result of one check on one mapping class shares.

    A finding is written as four parts: ``heads[i]`` (its opening brace, the control's members,
    the check id, the ``resource`` key), the result's part (the resource's values, the check's
    members, the narrative's opening), ``tails[i]`` (the narrative's closing for the control and
    the remediation) and the result's evidence, origin, AI workload (and ``conditional``, for a
    resource deployed under a condition not decided offline). ``tails`` is None when
    the closing must be asked for each result: then ``remediation`` follows it.
    """

    heads: list[bytes]
    about_check: bytes  # from the resource type's key to the narrative's opening quote
    tails: list[bytes] | None
    remediation: bytes
    in_ai_workload: bool  # the class's resources belong to an AI workload: each says why


class _FindingsEncoder:
    """The findings array as JSON chunks, each shared part encoded once.

    The loop runs once per failing result (a few hundred thousand in a large scan) and adds four
    parts per finding (a million): everything that is the same for a check, mapping class and
    control is joined in advance (``_Shared``), everything about the result is joined once for
    all its findings, so a finding costs a tuple of four references. The joined pieces are the
    same bytes in the same order as writing each member separately.
    """

    def __init__(self, document: ReportDocument, *, indent: bool) -> None:
        self.assessment = document._assessment
        self.results = self.assessment.failed_in_order()
        self.narrator = document._narrator
        self.indent = indent
        self.shared: dict[tuple[str, Hashable], _Shared] = {}
        self.closings: dict[str, bytes] = {}  # each closing text asked per result, encoded
        self.evidence: dict[Hashable, bytes] = {}  # evidence_key → the encoded evidence member
        # A finding is an object at depth 2 (document → findings list → finding). Every finding
        # is written after a comma; the first one's is cut off.
        self.open_next = b",\n    {" if indent else b",{"
        self.close = b"\n    }" if indent else b"}"
        # Keys as orjson writes them before a string value, the value's quotes cut off.
        self.resource_key, self.name_key, self.type_key, self.origin_key, workload_key = (
            self.members({key: ""})[:-2]
            for key in ("resource", "resource_name", "resource_type", "origin", "ai_workload")
        )
        self.workload_key = b"," + workload_key
        # Closes a finding on a resource deployed under a condition not decided offline.
        self.conditional_close = b"," + self.members({"conditional": True}) + self.close

    def blocks(self, head: bytes, tail: bytes) -> Blocks:
        """The findings array between ``head`` and ``tail``, a block per ``_BLOCK_RESULTS``."""
        if self.narrator is not None:
            self.narrator.prepare(self.assessment)
        count = -(-len(self.results) // _BLOCK_RESULTS)
        if count == 0:  # not one finding
            return Blocks(head + b"[]", 0, self.block, tail)
        return Blocks(head, count, self.block, (b"\n  ]" if self.indent else b"]") + tail)

    def block(self, index: int) -> list[bytes]:
        """The parts of the findings of the block's results (the first opens the array)."""
        start = index * _BLOCK_RESULTS
        # The loop runs once per failing result: what it calls is bound to local names.
        dumps = orjson.dumps
        shared_parts, evidence_part = self.shared_parts, self.evidence_part
        opening = self.narrator.opening if self.narrator is not None else None
        name_key, close = b"," + self.name_key, self.close
        workload_key, no_workload = self.workload_key, self.workload_key + b"null" + close
        workload_of = self.assessment.ai_workload
        narrative = b""
        parts: list[bytes] = []
        for result in self.results[start : start + _BLOCK_RESULTS]:
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
            if shared.in_ai_workload:
                workload = workload_key + dumps(workload_of(result)) + close
            else:
                workload = no_workload
            if resource.conditional is not None:
                workload = workload[: -len(close)] + self.conditional_close
            seen = b"".join(
                (evidence_part(result), dumps(resource.origin, default=json_default), workload)
            )
            if shared.tails is not None:
                for head, tail in zip(shared.heads, shared.tails, strict=True):
                    parts += (head, about, tail, seen)
            else:
                self.add_asking_closings(parts, result, shared, about, seen)
        if index == 0:
            parts[0] = b"[" + parts[0][1:]  # no comma before the first finding
        return parts

    def add_asking_closings(
        self, pending: list[bytes], result: CheckResult, shared: _Shared, about: bytes, seen: bytes
    ) -> None:
        """The result's findings when the narrator's closing depends on the result."""
        assert self.narrator is not None
        encoded = self.closings
        controls = self.assessment.controls_for(result)
        for (control, mapping), head in zip(controls, shared.heads, strict=True):
            text = self.narrator.closing(result, control, mapping)
            closing = encoded.get(text) or encoded.setdefault(text, escaped(text))
            pending += (head, about, closing, shared.remediation, seen)

    def shared_parts(self, result: CheckResult) -> _Shared:
        """The parts shared by the results of this check on resources of one mapping class (their
        type, or a ``MappingClass``: ``Assessment.mapping_class``), made at the first."""
        check, resource_type = result.check, result.resource.type
        key = (check.id, self.assessment.mapping_class(result))
        shared = self.shared.get(key)
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
        for control, mapping in self.assessment.controls_for(result):
            control_members = self.members(
                {
                    "control_id": control.control_id,
                    "control_title": control.title,
                    "framework": control.framework,
                    "mapping": mapping,
                }
            )
            heads.append(self.open_next + control_members + check_id + self.resource_key)
            closing = self.shared_closing(result, control, mapping)
            if closing is None:
                tails = None
            elif tails is not None:
                tails.append(closing + remediation)
        about_check = b"," + self.type_key + type_value + b"," + about_check
        in_workload = self.assessment.ai_workload(result) is not None
        shared = self.shared[key] = _Shared(heads, about_check, tails, remediation, in_workload)
        return shared

    def shared_closing(
        self, result: CheckResult, control: MappedControl, mapping: Strength
    ) -> bytes | None:
        if self.narrator is None:
            return b""
        if not self.narrator.closing_per_control:
            return None
        return escaped(self.narrator.closing(result, control, mapping))

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
