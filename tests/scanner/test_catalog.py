import re
from importlib import resources

import pytest
from pydantic import ValidationError

from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.catalog.checks import (
    STRENGTHS,
    ControlSpec,
    FrameworkControls,
    Mapping,
    finding_control_id,
)
from tutela.scanner.catalog.document import render_catalogue, render_mapping

FRAMEWORK_IDS = ["iso42001", "sr11_7", "eu_ai_act", "nist_ai_rmf", "mas_trm", "dora", "sox"]


def test_the_seven_frameworks_with_provenance() -> None:
    catalog = load_catalog()
    assert [f.id for f in catalog.frameworks] == FRAMEWORK_IDS
    for framework in catalog.frameworks:
        assert framework.name
        assert framework.publisher
        assert framework.version
        assert framework.published.year >= 2002


def test_sr11_7_follows_the_guidance_that_superseded_it() -> None:
    sr = next(f for f in load_catalog().frameworks if f.id == "sr11_7")
    assert "SR 26-2" in sr.name
    assert sr.published.isoformat() == "2026-04-17"


def test_plans_match_the_published_tiers() -> None:
    catalog = load_catalog()
    assert catalog.plan_ids == ("free_trial", "starter", "professional", "enterprise")
    quotas = {p.id: (p.scan_quota, p.max_subscriptions, p.history_days) for p in catalog.plans}
    assert quotas == {
        "free_trial": (3, 1, 30),
        "starter": (25, 3, 30),
        "professional": (100, 15, 90),
        "enterprise": (None, None, 365),
    }
    assert catalog.plan("free_trial").frameworks == ("iso42001", "sr11_7")
    assert catalog.plans_with_framework("dora") == ["starter", "professional", "enterprise"]
    assert catalog.plan_rank("professional") > catalog.plan_rank("starter")


def test_every_check_evidences_a_control_and_every_framework_has_evidence() -> None:
    catalog = load_catalog()
    unmapped = [c.id for c in catalog.checks if not catalog.controls_for_check(c.id)]
    assert not unmapped, f"checks mapped to no control: {unmapped}"
    assert len(catalog.checks) >= 60
    for framework in FRAMEWORK_IDS:
        controls = catalog.controls_of(framework)
        assert controls is not None, f"{framework} has no controls"
        evidenced = [c for c in controls.controls if c.strength_of(c.check_ids[0])]
        assert len(evidenced) >= 3, f"{framework} has too few evidenced controls"


# What a reason must cite, per framework: the clause it relies on, in the framework's own terms.
CITATIONS = {
    "iso42001": r"\bA\.\d+(\.\d+)*|\bclause \d",
    "sr11_7": r"SR 26-2|OCC 2026-13|SR 11-7",
    "eu_ai_act": r"\bArt\. \d+|\bAnnex [IVX]+",
    "nist_ai_rmf": r"\b(GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+",
    "mas_trm": r"\b\d{1,2}\.\d(\.\d+)?\b",
    "dora": r"\bArt\. \d+",
    "sox": r"\bAS 2201|\bCOSO|\bITGC|\bPCAOB|\bSection 404",
}


@pytest.mark.parametrize("framework", FRAMEWORK_IDS)
def test_every_mapping_has_a_strength_and_a_reason_citing_the_clause(framework: str) -> None:
    controls = load_catalog().controls_of(framework)
    assert controls is not None
    for control in controls.controls:
        assert control.mappings, f"{framework} {control.id} maps no check"
        for mapping in control.mappings:
            where = f"{framework} {control.id} {list(mapping.checks)}"
            assert mapping.strength in STRENGTHS, where
            assert not mapping.reason.upper().startswith("UNREVIEWED"), f"{where}: not reviewed"
            assert len(mapping.reason) >= 40, f"{where}: the reason says too little"
            assert re.search(CITATIONS[framework], mapping.reason), (
                f"{where}: the reason cites no clause: {mapping.reason!r}"
            )


