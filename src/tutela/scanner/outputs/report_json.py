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

from collections.abc import Iterator
from typing import IO, Any

import orjson

from tutela.scanner.engine.assess import Assessment, MappedControl
from tutela.scanner.engine.evaluate import CheckResult
from tutela.scanner.narrative import Narrator
from tutela.scanner.outputs.encoding import escaped, members
from tutela.scanner.outputs.report import evidence_list, json_default

_CHUNK_PARTS = 10_000  # encoded parts per written chunk (5 per finding): a few MiB


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


class _FindingsEncoder:
    """The findings array as JSON chunks, each shared part encoded once.

    A finding is written as nine parts: its opening brace, the control's members (shared by the
    check's findings against that control), the check id, the resource's members, the check's
    members up to the narrative's opening quote, the narrative's opening (once per result) and
    closing (shared per control), then the remediation and the result's evidence and origin.
    """

    def __init__(self, document: ReportDocument, *, indent: bool) -> None:
        self.assessment = document._assessment
        self.narrator = document._narrator
        self.indent = indent
        self.controls: dict[tuple[str, str], list[tuple[bytes, bytes | None]]] = {}
        self.checks: dict[str, tuple[bytes, bytes, bytes]] = {}
        self.closings: dict[str, bytes] = {}  # each closing text, encoded
        # A finding is an object at depth 2 (document → findings list → finding).
        self.open_first = b"\n    {" if indent else b"{"
        self.open_next = b"," + self.open_first
        self.close = b"\n    }" if indent else b"}"
        # Keys as orjson writes them before a string value, the value's quotes cut off.
        self.resource_keys = [
            self.members({key: ""})[:-2] for key in ("resource", "resource_name", "resource_type")
        ]

    def chunks(self) -> Iterator[bytes]:
        if self.narrator is not None:
            self.narrator.prepare(self.assessment)
        # The loop runs once per finding: what it calls is bound to local names.
        controls_for = self.assessment.controls_for
        narrator_opening = self.narrator.opening if self.narrator is not None else None
        narrator_closing = self.narrator.closing if self.narrator is not None else None
        encoded = self.closings
        narrative = b""
        pending: list[bytes] = [b"["]
        opening = self.open_first
        for result in self.assessment.failed_in_order():
            check_id, about_check, remediation = self.check_parts(result)
            about_resource = self.about_resource(result)
            seen = self.seen(result)
            if narrator_opening is not None:
                narrative = escaped(narrator_opening(result))
            controls = controls_for(result)
            for (control, by_analogy), (control_part, closing) in zip(
                controls, self.control_parts(result, controls), strict=True
            ):
                if closing is None:  # a closing that depends on the result: asked each time
                    assert narrator_closing is not None
                    text = narrator_closing(result, control, by_analogy)
                    closing = encoded.get(text) or encoded.setdefault(text, escaped(text))
                pending += (
                    opening,
                    control_part,
                    check_id,
                    about_resource,
                    about_check,
                    narrative,
                    closing,
                    remediation,
                    seen,
                )
                opening = self.open_next
            if len(pending) >= _CHUNK_PARTS:
                yield b"".join(pending)
                pending.clear()
        if opening is self.open_first:  # not one finding
            yield b"[]"
            return
        pending.append(b"\n  ]" if self.indent else b"]")
        yield b"".join(pending)

    def control_parts(
        self, result: CheckResult, controls: list[tuple[MappedControl, bool]]
    ) -> list[tuple[bytes, bytes | None]]:
        """For each finding of the result: the control's members and, when it is the same for
        every result of this check and type, the narrative's closing (else None)."""
        key = (result.check.id, result.resource.type)
        parts = self.controls.get(key)
        if parts is None:
            parts = self.controls[key] = [
                (
                    self.members(
                        {
                            "control_id": control.control_id,
                            "control_title": control.title,
                            "framework": control.framework,
                            "mapping": "by analogy" if by_analogy else "direct",
                        }
                    ),
                    self.shared_closing(result, control, by_analogy),
                )
                for control, by_analogy in controls
            ]
        return parts

    def shared_closing(
        self, result: CheckResult, control: MappedControl, by_analogy: bool
    ) -> bytes | None:
        if self.narrator is None:
            return b""
        if not self.narrator.closing_per_control:
            return None
        return escaped(self.narrator.closing(result, control, by_analogy))

    def check_parts(self, result: CheckResult) -> tuple[bytes, bytes, bytes]:
        """(check id, check members to the narrative's text, the narrative's end to origin)."""
        check = result.check
        parts = self.checks.get(check.id)
        if parts is None:
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
            parts = self.checks[check.id] = (
                b"," + self.members({"check_id": check.id}) + b",",
                b"," + about_check,
                remediation,
            )
        return parts

    def about_resource(self, result: CheckResult) -> bytes:
        resource = result.resource
        keys = self.resource_keys
        return b"".join(
            (
                keys[0],
                orjson.dumps(resource.id, default=json_default),
                b",",
                keys[1],
                orjson.dumps(resource.name, default=json_default),  # a plan's may be unknown
                b",",
                keys[2],
                orjson.dumps(resource.type, default=json_default),
            )
        )

    def seen(self, result: CheckResult) -> bytes:
        """The evidence and origin members, and the finding's closing brace."""
        fields = {"evidence": evidence_list(result.evidence), "origin": result.resource.origin}
        return self.members(fields) + self.close

    def members(self, fields: dict[str, Any]) -> bytes:
        return members(fields, depth=2, indent=self.indent)
