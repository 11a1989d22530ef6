"""Findings, severity-weighted scores, unknown accounting, dispatch by type, and report diffs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.scanner.engine.cases import make_resource
from tests.scanner.engine.controls import control, framework, with_controls
from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.catalog.checks import ControlSpec, FrameworkControls, Mapping
from tutela.scanner.engine.assess import assess
from tutela.scanner.engine.diff import diff_reports
from tutela.scanner.estate import Estate

AS_OF = dt.date(2026, 11, 23)
ACCOUNT = "microsoft.cognitiveservices/accounts"


def catalog(**sr_overrides: Any) -> Catalog:
    return with_controls(
        framework(
            "iso42001",
            "ISO42001",
            control("A.9.2", "Responsible use", direct=("AOAI-LOCAL-AUTH",)),
            control("A.6.2.8", "Event logs", direct=("AOAI-DIAG-LOGS",)),
            ai_scoped=True,
        ),
        framework(
            "sr11_7",
            "SR117",
            control("MRM-ACCESS", "Access", direct=("AOAI-LOCAL-AUTH",)),
            ai_scoped=True,
            **sr_overrides,
        ),
    )


def account(name: str, **values: Any) -> Any:
    return make_resource({"type": ACCOUNT, "name": name, **values})


def test_scores_weigh_severity_and_ignore_unknowns() -> None:
    estate = Estate(
        [
            account("keys-on", properties={}, diagnostic_settings=[]),  # high fail, medium fail
            account("keys-off", properties={"disableLocalAuth": True}),  # high pass, medium unknown
        ]
    )
    result = assess(estate, catalog(), ["iso42001", "sr11_7"], as_of=AS_OF)
    iso = result.framework_results["iso42001"]
    assert (iso.checks_evaluated, iso.checks_passed, iso.checks_failed, iso.checks_unknown) == (
        4,
        1,
        2,
        1,
    )
    assert iso.score == round(100 * 5 / (5 + 5 + 3))
    assert result.framework_results["sr11_7"].score == 50
    assert result.aggregate_score == iso.score  # every pair counts for iso42001
    assert result.checks_unknown == 1
    assert result.severity_counts == {"critical": 0, "high": 2, "medium": 1, "low": 0}
    assert [f.control.control_id for f in result.findings()] == [
        "ISO42001-A.9.2",
        "SR117-MRM-ACCESS",
        "ISO42001-A.6.2.8",
    ]
    assert (iso.controls_assessed, iso.controls_with_gaps) == (2, 2)


def test_findings_come_most_severe_first_then_by_check_and_resource() -> None:
    estate = Estate(
        [
            account(name, properties={}, diagnostic_settings=[])
            for name in ("oai-b", "oai-c", "oai-a")
        ]
    )
    result = assess(estate, catalog(), ["iso42001", "sr11_7"], as_of=AS_OF)
    seen = [
        (f.result.check.id, f.result.resource.name, f.control.control_id) for f in result.findings()
    ]
    # A result's findings stay together, its controls in framework order.
    assert seen == [
        *(
            (check, name, control)
            for name in ("oai-a", "oai-b", "oai-c")
            for check, control in (
                ("AOAI-LOCAL-AUTH", "ISO42001-A.9.2"),
                ("AOAI-LOCAL-AUTH", "SR117-MRM-ACCESS"),
            )
        ),
        *(("AOAI-DIAG-LOGS", name, "ISO42001-A.6.2.8") for name in ("oai-a", "oai-b", "oai-c")),
    ]


def test_only_asked_frameworks_and_their_checks_run() -> None:
    estate = Estate([account("keys-on", properties={}, diagnostic_settings=[])])
    result = assess(estate, catalog(), ["sr11_7"], as_of=AS_OF)
    assert result.checks_evaluated == 1
    assert {r.check.id for r in result.failed} == {"AOAI-LOCAL-AUTH"}
    assert {f.control.framework for f in result.findings()} == {"sr11_7"}
    with pytest.raises(ValueError, match="hipaa"):
        assess(estate, catalog(), ["hipaa"], as_of=AS_OF)


def test_checks_never_run_on_other_resource_types() -> None:
    storage = make_resource({"type": "microsoft.storage/storageaccounts", "properties": {}})
    result = assess(Estate([storage]), catalog(), ["iso42001"], as_of=AS_OF)
    assert result.checks_evaluated == 0
    assert result.aggregate_score is None  # nothing decided: no score, not a perfect one


def test_resource_types_reached_by_analogy_mark_findings() -> None:
    estate = Estate([account("keys-on", properties={})])
    plain = assess(estate, catalog(), ["sr11_7"], as_of=AS_OF)
    assert [f.mapping for f in plain.findings()] == ["direct"]
    analogy = catalog(analogy_resource_types=("microsoft.cognitiveservices/*",))
    marked = assess(estate, analogy, ["sr11_7"], as_of=AS_OF)
    assert [f.mapping for f in marked.findings()] == ["by analogy"]


def test_generative_ai_kinds_of_a_type_are_reached_by_analogy_under_sr_26_2() -> None:
    """Azure AI Foundry hubs and projects are Azure ML workspaces: only their kind tells them."""
    import json

    from tutela.scanner.scan import run_scan

    workspace = "microsoft.machinelearningservices/workspaces"
    estate = Estate(
        [
            make_resource(
                {
                    "type": workspace,
                    "name": name,
                    "kind": kind,
                    "properties": {"publicNetworkAccess": "Enabled"},
                }
            )
            for name, kind in (("classic", "Default"), ("foundry", "hub"), ("bare", None))
        ]
    )
    shipped = load_catalog()
    sr = shipped.controls_of("sr11_7")
    assert sr is not None
    graded = {c.strength_of("AML-WS-PUBLIC-ACCESS") for c in sr.controls} - {None}
    assert len(graded) == 1  # as the catalogue grades it
    assert "by analogy" not in graded
    strength = graded.pop()
    result = assess(estate, shipped, ["sr11_7"], as_of=AS_OF)
    marks = {
        f.result.resource.name: f.mapping
        for f in result.findings()
        if f.result.check.id == "AML-WS-PUBLIC-ACCESS"
    }
    assert marks == {"classic": strength, "foundry": "by analogy", "bare": strength}

    # The report shares parts between results of one check: never between these three.
    _, report = run_scan(estate, ["sr11_7"], scan_ts=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    mapped = {
        f["resource_name"]: f["mapping"]
        for f in json.loads(report.json())["findings"]
        if f["check_id"] == "AML-WS-PUBLIC-ACCESS"
    }
    assert mapped == {"classic": strength, "foundry": "by analogy", "bare": strength}


def test_analogy_kinds_name_a_lower_cased_type_and_some_kinds() -> None:
    for kinds in ({"Microsoft.MachineLearningServices/workspaces": ("Hub",)}, {"a/b": ()}):
        with pytest.raises(ValueError, match=r"lower-cased ARM type|no kinds"):
            framework(
                "sr11_7",
                "SR117",
                control("X", "x", direct=("A-B",)),
                analogy_resource_kinds=kinds,
            )


def test_progress_follows_every_check_on_every_resource_up_to_the_total() -> None:
    estate = Estate([account(f"oai-{i}", properties={}) for i in range(3)])
    seen: list[tuple[int, int]] = []
    shipped = load_catalog()

    assess(estate, shipped, ["iso42001"], as_of=AS_OF, progress=lambda *s: seen.append(s))

    applicable = [c for c in shipped.checks if ACCOUNT in c.resource_types]
    mapped = {c for controls in shipped.controls if controls.framework == "iso42001"
              for control in controls.controls for c in control.check_ids}  # fmt: skip
    pairs = 3 * len([c for c in applicable if c.id in mapped])
    assert pairs > 0
    assert [total for _, total in seen] == [pairs] * len(seen)
    assert [done for done, _ in seen] == list(range(3, pairs + 1, 3))


def test_a_check_mapped_twice_to_one_control_is_refused() -> None:
    reason = "a reason long enough for the catalogue"
    with pytest.raises(ValueError, match="more than once"):
        ControlSpec(
            id="X",
            title="x",
            mappings=(
                Mapping(checks=("A-B",), strength="direct", reason=reason),
                Mapping(checks=("A-B",), strength="by analogy", reason=reason),
            ),
        )
    with pytest.raises(ValueError, match="kept for frameworks that reach"):
        FrameworkControls(
            framework="iso42001",
            control_prefix="ISO42001",
            ai_scoped=True,
            controls=(control("X", "x", analogy=("A-B",)),),
        )


def finding(control: str, check: str, resource: str, severity: str = "high") -> dict[str, Any]:
    return {
        "control_id": control,
        "check_id": check,
        "resource": resource,
        "severity": severity,
        "status": "fail",
    }


def test_diff_sorts_findings_into_new_resolved_unchanged_and_severity_changes() -> None:
    before = {
        "report_id": "COMP-20261101-000000",
        "aggregate_score": 60,
        "findings": [
            finding("C1", "K1", "/r/a"),
            finding("C2", "K2", "/r/b"),
            finding("C3", "K3", "/r/c", "medium"),
        ],
    }
    after = {
        "report_id": "COMP-20261123-000000",
        "aggregate_score": 72,
        "findings": [
            finding("C2", "K2", "/R/B"),
            finding("C3", "K3", "/r/c", "high"),
            finding("C4", "K4", "/r/d"),
        ],
    }
    diff = diff_reports(before, after)
    assert diff["score_delta"] == 12
    assert [f["control_id"] for f in diff["new_findings"]] == ["C4"]
    assert [f["control_id"] for f in diff["resolved"]] == ["C1"]
    assert [f["control_id"] for f in diff["unchanged"]] == ["C2", "C3"]
    assert diff["severity_changes"] == [
        {"control_id": "C3", "check_id": "K3", "resource": "/r/c", "from": "medium", "to": "high"}
    ]
    assert diff_reports(after, after)["new_findings"] == []
    assert (
        diff_reports({"findings": []}, {"aggregate_score": 5, "findings": []})["score_delta"]
        is None
    )


def test_the_first_failing_results_are_those_of_the_full_order() -> None:
    estate = Estate(
        [account(f"oai-{i}", properties={}, diagnostic_settings=[]) for i in (3, 1, 2, 0)]
    )
    first = assess(estate, catalog(), ["iso42001"], as_of=AS_OF).failed_in_order(3)
    every = assess(estate, catalog(), ["iso42001"], as_of=AS_OF).failed_in_order()
    assert len(every) == 8
    assert [(r.check.id, r.resource.name) for r in first] == [
        (r.check.id, r.resource.name) for r in every[:3]
    ]