@pytest.mark.parametrize("framework", FRAMEWORK_IDS)
def test_every_control_kept_has_direct_evidence(framework: str) -> None:
    """No control stands on supporting evidence alone (SR 26-2 may stand on analogy)."""
    controls = load_catalog().controls_of(framework)
    assert controls is not None
    for control in controls.controls:
        strengths = {mapping.strength for mapping in control.mappings}
        allowed = {"direct", "by analogy"} if framework == "sr11_7" else {"direct"}
        assert strengths & allowed, f"{framework} {control.id} has only {sorted(strengths)}"


def test_ai_frameworks_are_scoped_to_ai_workloads_and_operational_ones_are_not() -> None:
    catalog = load_catalog()
    scoped = {c.framework for c in catalog.controls if c.ai_scoped}
    assert scoped == {"iso42001", "nist_ai_rmf", "eu_ai_act", "sr11_7"}


def _one_control(**control: object) -> dict[str, object]:
    return {
        "framework": "iso42001",
        "control_prefix": "ISO42001",
        "ai_scoped": True,
        "controls": [{"id": "A.1", "title": "x", **control}],
    }


REASON = "A.1 asks for exactly what this check reads, so its failure is a gap."


def test_a_mapping_to_a_missing_check_is_refused() -> None:
    catalog = load_catalog()
    broken = _one_control(
        mappings=[{"checks": ["NO-SUCH-CHECK"], "strength": "direct", "reason": REASON}]
    )
    with pytest.raises(ValidationError, match="NO-SUCH-CHECK"):
        Catalog.model_validate({**catalog.model_dump(), "controls": [broken]})


@pytest.mark.parametrize(
    ("control", "refusal"),
    [
        ({"mappings": [{"checks": ["X-A"], "strength": "strong", "reason": REASON}]}, "strength"),
        ({"mappings": [{"checks": ["X-A"], "strength": "direct"}]}, "reason"),
        ({"mappings": [{"checks": ["X-A"], "strength": "direct", "reason": "short"}]}, "reason"),
        (
            {
                "mappings": [
                    {"checks": ["X-A"], "strength": "direct", "reason": REASON},
                    {"checks": ["X-A"], "strength": "supporting", "reason": REASON},
                ]
            },
            "more than once",
        ),
        (
            {
                "numbering": "unconfirmed",
                "mappings": [{"checks": ["X-A"], "strength": "direct", "reason": REASON}],
            },
            "numbering_note",
        ),
        (
            {"mappings": [{"checks": ["X-A"], "strength": "by analogy", "reason": REASON}]},
            "by analogy",
        ),
    ],
)
def test_malformed_mappings_are_refused(control: dict[str, object], refusal: str) -> None:
    with pytest.raises(ValidationError, match=refusal):
        FrameworkControls.model_validate(_one_control(**control))


def test_a_control_knows_each_checks_strength() -> None:
    control = ControlSpec(
        id="A.1",
        title="x",
        mappings=(
            Mapping(checks=("X-A", "X-B"), strength="direct", reason=REASON),
            Mapping(checks=("X-C",), strength="supporting", reason=REASON),
        ),
    )
    assert [control.strength_of(c) for c in ("X-A", "X-B", "X-C", "X-D")] == [
        "direct",
        "direct",
        "supporting",
        None,
    ]
    assert control.check_ids == ("X-A", "X-B", "X-C")


def test_finding_control_ids_follow_one_scheme() -> None:
    assert finding_control_id("ISO42001", "A.6.2.6") == "ISO42001-A.6.2.6"
    assert finding_control_id("NISTAIRMF", "MEASURE 2.7") == "NISTAIRMF-MEASURE-2.7"
    assert finding_control_id("EUAIA", "Art. 12") == "EUAIA-ART-12"
    assert finding_control_id("DORA", "Art. 9(4)(c)") == "DORA-ART-9-4-C"
    catalog = load_catalog()
    for controls in catalog.controls:
        shown = [finding_control_id(controls.control_prefix, c.id) for c in controls.controls]
        assert len(set(shown)) == len(shown), f"{controls.framework} has clashing control ids"
        assert all(re.fullmatch(r"[A-Z0-9]+-[A-Z0-9.-]+", s) for s in shown), shown


