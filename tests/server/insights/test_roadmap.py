"""GET /report/{id}/roadmap: one action per failing check, by horizon, with its score gain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.platform import Platform, TenantCtx
from tests.server.insights.helpers import FRAMEWORKS, sample_document, stored
from tutela.scanner.catalog import load_catalog
from tutela.server.db import utcnow
from tutela.server.insights.access import InsightFinding
from tutela.server.insights.roadmap import RESOURCES_LISTED, failing_checks

HORIZON_OF = {
    "critical": "immediate",
    "high": "short_term",
    "medium": "strategic",
    "low": "strategic",
}
WEIGHT = {"critical": 10, "high": 5, "medium": 3, "low": 1}  # catalog/README.md, Scores
FACTOR = {"direct": 1.0, "supporting": 0.5, "by analogy": 0.5}
EFFORT = {"Low": 1, "Medium": 2, "High": 3}  # docs/insights.md, Roadmap
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
HORIZONS = ("immediate", "short_term", "strategic")


def roadmap(platform: Platform, tenant: TenantCtx, report_id: str) -> dict[str, Any]:
    response = platform.client.get(f"/report/{report_id}/roadmap", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def share(basis: list[dict[str, Any]], fixed: str | None = None) -> float:
    """The aggregate score, unrounded, by the documented rule; ``fixed``: that check passing."""
    passed = decided = 0.0
    for entry in basis:
        weight = WEIGHT[entry["severity"]] * max(FACTOR[s] for s in entry["frameworks"].values())
        ok, bad = entry["passed"], entry["failed"]
        if entry["check_id"] == fixed:
            ok, bad = ok + bad, 0
        passed += weight * ok
        decided += weight * (ok + bad)
    return 100 * passed / decided


def actions_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [action for horizon in HORIZONS for action in body["roadmap"][horizon]]


def test_one_action_per_failing_check_in_its_severitys_horizon(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    report_id = stored(platform, tenant, document=document)
    body = roadmap(platform, tenant, report_id)

    assert set(body) == {"report_id", "plan", "generated_at", "roadmap"}
    assert (body["report_id"], body["plan"]) == (report_id, "enterprise")
    assert set(body["roadmap"]) == {*HORIZONS, "summary_note", "aggregate_score"}
    assert body["roadmap"]["aggregate_score"] == document["aggregate_score"]

    findings = document["findings"]
    resources: dict[str, list[str]] = {}
    for finding in findings:
        seen = resources.setdefault(finding["check_id"], [])
        if finding["resource"] not in seen:
            seen.append(finding["resource"])
    actions = actions_of(body)
    assert sorted(a["check_id"] for a in actions) == sorted(resources)  # one per failing check
    catalog = load_catalog()
    for horizon in HORIZONS:
        for action in body["roadmap"][horizon]:
            check_id = action["check_id"]
            mine = [f for f in findings if f["check_id"] == check_id]
            spec = catalog.check(check_id)
            assert HORIZON_OF[spec.severity] == horizon, check_id
            assert action["severity"] == spec.severity
            assert (action["effort"], action["owner_role"]) == (spec.effort, spec.owner_role)
            assert action["azure_steps"] == spec.portal_steps
            assert action["remediation"] == spec.remediation
            assert action["resources"] == resources[check_id]
            assert action["resource_count"] == len(resources[check_id])
            assert action["finding_ref"] == f"{check_id}:{mine[0]['control_id']}"
            assert action["controls"] == list(dict.fromkeys(f["control_id"] for f in mine))
            frameworks = {f["framework"] for f in mine}
            assert action["frameworks"] == [fw for fw in FRAMEWORKS if fw in frameworks]
            assert action["framework"] in frameworks
            assert spec.title in action["action"]
    criticals = {f["check_id"] for f in findings if f["severity"] == "critical"}
    assert {a["check_id"] for a in body["roadmap"]["immediate"]} == criticals
    assert criticals  # the sample has critical findings: the horizon is exercised

    # ACR-ANON-PULL maps directly to DORA and only supports SR 26-2: DORA is its framework.
    registry = next(a for a in actions if a["check_id"] == "ACR-ANON-PULL")
    assert registry["framework"] == "dora"
    assert registry["frameworks"] == ["sr11_7", "dora"]
    assert registry["action"] == "Remediate on 1 resource: Container registry allows anonymous pull"


def test_score_gain_is_the_basis_rescored_with_the_checks_failures_passing(
    platform: Platform,
) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    body = roadmap(platform, tenant, stored(platform, tenant, document=document))
    basis = document["score_basis"]
    now = share(basis)
    assert round(now) == document["aggregate_score"]
    for action in actions_of(body):
        after = share(basis, fixed=action["check_id"])
        assert action["score_gain"] == round(after - now, 1), action["check_id"]
        assert action["score_after"] == round(after), action["check_id"]
    assert all(a["score_gain"] > 0 for a in actions_of(body))  # every fix raises the score
    best = min(actions_of(body), key=lambda a: (-a["score_gain"], a["check_id"]))
    note = body["roadmap"]["summary_note"]
    assert f"The biggest gain: {best['check_id']}" in note
    assert f"from {document['aggregate_score']} to {best['score_after']}" in note
    assert f"(+{best['score_gain']} points)" in note


def test_actions_are_ordered_by_gain_per_effort_then_check_id(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    body = roadmap(platform, tenant, stored(platform, tenant, document=document))
    basis = document["score_basis"]
    now = share(basis)
    for horizon in HORIZONS:
        listed = body["roadmap"][horizon]
        expected = sorted(
            listed,
            key=lambda a: (
                -(share(basis, fixed=a["check_id"]) - now) / EFFORT[a["effort"]],
                a["check_id"],
            ),
        )
        assert [a["check_id"] for a in listed] == [a["check_id"] for a in expected], horizon
    # Effort matters: somewhere a smaller gain at lower effort comes before a larger one.
    gains = [a["score_gain"] for h in HORIZONS for a in body["roadmap"][h]]
    strategic = body["roadmap"]["strategic"]
    assert any(
        earlier["score_gain"] < later["score_gain"] and earlier["effort"] == "Low"
        for at, earlier in enumerate(strategic)
        for later in strategic[at + 1 :]
    ), gains


def test_the_summary_counts_each_horizon(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    body = roadmap(platform, tenant, stored(platform, tenant))["roadmap"]
    counts = [len(body[h]) for h in HORIZONS]
    assert body["summary_note"].startswith(
        f"{sum(counts)} actions: {counts[0]} immediate (30 days, critical), "
        f"{counts[1]} short-term (60 days, high), {counts[2]} strategic (90 days, medium and low)."
    )


def test_a_report_without_score_basis_has_null_gains_and_says_so(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    del document["score_basis"]
    body = roadmap(platform, tenant, stored(platform, tenant, document=document))["roadmap"]
    actions = actions_of({"roadmap": body})
    assert actions
    assert all(a["score_gain"] is None and a["score_after"] is None for a in actions)
    assert "without a score basis, so score gains are not computed" in body["summary_note"]
    assert "biggest gain" not in body["summary_note"]
    for horizon in HORIZONS:  # severity, then effort, then check id
        listed = body[horizon]
        key = [(SEVERITY_RANK[a["severity"]], EFFORT[a["effort"]], a["check_id"]) for a in listed]
        assert key == sorted(key), horizon


def test_a_clean_report_has_nothing_to_remediate(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    document["findings"] = []
    body = roadmap(platform, tenant, stored(platform, tenant, document=document))["roadmap"]
    assert [body[h] for h in HORIZONS] == [[], [], []]
    assert body["summary_note"] == "No failing checks in this report: nothing to remediate."


def test_resources_are_capped_and_counted_from_batches() -> None:
    """50,000 failing resources of one check, in batches: the kept list stays capped."""
    total, batch = 50_000, 1_000

    def batches() -> Iterator[list[InsightFinding]]:
        for start in range(0, total, batch):
            yield [
                InsightFinding(
                    control_id=control,
                    framework="dora",
                    mapping="direct",
                    check_id="STG-HTTPS-ONLY",
                    resource=f"/subscriptions/s/storageAccounts/st{n:06d}",
                    severity="high",
                    title="t",
                )
                for n in range(start, start + batch)
                for control in ("DORA-A", "DORA-B")  # a resource's findings come together
            ]

    kept = failing_checks(batches())["STG-HTTPS-ONLY"]
    assert kept.resource_count == total
    assert len(kept.resources) == RESOURCES_LISTED
    assert kept.resources[-1].endswith(f"st{RESOURCES_LISTED - 1:06d}")
    assert list(kept.controls) == ["DORA-A", "DORA-B"]


def test_professional_is_refused_with_the_plan_named(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    report_id = stored(platform, tenant)
    response = platform.client.get(f"/report/{report_id}/roadmap", headers=tenant.headers)
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "'enterprise' plan" in detail
    assert "'professional'" in detail


@pytest.mark.parametrize("case", ["other tenant", "expired"])
def test_another_tenants_report_and_an_expired_one_are_not_found(
    platform: Platform, case: str
) -> None:
    owner, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    if case == "other tenant":
        report_id, asker = stored(platform, owner), other
    else:
        report_id = stored(platform, owner, scan_ts=utcnow() - dt.timedelta(days=400))
        asker = owner
    response = platform.client.get(f"/report/{report_id}/roadmap", headers=asker.headers)
    assert response.status_code == 404
    assert report_id in response.json()["detail"]
