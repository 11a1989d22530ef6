"""GET /report/{id}/scorecard: RAG per framework, top gaps, trajectory and narrative of a report."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from tests.platform import Platform, TenantCtx
from tests.server.chat_board import board_server, board_text
from tests.server.insights.helpers import (
    FRAMEWORKS,
    accepted_document,
    sample_document,
    stored,
)
from tutela.server.db import utcnow
from tutela.server.insights.scorecard import (
    AMBER_BELOW,
    RED_BELOW,
    TOP_GAPS,
    TREND_POINTS,
    rag_of,
    trajectory_of,
)
from tutela.server.reports.service import GOVERNANCE

_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def scorecard(platform: Platform, tenant: TenantCtx, report_id: str) -> dict[str, Any]:
    response = platform.client.get(f"/report/{report_id}/scorecard", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def scored(score: int | None, moment: dt.datetime) -> dict[str, Any]:
    """The sample report with its aggregate score (a listing column) set to ``score``."""
    document = sample_document(moment)
    document["aggregate_score"] = score
    return document


def test_the_scorecard_of_the_sample_report(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    report_id = stored(platform, tenant, document=document)
    body = scorecard(platform, tenant, report_id)

    assert set(body) == {"report_id", "plan", "generated_at", "generated_by", "scorecard"}
    assert (body["report_id"], body["plan"], body["generated_by"]) == (
        report_id,
        "enterprise",
        "deterministic",
    )
    card = body["scorecard"]
    assert set(card) == {
        "overall_rag",
        "overall_rag_reason",
        "framework_rag",
        "top_gaps",
        "trajectory",
        "trajectory_note",
        "board_narrative",
        "accepted_risks",
        "accepted_risks_note",
    }
    assert (card["accepted_risks"], card["accepted_risks_note"]) == (
        0,
        "No risk is accepted: every failing check counts.",
    )
    assert "accepted" not in card["board_narrative"]
    # Every framework of the sample has critical findings or a score far below 60.
    assert card["framework_rag"] == dict.fromkeys(FRAMEWORKS, "RED")
    assert card["overall_rag"] == "RED"
    assert f"{document['critical_count']} critical findings open" in card["overall_rag_reason"]
    assert f"{document['aggregate_score']}/100" in card["overall_rag_reason"]
    assert card["trajectory"] == "STABLE"
    assert "No earlier report to compare" in card["trajectory_note"]

    # The top gaps are the report's failing checks, most serious first, counted from the report.
    findings = document["findings"]
    resources: dict[str, set[str]] = {}
    for finding in findings:
        resources.setdefault(finding["check_id"], set()).add(finding["resource"])
    severity = {f["check_id"]: f["severity"] for f in findings}
    title = {f["check_id"]: f["title"] for f in findings}
    gaps = card["top_gaps"]
    assert len(gaps) == TOP_GAPS
    expected_order = sorted(
        resources, key=lambda c: (_SEVERITY_RANK[severity[c]], -len(resources[c]))
    )
    # The first gap is the worst check: critical, the most resources among the critical ones.
    first = expected_order[0]
    assert gaps[0]["gap"].startswith(f"{title[first]}: fails on {len(resources[first])} resource")
    assert gaps[0]["severity"] == "CRITICAL"
    ranks = [_SEVERITY_RANK[g["severity"].lower()] for g in gaps]
    assert ranks == sorted(ranks)
    criticals = {c for c in resources if severity[c] == "critical"}
    assert {g["gap"].split(":")[0] for g in gaps if g["severity"] == "CRITICAL"} == {
        title[c] for c in criticals
    }
    for gap in gaps:
        check = next(c for c in resources if gap["gap"].startswith(title[c] + ":"))
        count = len(resources[check])
        assert f"fails on {count} resource{'s' if count != 1 else ''}" in gap["gap"]
        assert "Remediate within" in gap["business_impact"]
    # ACR-ANON-PULL maps directly to DORA and supports SR 26-2 in the sample.
    registry = next(g for g in gaps if g["gap"].startswith("Container registry allows anonymous"))
    assert "An examiner applying DORA would record it" in registry["business_impact"]
    assert "It weakens the evidence for SR 26-2" in registry["business_impact"]
    assert "Images can be read by anyone without credentials." in registry["business_impact"]
    assert "Remediate within 30 days." in registry["business_impact"]

    narrative = card["board_narrative"]
    assert f"overall compliance score of {document['aggregate_score']}/100" in narrative
    assert f"{document['critical_count']} critical findings" in narrative
    assert gaps[0]["gap"] in narrative
    assert "Trajectory STABLE" in narrative


@pytest.mark.parametrize(
    ("score", "critical", "high", "rag"),
    [
        (100, 1, 0, "RED"),  # a critical finding is red whatever the score
        (RED_BELOW - 1, 0, 0, "RED"),
        (RED_BELOW, 0, 0, "AMBER"),
        (100, 0, 1, "AMBER"),  # a high finding is amber whatever the score
        (AMBER_BELOW - 1, 0, 0, "AMBER"),
        (AMBER_BELOW, 0, 0, "GREEN"),
        (100, 0, 0, "GREEN"),
        (None, 0, 0, "AMBER"),  # nothing decided: not evidenced, never green
        (None, 1, 0, "RED"),
    ],
)
def test_rag_boundaries(score: int | None, critical: int, high: int, rag: str) -> None:
    assert rag_of(score, critical, high)[0] == rag


def test_a_null_score_says_so() -> None:
    assert "no score" in rag_of(None, 0, 0)[1][0]


def test_the_scorecard_says_how_many_risks_are_accepted_and_leaves_them_out(
    platform: Platform,
) -> None:
    tenant = platform.tenant("enterprise")
    plain = scorecard(platform, tenant, stored(platform, tenant))["scorecard"]
    document = accepted_document()
    card = scorecard(platform, tenant, stored(platform, tenant, document=document))["scorecard"]

    assert card["accepted_risks"] == document["checks_accepted"] == 1
    said = (
        "1 failing check on a resource is accepted as a risk by an approved exception until it "
        "expires, and excluded from the score and the rating."
    )
    assert card["accepted_risks_note"] == said
    assert said in card["board_narrative"]
    # The accepted pair (the registry's anonymous pull) is no gap any more; it was one before.
    title = document["accepted"][0]["title"]
    assert any(gap["gap"].startswith(f"{title}:") for gap in plain["top_gaps"])
    assert not any(gap["gap"].startswith(f"{title}:") for gap in card["top_gaps"])


def test_a_clean_framework_is_green_through_the_api(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    document["findings"] = [f for f in document["findings"] if f["severity"] in ("medium", "low")]
    document["aggregate_score"] = AMBER_BELOW
    for name in FRAMEWORKS:
        document["framework_scores"][name]["score"] = AMBER_BELOW
    document["framework_scores"]["dora"]["score"] = AMBER_BELOW - 1
    document["framework_scores"]["sr11_7"]["score"] = None
    document["critical_count"] = document["high_count"] = 0
    card = scorecard(platform, tenant, stored(platform, tenant, document=document))["scorecard"]
    assert card["framework_rag"] == {"iso42001": "GREEN", "sr11_7": "AMBER", "dora": "AMBER"}
    assert card["overall_rag"] == "AMBER"
    reason = card["overall_rag_reason"]
    assert reason.startswith("AMBER: ")
    assert f"under DORA, a score of {AMBER_BELOW - 1}/100, below {AMBER_BELOW}" in reason
    assert "Model Risk Management (formerly SR 11-7), no score" in reason
    assert "ISO/IEC 42001" not in reason  # green: not a reason for amber
    assert {g["severity"] for g in card["top_gaps"]} <= {"MEDIUM", "LOW"}


@pytest.mark.parametrize(
    ("scores", "trajectory", "note"),
    [
        ([50, 55, 50 + TREND_POINTS], "IMPROVING", f"improved {TREND_POINTS} points"),
        ([70, 72, 70 - TREND_POINTS], "DECLINING", f"declined {TREND_POINTS} points"),
        ([70, 40, 70 + TREND_POINTS - 1], "STABLE", f"moved +{TREND_POINTS - 1} points"),
        # Only the last three count: 10 → 90 long ago does not make 88 → 86 → 88 a trend.
        ([10, 88, 86, 88], "STABLE", "(88 → 86 → 88)"),
    ],
)
def test_trajectory_from_the_tenants_report_history(
    platform: Platform, scores: list[int], trajectory: str, note: str
) -> None:
    tenant = platform.tenant("enterprise")
    start = utcnow() - dt.timedelta(days=30)
    ids = [
        stored(platform, tenant, scan_ts=start + dt.timedelta(days=i), document=scored(s, start))
        for i, s in enumerate(scores)
    ]
    card = scorecard(platform, tenant, ids[-1])["scorecard"]
    assert card["trajectory"] == trajectory
    assert note in card["trajectory_note"]
    assert f"Trajectory {trajectory}" in card["board_narrative"]


def test_trajectory_reads_only_reports_up_to_this_one_and_of_its_type(
    platform: Platform,
) -> None:
    tenant = platform.tenant("enterprise")
    start = utcnow() - dt.timedelta(days=10)

    def at(day: int, score: int | None, report_type: str = "manual") -> str:
        moment = start + dt.timedelta(days=day)
        return stored(
            platform,
            tenant,
            scan_ts=moment,
            document=scored(score, moment),
            report_type=report_type,
        )

    first = at(0, 50)
    at(1, None)  # no score: skipped
    at(2, 20, GOVERNANCE)  # another type: not compared
    middle = at(3, 60)
    at(4, 10)  # later than the report asked about: not read
    assert scorecard(platform, tenant, first)["scorecard"]["trajectory"] == "STABLE"
    card = scorecard(platform, tenant, middle)["scorecard"]
    assert card["trajectory"] == "IMPROVING"
    assert "(50 → 60)" in card["trajectory_note"]


def test_trajectory_rule_edge_cases() -> None:
    assert trajectory_of(None, [10, 20])[0] == "STABLE"
    assert trajectory_of(70, [])[1].startswith("No earlier report to compare")
    assert trajectory_of(70 + TREND_POINTS, [70])[0] == "IMPROVING"
    assert trajectory_of(70 - TREND_POINTS + 1, [70])[0] == "STABLE"


def test_professional_is_refused_with_the_plan_named(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    report_id = stored(platform, tenant)
    response = platform.client.get(f"/report/{report_id}/scorecard", headers=tenant.headers)
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "'enterprise' plan" in detail
    assert "'professional'" in detail


def test_another_tenants_report_and_an_expired_one_are_not_found(platform: Platform) -> None:
    owner, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    report_id = stored(platform, owner)
    response = platform.client.get(f"/report/{report_id}/scorecard", headers=other.headers)
    assert response.status_code == 404
    assert report_id in response.json()["detail"]
    old = stored(platform, owner, scan_ts=utcnow() - dt.timedelta(days=400))
    assert platform.client.get(f"/report/{old}/scorecard", headers=owner.headers).status_code == 404


# --- the board narrative from a model ----------------------------------------------------------

MODEL_KEY = "sk-board-test-0a1b2c3d"


def _model_settings(settings_factory: Any, url: str) -> Any:
    return settings_factory(
        llm_base_url=f"{url}/v1",
        llm_model="board-model",
        llm_api_key=MODEL_KEY,
        llm_timeout_seconds=0.5,
    )


def test_the_board_narrative_is_the_models_when_one_is_configured(
    settings_factory: Any,
) -> None:
    with board_server() as server, Platform(_model_settings(settings_factory, server.url)) as p:
        tenant = p.tenant("enterprise")
        document = sample_document()
        report_id = stored(p, tenant, document=document)
        body = scorecard(p, tenant, report_id)

        [request] = server.requests
        facts = json.loads(request["messages"][-1]["content"])["facts"]
        assert body["generated_by"] == "llm"
        assert body["scorecard"]["board_narrative"] == board_text(facts)
        # The model is told the scorecard's numbers ...
        assert facts["overall_score"] == document["aggregate_score"]
        assert facts["overall_rag"] == body["scorecard"]["overall_rag"]
        assert facts["open_findings"]["critical"] == document["critical_count"]
        assert facts["accepted_risks_excluded_from_score"] == 0
        assert [g["severity"].upper() for g in facts["top_gaps"]] == [
            g["severity"] for g in body["scorecard"]["top_gaps"]
        ]
        assert {f["rag"] for f in facts["frameworks"]} == set(
            body["scorecard"]["framework_rag"].values()
        )
        # ... and nothing that names the tenant's estate: resources, subscriptions, the report.
        sent = json.dumps(request)
        names = {f["resource_name"] for f in document["findings"]} | {report_id}
        names |= {  # resource groups
            f["resource"].split("/")[4]
            for f in document["findings"]
            if "/resourceGroups/" in f["resource"]
        }
        assert len(names) > 3
        assert not [name for name in names if name in sent]
        assert "/subscriptions/" not in sent
        headers = {name.lower(): value for name, value in server.headers[0].items()}
        assert headers["authorization"] == f"Bearer {MODEL_KEY}"


def test_no_database_connection_is_held_while_the_model_writes(settings_factory: Any) -> None:
    with board_server() as server, Platform(_model_settings(settings_factory, server.url)) as p:
        tenant = p.tenant("enterprise")
        report_id = stored(p, tenant, document=sample_document())
        server.watch = p.runtime.engine.pool.checkedout
        body = scorecard(p, tenant, report_id)
    assert body["generated_by"] == "llm"
    assert server.seen == [0]  # the read transaction ended before the model was asked


@pytest.mark.parametrize("mode", ["error", "slow", "garbage", "long"])
def test_a_failing_model_gives_the_deterministic_board_narrative(
    settings_factory: Any, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    with board_server(mode) as server, Platform(_model_settings(settings_factory, server.url)) as p:
        tenant = p.tenant("enterprise")
        document = sample_document()
        report_id = stored(p, tenant, document=document)
        body = scorecard(p, tenant, report_id)  # 200, never a 500
        returned = time.monotonic()
        assert server.requests  # the model was asked, once (no retries)
        assert len(server.requests) == 1
    assert body["generated_by"] == "deterministic"
    narrative = body["scorecard"]["board_narrative"]
    assert f"overall compliance score of {document['aggregate_score']}/100" in narrative
    assert "MODEL:" not in narrative
    if mode == "slow":  # the timeout (0.5 s) ended the wait, not the model's answer (2 s)
        assert server.answered_at is None or returned < server.answered_at
    assert any("board_narrative_fallback" in r.getMessage() for r in caplog.records)
    assert MODEL_KEY not in caplog.text
