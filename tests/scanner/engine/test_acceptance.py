"""Risk acceptance in the engine: which failures an acceptance covers, until when, and what
accepted pairs no longer count for (scores, severity counts, framework counts, the gate)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

from tests.scanner.engine.cases import SUBSCRIPTION, make_resource
from tests.scanner.engine.controls import control, framework, with_controls
from tutela.scanner.acceptance import (
    Acceptance,
    AcceptanceError,
    ActiveAcceptances,
    check_acceptance,
)
from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.engine.assess import Assessment, assess
from tutela.scanner.estate import Estate
from tutela.scanner.outputs.report import dumps, report_header
from tutela.scanner.scan import run_scan

AS_OF = dt.date(2026, 11, 23)
EXPIRES = dt.date(2027, 3, 31)
ACCOUNT = "microsoft.cognitiveservices/accounts"
FRAMEWORKS = ["iso42001", "sr11_7"]
KEYS_OFF = {"disableLocalAuth": True}


def account_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-test/providers/{ACCOUNT}/{name}"


def catalog() -> Catalog:
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
        ),
    )


def estate() -> Estate:
    """keys-on and keys-on-2 fail AOAI-LOCAL-AUTH (high) and AOAI-DIAG-LOGS (medium); keys-off
    passes the first and cannot be decided on the second."""
    failing = [
        make_resource({"type": ACCOUNT, "name": name, "properties": {}, "diagnostic_settings": []})
        for name in ("keys-on", "keys-on-2")
    ]
    return Estate(
        [*failing, make_resource({"type": ACCOUNT, "name": "keys-off", "properties": KEYS_OFF})]
    )


def accept(resource: str, check_id: str = "AOAI-LOCAL-AUTH", **fields: Any) -> Acceptance:
    values: dict[str, Any] = {
        "reason": "compensating control: keys rotated daily",
        "approver": "ciso@example.com",
        "expires": EXPIRES,
        "ticket": "RISK-7",
        **fields,
    }
    return Acceptance(check_id=check_id, resource=resource, **values)


def assessed(*acceptances: Acceptance, as_of: dt.date = AS_OF) -> Assessment:
    return assess(estate(), catalog(), FRAMEWORKS, as_of=as_of, acceptances=acceptances)


def accepted_pairs(assessment: Assessment) -> list[tuple[str, str]]:
    return [(a.result.check.id, a.result.resource.name) for a in assessment.accepted]


def test_an_exact_id_is_matched_without_case_and_only_for_its_check() -> None:
    active = ActiveAcceptances([accept(account_id("keys-on").upper())], AS_OF)
    assert active.find("AOAI-LOCAL-AUTH", account_id("keys-on")) is not None
    assert active.find("AOAI-LOCAL-AUTH", account_id("keys-on-2")) is None
    assert active.find("AOAI-DIAG-LOGS", account_id("keys-on")) is None


@pytest.mark.parametrize(
    ("pattern", "matched"),
    [
        (f"/subscriptions/*/resourceGroups/RG-TEST/providers/{ACCOUNT}/*", True),
        ("*/keys-on", True),
        ("*/KEYS-ON-?", True),
        ("*/keys-on-[0-9]", True),
        ("*/keys-on-[!0-9]", False),
        ("/subscriptions/*/resourceGroups/rg-other/*", False),
        ("keys-on", False),  # a glob matches the whole id, not a part of it
    ],
)
def test_a_glob_matches_whole_ids_without_case(pattern: str, matched: bool) -> None:
    acceptance = accept(pattern)
    resource = (
        account_id("keys-on-2") if "?" in pattern or "[" in pattern else account_id("keys-on")
    )
    assert acceptance.is_glob == (pattern != "keys-on")
    assert acceptance.matches("AOAI-LOCAL-AUTH", resource) is matched
    found = ActiveAcceptances([acceptance], AS_OF).find("AOAI-LOCAL-AUTH", resource)
    assert (found is acceptance) is matched


def test_an_exact_id_wins_over_a_glob_then_the_first_given() -> None:
    glob, exact, later = accept("*"), accept(account_id("keys-on")), accept("*/keys-*")
    active = ActiveAcceptances([glob, later, exact], AS_OF)
    assert active.find("AOAI-LOCAL-AUTH", account_id("keys-on")) is exact
    assert active.find("AOAI-LOCAL-AUTH", account_id("keys-on-2")) is glob


def test_an_accepted_failure_leaves_the_failures_counts_scores_and_gate() -> None:
    before = assessed()
    after = assessed(accept(account_id("keys-on")))
    assert accepted_pairs(after) == [("AOAI-LOCAL-AUTH", "keys-on")]
    assert after.checks_accepted == 1
    assert after.checks_failed == before.checks_failed - 1
    assert all(
        (r.check.id, r.resource.name) != ("AOAI-LOCAL-AUTH", "keys-on") for r in after.failed
    )
    # high: one pair fewer, for each of its two controls
    assert before.severity_counts["high"] == 4
    assert after.severity_counts["high"] == 2
    assert after.severity_counts["medium"] == before.severity_counts["medium"] == 2
    iso_before, iso = before.framework_results["iso42001"], after.framework_results["iso42001"]
    assert (iso.checks_failed, iso.checks_passed, iso.checks_unknown) == (3, 1, 1)
    assert iso.checks_evaluated == iso_before.checks_evaluated - 1
    assert (iso.checks_accepted, after.framework_results["sr11_7"].checks_accepted) == (1, 1)
    # iso42001 decided: LOCAL-AUTH keys-off pass, keys-on-2 fail (high 5); DIAG two fails (3)
    assert iso_before.score == round(100 * 5 / (5 * 3 + 3 * 2))
    assert iso.score == round(100 * 5 / (5 * 2 + 3 * 2))
    assert after.framework_results["sr11_7"].score == 50  # one pass, one fail left
    assert after.aggregate_score == iso.score
    local_auth = next(b for b in after.score_basis() if b["check_id"] == "AOAI-LOCAL-AUTH")
    assert (local_auth["passed"], local_auth["failed"]) == (1, 1)


def test_a_check_whose_failures_are_all_accepted_has_no_gap() -> None:
    everything = accept("*")
    result = assess(
        Estate([make_resource({"type": ACCOUNT, "name": "keys-on", "properties": {}})]),
        catalog(),
        ["sr11_7"],
        as_of=AS_OF,
        acceptances=[everything],
    )
    assert result.failed == []
    assert result.checks_accepted == 1
    sr = result.framework_results["sr11_7"]
    assert (sr.score, sr.checks_evaluated, sr.controls_with_gaps, sr.controls_assessed) == (
        None,
        0,
        0,
        0,
    )
    assert result.score_basis() == []
    assert result.severity_counts == {"critical": 0, "high": 0, "medium": 0, "low": 0}


def test_passes_and_unknowns_are_never_accepted() -> None:
    before = assessed()
    after = assessed(accept("*/keys-off"), accept("*/keys-off", check_id="AOAI-DIAG-LOGS"))
    assert after.accepted == []
    assert after.checks_passed == before.checks_passed
    assert [(r.check.id, r.resource.id) for r in after.unknown_results] == [
        ("AOAI-DIAG-LOGS", account_id("keys-off"))
    ]
    assert after.aggregate_score == before.aggregate_score


def test_an_acceptance_holds_until_the_day_before_it_expires() -> None:
    acceptance = accept(account_id("keys-on"))
    day_before = assessed(acceptance, as_of=EXPIRES - dt.timedelta(days=1))
    assert accepted_pairs(day_before) == [("AOAI-LOCAL-AUTH", "keys-on")]
    on_the_day = assessed(acceptance, as_of=EXPIRES)
    assert on_the_day.accepted == []
    assert on_the_day.severity_counts == assessed(as_of=EXPIRES).severity_counts
    assert ("AOAI-LOCAL-AUTH", account_id("keys-on")) in {
        (r.check.id, r.resource.id) for r in on_the_day.failed
    }


def scan(*acceptances: Acceptance, on: dt.date = AS_OF) -> Any:
    moment = dt.datetime.combine(on, dt.time(9, 30), tzinfo=dt.UTC)
    return run_scan(
        estate(), FRAMEWORKS, scan_ts=moment, catalog=catalog(), acceptances=acceptances
    )


def test_the_report_lists_each_accepted_pair_with_its_acceptance() -> None:
    acceptance = accept("*/KEYS-ON*")
    _, report = scan(acceptance)
    document = report.to_dict()
    assert document["checks_accepted"] == 2
    assert {f: s["checks_accepted"] for f, s in document["framework_scores"].items()} == {
        "iso42001": 2,
        "sr11_7": 2,
    }
    assert [a["resource_id"] for a in document["accepted"]] == [
        account_id("keys-on"),
        account_id("keys-on-2"),
    ]
    first = document["accepted"][0]
    assert first == {
        "check_id": "AOAI-LOCAL-AUTH",
        "severity": "high",
        "title": load_catalog().check("AOAI-LOCAL-AUTH").title,
        "resource_id": account_id("keys-on"),
        "resource_name": "keys-on",
        "resource_type": ACCOUNT,
        "frameworks": ["iso42001", "sr11_7"],
        "origin": None,
        "evidence": first["evidence"],
        "acceptance": {
            "id": None,
            "resource": "*/KEYS-ON*",
            "reason": "compensating control: keys rotated daily",
            "approver": "ciso@example.com",
            "ticket": "RISK-7",
            "expires": "2027-03-31",
        },
    }
    assert first["evidence"]
    assert all({"path", "value"} == set(e) for e in first["evidence"])
    assert "AOAI-LOCAL-AUTH" not in {f["check_id"] for f in document["findings"]}
    assert document["high_count"] == 0
    # the indented document (what tutela scan prints) says the same, as orjson writes it
    indented = io.BytesIO()
    report.write(indented)
    assert indented.getvalue() == dumps(document, indent=True)
    assert report.json() == dumps(document, indent=False)


def test_a_report_without_accepted_pairs_is_as_before() -> None:
    _, plain = scan()
    _, expired = scan(accept("*"), on=EXPIRES)
    _, plain_then = scan(on=EXPIRES)
    assert "accepted" not in plain.header
    assert "checks_accepted" not in plain.header
    assert all("checks_accepted" not in s for s in plain.header["framework_scores"].values())
    assert expired.json() == plain_then.json()


def test_the_header_alone_carries_the_accepted_pairs() -> None:
    assessment = assessed(accept("*/keys-on"))
    header = report_header(assessment, scan_ts=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    assert [a["check_id"] for a in header["accepted"]] == ["AOAI-LOCAL-AUTH"]
    keys = list(header)
    assert keys.index("checks_accepted") == keys.index("checks_unknown") + 1
    assert keys.index("accepted") == keys.index("unknown") + 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"check_id": "NOT-A-CHECK"}, "unknown check id NOT-A-CHECK (see tutela checks list)"),
        ({"check_id": "x\x1b[31m"}, "unknown check id (not a check id) (see tutela checks list)"),
        ({"approver": "  "}, "approver is missing or empty"),
        ({"reason": ""}, "reason is missing or empty"),
        ({"resource": " "}, "resource is empty: give an ARM id or a glob over ids"),
        ({"approver": "a\nb"}, "approver must be text of at most 256 characters"),
        ({"expires": AS_OF}, "expires 2026-11-23 is not after today (2026-11-23)"),
        ({"expires": dt.date(2020, 1, 1)}, "expires 2020-01-01 is not after today"),
    ],
)
def test_check_acceptance_names_the_broken_rule_in_one_line(
    changes: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"check_id": "AOAI-LOCAL-AUTH", "resource": "*", **changes}
    acceptance = accept(**values)
    with pytest.raises(AcceptanceError) as raised:
        check_acceptance(acceptance, load_catalog(), AS_OF)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert "\x1b" not in str(raised.value)


def test_a_valid_acceptance_passes_its_rules() -> None:
    check_acceptance(accept("*", ticket=None), load_catalog(), AS_OF)
    check_acceptance(accept("*", expires=AS_OF + dt.timedelta(days=1)), load_catalog(), AS_OF)
