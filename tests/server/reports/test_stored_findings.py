"""A stored report's findings array is cut into batches that decode, whatever its pieces.

The batches hold every finding but the last ones, in order; ``head`` and ``tail`` are the members
around the array, each an object of its own. Drift and the stored diff read reports through it
(their own tests: ``governance/test_drift.py``, ``reports/test_diff_stream.py``).
"""

from __future__ import annotations

import msgspec
import orjson
import pytest

from tutela.server.reports.stored_findings import StoredFinding, StoredFindings

_RAW = msgspec.json.Decoder(list[msgspec.Raw])
_FINDINGS = msgspec.json.Decoder(list[StoredFinding])


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def finding(n: int, evidence: object = None) -> dict[str, object]:
    return {"control_id": f"C{n}", "check_id": "K", "resource": f"r{n}", "evidence": evidence}


def test_the_batches_head_and_tail_hold_the_whole_report_however_it_is_cut() -> None:
    # The second finding's evidence holds the bytes between two findings: no cut there decodes.
    tricky = finding(1, [{"a": 1}, {"control_id": "X"}])
    findings = [finding(0), tricky, finding(2), finding(3)]
    report = {"report_id": "A", "findings": findings, "aggregate_score": 80}
    stored = orjson.dumps(report)
    assert stored.count(b'},{"control_id":') == 4  # three between the findings, one inside
    for size in (1, 7, 64, len(stored)):
        read = StoredFindings(pieces(stored, size), _RAW)
        batches = [orjson.loads(bytes(raw)) for batch in read for raw in batch]
        assert orjson.loads(read.head) == {"report_id": "A", "findings": []}
        tail = orjson.loads(read.tail)
        assert batches + tail["findings"] == findings
        assert tail["aggregate_score"] == 80
        if size < len(stored):
            assert batches  # (more than one piece: cut before the end)


def test_the_batches_decode_as_the_caller_asks() -> None:
    stored = orjson.dumps({"findings": [{**finding(n), "status": "fail"} for n in range(3)]})
    read = StoredFindings(pieces(stored, 5), _FINDINGS)
    first = [f for batch in read for f in batch]
    assert first == [StoredFinding("C0", "K", "r0", "fail"), StoredFinding("C1", "K", "r1", "fail")]
    assert read.head == b'{"findings":[]}'


def test_bytes_without_findings_do_not_decode() -> None:
    with pytest.raises(msgspec.DecodeError):
        list(StoredFindings(pieces(b'{"report_id":"x"}', 4), _RAW))
