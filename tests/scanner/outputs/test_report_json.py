"""The report and SARIF writers: assembled from encoded parts, byte for byte what orjson writes."""

from __future__ import annotations

import datetime as dt
import io
import threading
import zlib
from typing import Any

import orjson
import pytest

from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Estate
from tutela.scanner.narrative import narrative
from tutela.scanner.narrative.deterministic import DeterministicNarrator
from tutela.scanner.outputs import report_json
from tutela.scanner.outputs.encoding import Template
from tutela.scanner.outputs.failing import failing_checks_of
from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.report_json import ReportDocument, inflate
from tutela.scanner.outputs.sarif import sarif_chunks
from tutela.scanner.samples import EXPORTED_ON, load_sample_estate
from tutela.scanner.scan import run_scan

CATALOG = load_catalog()
SCAN_TS = dt.datetime.combine(EXPORTED_ON, dt.time(9, 30), tzinfo=dt.UTC)


def sample_report(*, narrate: bool = True, **header: Any) -> ReportDocument:
    narrator = DeterministicNarrator(CATALOG) if narrate else None
    return run_scan(
        load_sample_estate(),
        CATALOG.framework_ids,
        scan_ts=SCAN_TS,
        narrator=narrator,
        catalog=CATALOG,
        **header,
    )[1]


def written(document: ReportDocument, *, indent: bool) -> bytes:
    out = io.BytesIO()
    document.write(out, indent=indent)
    return out.getvalue()


@pytest.mark.parametrize("indent", [True, False])
@pytest.mark.parametrize("narrate", [True, False])
def test_the_document_is_exactly_what_orjson_writes(indent: bool, narrate: bool) -> None:
    data = written(sample_report(narrate=narrate, report_id="COMP-1", tenant_id="t"), indent=indent)
    parsed = orjson.loads(data)
    assert len(parsed["findings"]) > 100
    assert data == dumps(parsed, indent=indent)


def test_findings_carry_every_field_of_the_finding_they_stand_for() -> None:
    assessment, document = run_scan(
        load_sample_estate(),
        CATALOG.framework_ids,
        scan_ts=SCAN_TS,
        narrator=DeterministicNarrator(CATALOG),
        catalog=CATALOG,
    )
    narrator = DeterministicNarrator(CATALOG)
    expected = [
        {
            "control_id": f.control.control_id,
            "control_title": f.control.title,
            "framework": f.control.framework,
            "mapping": f.mapping,
            "check_id": f.result.check.id,
            "resource": f.result.resource.id,
            "resource_name": f.result.resource.name,
            "resource_type": f.result.resource.type,
            "severity": f.result.check.severity,
            "status": "fail",
            "title": f.result.check.title,
            "description": f.result.check.description,
            "narrative": narrative(narrator, f.result, f.control, f.mapping),
            "remediation": f.result.check.remediation,
            "evidence": [{"path": p, "value": v} for p, v in f.result.evidence],
            "origin": f.result.resource.origin,
            "ai_workload": f.ai_workload,
        }
        for f in assessment.findings()
    ]
    findings = document.to_dict()["findings"]
    assert sum(document.header[f"{s}_count"] for s in ("critical", "high", "medium", "low")) == (
        len(findings)
    )
    assert orjson.loads(dumps(expected)) == findings
    assert "direct" in {f["mapping"] for f in findings} <= {"direct", "supporting", "by analogy"}
    # The sample estate has general-purpose resources in an AI workload and outside any.
    workloads = {f["resource"]: f["ai_workload"] for f in findings}
    assert any(workloads.values())
    assert any(w is None for w in workloads.values())


def test_json_follows_the_header_and_encodes_the_findings_once() -> None:
    document = sample_report()
    first = document.json()
    document.header["report_id"] = "COMP-20261123-093000"
    second = orjson.loads(document.json())
    assert second["report_id"] == "COMP-20261123-093000"
    assert second["findings"] == orjson.loads(first)["findings"]
    assert document.json() == dumps(second, indent=False)


def test_the_streamed_document_is_json_whether_compressed_before_or_not() -> None:
    fresh = sample_report(report_id="COMP-1")
    streamed = b"".join(fresh.compact_chunks())  # a dry run's answer: encoded as it is sent
    assert streamed == dumps(orjson.loads(streamed), indent=False) == fresh.json()
    stored = sample_report(report_id="COMP-1")
    compressed = stored.compressed()  # what the API seals: zlib.compress(json, 1)'s format
    assert zlib.decompress(compressed) == streamed
    assert stored.compressed() is compressed, "kept, not made again"
    assert b"".join(inflate(compressed, 1000)) == streamed
    assert b"".join(stored.compact_chunks()) == streamed  # a stored report's: inflated
    stored.header["report_id"] = "COMP-2"  # the header changed since: encoded anew
    assert orjson.loads(b"".join(stored.compact_chunks()))["report_id"] == "COMP-2"
    assert zlib.decompress(stored.compressed()) == stored.json() != streamed
    empty = run_scan(Estate(), ["iso42001"], scan_ts=SCAN_TS, catalog=CATALOG)[1]
    assert zlib.decompress(empty.compressed()) == empty.json()
    assert b"".join(empty.compact_chunks()) == empty.json() == dumps(empty.to_dict(), indent=False)


