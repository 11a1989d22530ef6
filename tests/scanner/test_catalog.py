import re
from importlib import resources

import pytest
from pydantic import ValidationError

from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.catalog.checks import ControlSpec, finding_control_id
from tutela.scanner.catalog.document import render_catalogue

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
        evidenced = [c for c in controls.controls if c.checks or c.analogy_checks]
        assert len(evidenced) >= 3, f"{framework} has too few evidenced controls"


def test_a_mapping_to_a_missing_check_is_refused() -> None:
    catalog = load_catalog()
    broken = catalog.controls[0].model_copy(
        update={"controls": (ControlSpec(id="A.1", title="x", checks=("NO-SUCH-CHECK",)),)}
    )
    with pytest.raises(ValidationError, match="NO-SUCH-CHECK"):
        Catalog.model_validate({**catalog.model_dump(), "controls": [broken.model_dump()]})


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
    direct = {check for control in sr.controls for check in control.checks}
    assert not {c for c in direct if c.startswith("AOAI-")}


def test_the_committed_checks_document_is_current() -> None:
    """CHECKS.md is the reviewer's view of the catalogue: regenerate it when the data changes."""
    committed = (resources.files("tutela.scanner.catalog") / "CHECKS.md").read_text()
    rendered = render_catalogue(load_catalog())
    assert committed == rendered, (
        "CHECKS.md is stale: run `python -m tutela.scanner.catalog.document`"
    )
    assert "AOAI-LOCAL-AUTH" in committed
