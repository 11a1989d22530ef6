"""Scores weigh each pair by its mapping's strength; AI frameworks count general-purpose resources
only inside an AI workload (catalog/README.md, Scores and AI scope)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.scanner.engine.cases import make_resource
from tests.scanner.engine.controls import control, framework, with_controls
from tutela.scanner.catalog import Catalog
from tutela.scanner.engine.assess import Assessment, assess
from tutela.scanner.estate import UNKNOWN, Estate, Resource

AS_OF = dt.date(2026, 11, 23)
ACCOUNT = "microsoft.cognitiveservices/accounts"
STORAGE = "microsoft.storage/storageaccounts"
WORKSPACE = "microsoft.machinelearningservices/workspaces"
HIGH, MEDIUM = 5, 3  # AOAI-LOCAL-AUTH and STG-HTTPS-ONLY are high, AOAI-DIAG-LOGS medium


def two_accounts() -> Estate:
    """keys-on fails AOAI-LOCAL-AUTH, keys-off passes it; both fail AOAI-DIAG-LOGS."""
    return Estate(
        [
            make_resource(
                {"type": ACCOUNT, "name": "keys-on", "properties": {}, "diagnostic_settings": []}
            ),
            make_resource(
                {
                    "type": ACCOUNT,
                    "name": "keys-off",
                    "properties": {"disableLocalAuth": True},
                    "diagnostic_settings": [],
                }
            ),
        ]
    )


def scored(catalog: Catalog, frameworks: list[str]) -> Assessment:
    return assess(two_accounts(), catalog, frameworks, as_of=AS_OF)


def test_a_supporting_mapping_counts_at_half_weight() -> None:
    catalog = with_controls(
        framework(
            "iso42001",
            "ISO42001",
            control("A.9.2", "Responsible use", direct=("AOAI-LOCAL-AUTH",)),
            control("A.6.2.8", "Event logs", supporting=("AOAI-DIAG-LOGS",)),
            ai_scoped=True,
        )
    )
    result = scored(catalog, ["iso42001"])
    iso = result.framework_results["iso42001"]
    # Local auth: one pass, one fail at 5 * 1; logs: two fails at 3 * 0.5.
    assert iso.score == round(100 * HIGH / (2 * HIGH + 2 * MEDIUM * 0.5)) == 38
    assert result.aggregate_score == 38
    # The pair counts stay unweighted.
    assert (iso.checks_evaluated, iso.checks_passed, iso.checks_failed) == (4, 1, 3)
    assert [f.mapping for f in result.findings()] == ["direct", "supporting", "supporting"]


def test_a_check_mapped_to_two_controls_counts_once_at_its_strongest_mapping() -> None:
    catalog = with_controls(
        framework(
            "iso42001",
            "ISO42001",
            control("A.9.2", "Responsible use", direct=("AOAI-LOCAL-AUTH",)),
            control("A.6.2.8", "Event logs", supporting=("AOAI-LOCAL-AUTH", "AOAI-DIAG-LOGS")),
            ai_scoped=True,
        )
    )
    result = scored(catalog, ["iso42001"])
    iso = result.framework_results["iso42001"]
    # Local auth at 1 (not 0.5, not 1.5): 5 / (10 + 3) → 38 (0.5 would give 31, 1.5 give 42).
    assert iso.score == round(100 * HIGH / (2 * HIGH + 2 * MEDIUM * 0.5)) == 38
    assert iso.checks_evaluated == 4  # each pair once, however many controls it counts for
    # A finding per control all the same, each with its own mapping.
    first_two = [(f.control.control_id, f.mapping) for f in result.findings()][:2]
    assert first_two == [("ISO42001-A.9.2", "direct"), ("ISO42001-A.6.2.8", "supporting")]
    assert (iso.controls_assessed, iso.controls_with_gaps) == (2, 2)


def test_the_aggregate_counts_a_pair_once_at_its_strongest_across_frameworks() -> None:
    catalog = with_controls(
        framework(
            "iso42001",
            "ISO42001",
            control("A.9.2", "Responsible use", supporting=("AOAI-LOCAL-AUTH",)),
            control("A.6.2.8", "Event logs", supporting=("AOAI-DIAG-LOGS",)),
            ai_scoped=True,
        ),
        framework("dora", "DORA", control("Art. 9(4)(c)", "Access", direct=("AOAI-LOCAL-AUTH",))),
    )
    result = scored(catalog, ["iso42001", "dora"])
    scores = {f: r.score for f, r in result.framework_results.items()}
    assert scores == {
        "iso42001": round(100 * HIGH * 0.5 / (2 * HIGH * 0.5 + 2 * MEDIUM * 0.5)),  # 31
        "dora": 50,
    }
    # Local auth at 1 (DORA's direct mapping), logs at 0.5, each pair once: 5 / 13 → 38
    # (counted under both frameworks it would be 7.5 / 18 → 42).
    assert result.aggregate_score == round(100 * HIGH / (2 * HIGH + 2 * MEDIUM * 0.5)) == 38
    assert result.checks_evaluated == 4


def test_severity_counts_count_findings() -> None:
    catalog = with_controls(
        framework(
            "iso42001",
            "ISO42001",
            control("A.9.2", "Responsible use", direct=("AOAI-LOCAL-AUTH",)),
            control("A.6.2.8", "Event logs", supporting=("AOAI-LOCAL-AUTH", "AOAI-DIAG-LOGS")),
            ai_scoped=True,
        ),
        framework("dora", "DORA", control("Art. 9(4)(c)", "Access", direct=("AOAI-LOCAL-AUTH",))),
    )
    result = scored(catalog, ["iso42001", "dora"])
    findings = list(result.findings())
    severities = [f.result.check.severity for f in findings]
    counted = {s: severities.count(s) for s in result.severity_counts}
    assert result.severity_counts == counted == {"critical": 0, "high": 3, "medium": 2, "low": 0}


# --- AI scope ----------------------------------------------------------------------------------


def storage(name: str, https: Any = False, **values: Any) -> Resource:
    return make_resource(
        {"type": STORAGE, "name": name, "properties": {"supportsHttpsTrafficOnly": https}, **values}
    )


def scoped_estate() -> Estate:
    """A workspace's default storage account, a tagged one, and two outside any AI workload."""
    linked = storage("stlinked")
    return Estate(
        [
            make_resource(
                {"type": WORKSPACE, "name": "mlw-risk", "properties": {"storageAccount": linked.id}}
            ),
            linked,
            storage("stloose"),
            storage("sttagged", UNKNOWN, tags={"ai-workload": "credit-scoring"}),
            storage("stloose-unknown", UNKNOWN),
        ]
    )