def test_deflated_is_the_report_s_own_stream_with_its_json_s_crc_and_size() -> None:
    document = sample_report(report_id="COMP-1")
    stored = document.compressed(with_passed=True)  # the report's stream, then the passes'
    deflated = document.deflated()
    assert stored.startswith(deflated.stream)
    assert len(stored) > len(deflated.stream)
    assert zlib.decompress(deflated.stream) == document.json()
    assert (deflated.crc32, deflated.size) == (zlib.crc32(document.json()), len(document.json()))
    assert document.compressed(with_passed=True) is stored, "kept, not made again"
    document.header["report_id"] = "COMP-2"  # compressed anew, without the passes
    again = document.deflated()
    assert zlib.decompress(again.stream) == document.json()
    assert again.crc32 == zlib.crc32(document.json())


def test_a_new_report_id_compresses_only_the_opening_members_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded: list[int] = []
    block = report_json._FindingsEncoder.block

    def counted(self: Any, index: int) -> list[bytes]:
        encoded.append(index)
        return block(self, index)

    monkeypatch.setattr(report_json._FindingsEncoder, "block", counted)
    document = sample_report(report_id=None)
    document.compressed(with_passed=True)  # as a scan does before its id is known
    blocks = len(encoded)
    assert blocks > 0
    ids = ("COMP-20261123-093000", "COMP-20261123-093000-2")
    stored = {}
    for report_id in ids:
        document.header["report_id"] = report_id
        stored[report_id] = (document.compressed(with_passed=True), document.deflated())
    assert len(encoded) == blocks  # the findings were not encoded (nor compressed) again
    passes = document.passed_compressed()
    assert passes
    for report_id in ids:
        document.header["report_id"] = report_id
        data, deflated = stored[report_id]
        assert zlib.decompress(data) == document.json()
        assert data == deflated.stream + passes
        assert (deflated.crc32, deflated.size) == (
            zlib.crc32(document.json()),
            len(document.json()),
        )


def test_an_estate_without_failures_writes_an_empty_list() -> None:
    _, document = run_scan(Estate(), ["iso42001"], scan_ts=SCAN_TS, catalog=CATALOG)
    for indent in (True, False):
        data = written(document, indent=indent)
        assert orjson.loads(data)["findings"] == []
        assert data == dumps(orjson.loads(data), indent=indent)


@pytest.mark.parametrize("indent", [True, False])
def test_sarif_is_streamed_as_orjson_writes_it(indent: bool) -> None:
    assessment, document = run_scan(
        load_sample_estate(), CATALOG.framework_ids, scan_ts=SCAN_TS, catalog=CATALOG
    )
    rows = failing_checks_of(assessment)
    data = b"".join(sarif_chunks(document.header, rows, indent=indent))
    parsed = orjson.loads(data)
    assert data == dumps(parsed, indent=indent)
    results = parsed["runs"][0]["results"]
    assert [(r["ruleId"], r["properties"]["resource"]) for r in results] == [
        (row.check_id, row.resource) for row in rows
    ]
    rules = parsed["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_a_template_fills_its_slots_escaped() -> None:
    template = Template(
        {"id": Template.SLOT, "message": {"text": f"Failed: {Template.SLOT}"}},
        depth=1,
        indent=False,
    )
    assert template.slots == 2
    assert orjson.loads(template.fill('a"b', "line\nbreak")) == {
        "id": 'a"b',
        "message": {"text": "Failed: line\nbreak"},
    }


class PerResultNarrator:
    """A narrator whose closing reads the result, as the LLM narrator's does."""

    closing_per_control = False

    def prepare(self, assessment: Any) -> None:
        self.prepared = True

    def opening(self, result: Any) -> str:
        return ""

    def closing(self, result: Any, control: Any, mapping: str) -> str:
        return f'{result.resource.name} "{control.control_id}"'


def test_a_closing_that_reads_the_result_is_asked_for_each_finding() -> None:
    narrator = PerResultNarrator()
    assessment, document = run_scan(
        load_sample_estate(), CATALOG.framework_ids, scan_ts=SCAN_TS, narrator=narrator
    )
    data = written(document, indent=True)
    assert narrator.prepared
    findings = orjson.loads(data)["findings"]
    assert [f["narrative"] for f in findings] == [
        f'{f.result.resource.name} "{f.control.control_id}"' for f in assessment.findings()
    ]
    assert data == dumps(orjson.loads(data), indent=True)


def test_inflate_ends_when_the_stream_ends_on_a_slice_s_limit_with_bytes_after_it() -> None:
    """A stored report's passes follow its body: the body's end may come in the call that
    fills a slice, leaving the passes in ``unconsumed_tail``; inflating must stop there (it
    once spun for ever, holding a diff's thread)."""
    body = bytes(range(256)) * 3 + b"a" * 232  # 1,000 bytes
    stored = zlib.compress(body, 1) + zlib.compress(b"passes" * 100, 1)
    for size in (999, 1000, 1001, 500):
        inflated: list[bytes] = []

        def read(into: list[bytes], slice_size: int) -> None:
            into.extend(inflate(stored, slice_size))

        worker = threading.Thread(target=read, args=(inflated, size), daemon=True)
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), f"slice {size}: inflate never ends"
        assert b"".join(inflated) == body
