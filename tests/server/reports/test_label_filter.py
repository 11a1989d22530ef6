"""GET /reports?label=: the reports whose label contains the text, ignoring case."""

from __future__ import annotations

import pytest

from tests.platform import Platform
from tests.server.reports.test_reports import minutes_ago, store
from tests.server.scans.estates import listed
from tutela.server.reports.service import GOVERNANCE, MANUAL


def test_the_label_filter_matches_a_substring_in_any_case(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    labels = ["Nightly PROD scan", "prod-weu", "staging", None, "reproduction"]
    ids = [
        store(platform, tenant, minutes_ago(i + 1), label=label) for i, label in enumerate(labels)
    ]

    assert [item["report_id"] for item in listed(platform, tenant, label="prod")] == [
        ids[0],
        ids[1],
        ids[4],
    ]
    assert [item["label"] for item in listed(platform, tenant, label="PROD-W")] == ["prod-weu"]
    assert listed(platform, tenant, label="absent") == []


def test_the_label_filter_combines_with_type_and_pages_with_the_cursor(
    platform: Platform,
) -> None:
    tenant = platform.tenant("starter")
    kinds = [MANUAL, GOVERNANCE, MANUAL, MANUAL, MANUAL]
    ids = [
        store(platform, tenant, minutes_ago(i + 1), report_type=kind, label=f"weekly {i}")
        for i, kind in enumerate(kinds)
    ]
    store(platform, tenant, minutes_ago(30), label="monthly")

    first = platform.client.get(
        "/reports",
        headers=tenant.headers,
        params={"label": "WEEKLY", "type": MANUAL, "limit": 2},
    ).json()
    second = platform.client.get(
        "/reports",
        headers=tenant.headers,
        params={"label": "WEEKLY", "type": MANUAL, "limit": 2, "cursor": first["next_cursor"]},
    ).json()

    assert [item["report_id"] for item in first["items"] + second["items"]] == [
        ids[0],
        ids[2],
        ids[3],
        ids[4],
    ]
    assert second["next_cursor"] is None


def test_like_wildcards_in_a_label_are_plain_characters(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    store(platform, tenant, minutes_ago(1), label="100% coverage")
    store(platform, tenant, minutes_ago(2), label="100 percent_x")

    assert [item["label"] for item in listed(platform, tenant, label="0%")] == ["100% coverage"]
    assert [item["label"] for item in listed(platform, tenant, label="t_")] == ["100 percent_x"]
    assert [item["label"] for item in listed(platform, tenant, label="_")] == ["100 percent_x"]


def test_the_label_filter_reads_only_the_callers_tenant(platform: Platform) -> None:
    mine, theirs = platform.tenant("starter"), platform.tenant("starter")
    store(platform, theirs, minutes_ago(1), label="prod")
    own = store(platform, mine, minutes_ago(2), label="prod")

    assert [item["report_id"] for item in listed(platform, mine, label="prod")] == [own]


@pytest.mark.parametrize("label", ["", "x" * 201])
def test_an_empty_or_overlong_label_is_a_422(platform: Platform, label: str) -> None:
    tenant = platform.tenant("starter")
    response = platform.client.get("/reports", headers=tenant.headers, params={"label": label})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "label"]