def scoped_catalog(*iso_controls: Any) -> Catalog:
    return with_controls(
        framework(
            "iso42001",
            "ISO42001",
            *(iso_controls or (control("A.7.2", "Data", direct=("STG-HTTPS-ONLY",)),)),
            ai_scoped=True,
        ),
        framework("dora", "DORA", control("Art. 9(2)", "Security", direct=("STG-HTTPS-ONLY",))),
    )


def test_a_storage_account_outside_any_ai_workload_counts_only_for_operational_frameworks() -> None:
    result = assess(scoped_estate(), scoped_catalog(), ["iso42001", "dora"], as_of=AS_OF)
    seen = [(f.result.resource.name, f.control.framework, f.ai_workload) for f in result.findings()]
    assert seen == [
        ("stlinked", "iso42001", "default storage account of Azure ML workspace 'mlw-risk'"),
        ("stlinked", "dora", "default storage account of Azure ML workspace 'mlw-risk'"),
        ("stloose", "dora", None),
    ]
    iso, dora = result.framework_results["iso42001"], result.framework_results["dora"]
    assert (iso.checks_evaluated, iso.checks_failed, iso.checks_unknown) == (2, 1, 1)
    assert (dora.checks_evaluated, dora.checks_failed, dora.checks_unknown) == (4, 2, 2)
    assert result.severity_counts["high"] == len(seen) == 3
    assert (iso.controls_assessed, iso.controls_with_gaps) == (1, 1)
    # Undecided results name only the frameworks they count for.
    unknown = {r.resource.name: result.frameworks_of(r) for r in result.unknown_results}
    assert unknown == {"sttagged": ("iso42001", "dora"), "stloose-unknown": ("dora",)}
    workloads = {r.resource.name: result.ai_workload(r) for r in result.unknown_results}
    assert workloads == {"sttagged": "tagged ai-workload=credit-scoring", "stloose-unknown": None}


def test_pairs_that_count_for_no_scanned_framework_are_left_out() -> None:
    result = assess(scoped_estate(), scoped_catalog(), ["iso42001"], as_of=AS_OF)
    assert [r.resource.name for r in result.failed] == ["stlinked"]
    assert [r.resource.name for r in result.unknown_results] == ["sttagged"]
    assert (result.checks_evaluated, result.checks_failed, result.checks_unknown) == (2, 1, 1)
    assert result.aggregate_score == 0
    assert result.framework_results["iso42001"].score == 0
    # A check whose only AI framework does not reach the resource: never decided there.
    only_iso = with_controls(
        framework("iso42001", "ISO42001", control("A.7.2", "Data", direct=("STG-MIN-TLS",))),
    )
    loose = Estate([storage("stloose")])
    assert assess(loose, only_iso, ["iso42001"], as_of=AS_OF).checks_evaluated == 1  # not scoped
    scoped = with_controls(
        framework(
            "iso42001",
            "ISO42001",
            control("A.7.2", "Data", direct=("STG-MIN-TLS",)),
            ai_scoped=True,
        ),
    )
    nothing = assess(loose, scoped, ["iso42001"], as_of=AS_OF)
    assert (nothing.checks_evaluated, nothing.aggregate_score) == (0, None)


def test_a_scope_given_by_the_caller_decides_instead_of_the_estates_links() -> None:
    class Everything:
        def is_general_purpose(self, resource_type: str) -> bool:
            return resource_type == STORAGE

        def reason(self, resource: Resource) -> str | None:
            return f"{resource.name} is in scope for this test"

    result = assess(
        scoped_estate(), scoped_catalog(), ["iso42001"], as_of=AS_OF, scope=Everything()
    )
    assert [(f.result.resource.name, f.ai_workload) for f in result.findings()] == [
        ("stlinked", "stlinked is in scope for this test"),
        ("stloose", "stloose is in scope for this test"),
    ]
