"""Passing evidence: exactly the pairs that passed, with what they passed on, as orjson writes."""

from __future__ import annotations

import copy
import datetime as dt
import io
import zlib
from typing import Any

import orjson
import pytest

from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.assess import Assessment, assess
from tutela.scanner.engine.evaluate import _evaluate, evaluate_counting_passes, evidence_key
from tutela.scanner.estate import Estate
from tutela.scanner.outputs.report import evidence_list, json_default
from tutela.scanner.samples import EXPORTED_ON, load_sample_estate, sample_estate_path
from tutela.scanner.scan import run_scan
from tutela.scanner.sources.arg import resources_from_arg

CATALOG = load_catalog()
SCAN_TS = dt.datetime.combine(EXPORTED_ON, dt.time(9, 30), tzinfo=dt.UTC)


def assessed(estate: Estate | None = None, *, record: bool = True) -> Assessment:
    return assess(
        estate or load_sample_estate(),
        CATALOG,
        CATALOG.framework_ids,
        as_of=EXPORTED_ON,
        record_passes=record,
    )


def as_data(assessment: Assessment) -> list[dict[str, Any]]:
    return [
        {
            "check_id": check_id,
            "resources": [
                {"resource": r.id, "evidence": evidence_list(evidence)}
                for r, evidence in zip(resources, evidences, strict=True)
            ],
        }
        for check_id, resources, evidences in assessment.passed_by_check()
    ]


def test_the_passes_are_exactly_the_pairs_that_passed() -> None:
    estate = load_sample_estate()
    assessment = assessed(estate)
    passed = assessment.passed_by_check()
    pairs = [(check, r.id) for check, resources, _ in passed for r in resources]
    assert len(pairs) == len(set(pairs)) == assessment.checks_passed > 0
    per_check: dict[str, int] = {}
    for entry in assessment.score_basis():
        per_check[entry["check_id"]] = per_check.get(entry["check_id"], 0) + entry["passed"]
    assert {check: len(resources) for check, resources, _ in passed} == {
        check: count for check, count in per_check.items() if count
    }
    # The same pairs, with the same evidence, as the evaluator's results with status "pass"
    # when it keeps every result (as ``evaluate_estate`` does), over the pairs that count.
    controls = assessment.control_map
    every, _ = _evaluate(
        estate,
        [c for c in CATALOG.checks if c.id in controls.controls],
        EXPORTED_ON,
        keep_passes=True,
        groups=controls.groups,
        counts=controls.counts,
    )
    counted = {(r.check.id, r.resource.id): r.evidence for r in every if r.status == "pass"}
    assert {
        (check, r.id): evidence
        for check, resources, evidences in passed
        for r, evidence in zip(resources, evidences, strict=True)
    } == counted


def test_recording_passes_changes_nothing_else() -> None:
    estate = load_sample_estate()
    checks = CATALOG.checks
    passes: dict[Any, Any] = {}
    without = evaluate_counting_passes(estate, checks, as_of=EXPORTED_ON)
    recorded = evaluate_counting_passes(estate, checks, as_of=EXPORTED_ON, passes=passes)
    assert recorded == without
    assert sum(len(p[0]) for p in passes.values()) == sum(t[0] for t in without[1].values())
    # Equal evidence is one tuple, however many passes saw it.
    keyed = [e for _, evidences in passes.values() for e in evidences if evidence_key(e)]
    assert len({id(e) for e in keyed}) == len({evidence_key(e) for e in keyed}) < len(keyed)
    assert assessed(record=False).passes is None
    assert assessed(record=False).passed_by_check() == []


@pytest.mark.parametrize("indent", [True, False])
def test_the_report_with_passes_is_exactly_what_orjson_writes(indent: bool) -> None:
    assessment, document = run_scan(
        load_sample_estate(), CATALOG.framework_ids, scan_ts=SCAN_TS, catalog=CATALOG
    )
    out = io.BytesIO()
    document.write(out, indent=indent, include_passed=True)
    expected = {**document.to_dict(), "passed_recorded": True, "passed": as_data(assessment)}
    option = (orjson.OPT_INDENT_2 if indent else 0) | orjson.OPT_NON_STR_KEYS
    want = orjson.dumps(expected, default=json_default, option=option)
    if not indent:  # compact, each check starts a line: "},\n{" where orjson writes "},{"
        checks = [orjson.dumps(c, default=json_default) for c in expected["passed"]]
        assert b",\n".join(checks) in out.getvalue()
        assert out.getvalue().count(b"\n") == len(checks) - 1
        want = want.replace(b']},{"check_id":', b']},\n{"check_id":')
    assert out.getvalue() == want
    # Stored compactly, as its own zlib stream.
    stored = document.passed_compressed()
    assert stored is not None
    assert orjson.loads(zlib.decompress(stored)) == expected["passed"]


def test_without_passes_the_report_says_they_were_not_recorded() -> None:
    _, document = run_scan(
        load_sample_estate(),
        CATALOG.framework_ids,
        scan_ts=SCAN_TS,
        catalog=CATALOG,
        record_passes=False,
    )
    out = io.BytesIO()
    document.write(out, include_passed=True)
    body = orjson.loads(out.getvalue())
    assert body["passed_recorded"] is False
    assert body["passed"] is None
    assert document.passed_compressed() is None
    plain = io.BytesIO()
    document.write(plain)
    assert orjson.loads(plain.getvalue()) == {
        k: v for k, v in body.items() if not k.startswith("passed")
    }


# Secrets a resource record may carry beside its settings: none may reach a report.
SECRETS = {
    "adminPassword": "Pa55w0rd!planted-admin",
    "primaryKey": "planted0primary0key0AAAAAAAAAAAAAAAAAAAA==",
    "connectionString": "DefaultEndpointsProtocol=https;AccountKey=plantedAccountKey==",
    "clientSecret": "Qx8~planted.client.secret",
}


def test_secrets_in_a_record_never_reach_the_evidence() -> None:
    export = orjson.loads(sample_estate_path().read_bytes())
    planted = copy.deepcopy(export)
    for record in planted["data"]:
        properties = record.get("properties")
        if isinstance(properties, dict):
            properties.update(SECRETS)
            properties.setdefault("encryption", {})
            if isinstance(properties["encryption"], dict):
                properties["encryption"]["keyVaultProperties"] = {"keyValue": SECRETS["primaryKey"]}
        record["tags"] = {**(record.get("tags") or {}), "password": SECRETS["adminPassword"]}
    estate = Estate(resources_from_arg(planted, "test"))
    assessment, document = run_scan(estate, CATALOG.framework_ids, scan_ts=SCAN_TS, catalog=CATALOG)
    assert assessment.checks_passed > 0
    out = io.BytesIO()
    document.write(out, include_passed=True)
    text = out.getvalue()
    for secret in SECRETS.values():
        assert secret.encode() not in text