def test_generative_ai_reaches_sr26_2_only_by_analogy() -> None:
    sr = load_catalog().controls_of("sr11_7")
    assert sr is not None
    assert "microsoft.cognitiveservices/*" in sr.analogy_resource_types
    direct = {
        check
        for control in sr.controls
        for mapping in control.mappings
        if mapping.strength != "by analogy"
        for check in mapping.checks
    }
    assert not {c for c in direct if c.startswith("AOAI-")}


def test_the_committed_checks_document_is_current() -> None:
    """CHECKS.md is the reviewer's view of the catalogue: regenerate it when the data changes."""
    committed = (resources.files("tutela.scanner.catalog") / "CHECKS.md").read_text()
    rendered = render_catalogue(load_catalog())
    assert committed == rendered, (
        "CHECKS.md is stale: run `python -m tutela.scanner.catalog.document`"
    )
    assert "AOAI-LOCAL-AUTH" in committed


def test_the_committed_mapping_document_is_current() -> None:
    """MAPPING.md is the review table of every mapping: strength and reason, per framework."""
    committed = (resources.files("tutela.scanner.catalog") / "controls" / "MAPPING.md").read_text()
    assert committed == render_mapping(load_catalog()), (
        "MAPPING.md is stale: run `python -m tutela.scanner.catalog.document`"
    )
    catalog = load_catalog()
    rows = [line for line in committed.splitlines() if line.startswith("| `")]
    mapped = sum(len(c.mappings) for f in catalog.controls for c in f.controls)
    assert len(rows) == mapped + len(catalog.controls)  # one per mapping, one per framework count


def test_the_documents_show_strength_and_unconfirmed_numbering() -> None:
    catalog = load_catalog()
    control = ControlSpec(
        id="9.9",
        title="A control whose number no source confirms",
        numbering="unconfirmed",
        numbering_note="only a secondary source quotes it",
        mappings=(
            Mapping(checks=("STG-MIN-TLS",), strength="direct", reason=REASON),
            Mapping(checks=("STG-CMK",), strength="supporting", reason=REASON),
        ),
    )
    mas = catalog.controls_of("mas_trm")
    assert mas is not None
    edited = catalog.model_copy(
        update={
            "controls": tuple(
                c.model_copy(update={"controls": (control,)}) if c is mas else c
                for c in catalog.controls
            )
        }
    )
    checks = render_catalogue(edited)
    assert "| `MASTRM-9.9` (numbering unconfirmed) |" in checks
    assert "- `MASTRM-9.9`: only a secondary source quotes it" in checks
    row = next(line for line in checks.splitlines() if line.startswith("| `STG-CMK` |"))
    assert "MASTRM-9.9 (supporting)" in row
    mapping = render_mapping(edited)
    assert "| `STG-CMK` | supporting |" in mapping
    assert "| `STG-MIN-TLS` | direct |" in mapping


def test_the_docs_state_the_catalogue_s_counts() -> None:
    """README and docs/insights.md name how many checks there are, and how many fixes of each
    kind: the numbers follow the catalogue."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    checks = load_catalog().checks
    manual = sum(1 for check in checks if check.fix is not None and check.fix.manual)
    by_configuration = sum(1 for check in checks if check.fix is not None) - manual
    readme = (root / "README.md").read_text()
    insights = (root / "docs" / "insights.md").read_text()
    assert f"their controls, {len(checks)} checks and the 4 plans" in readme
    assert f"What the {len(checks)} checks test" in readme
    assert (
        f"Each of the {len(checks)} checks declares one: {by_configuration} by configuration, "
        f"{manual} manual." in insights
    )
