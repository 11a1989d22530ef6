from tutela.scanner.catalog import load_catalog

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
