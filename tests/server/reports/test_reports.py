"""Saved reports: listing, reading, ids, deletion, diffs, tenant isolation, sealing, history."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.platform import Platform, TenantCtx
from tests.server.scans.estates import (
    ANONYMOUS_REGISTRY,
    CLUSTER_WITHOUT_RBAC,
    DEV,
    clean_records,
    link_sample_snapshot,
    listed,
    offline_report,
    sample_records,
    scan,
    upload_snapshot,
)
from tutela.scanner.engine.diff import finding_key
from tutela.server.audit.models import AuditEvent
from tutela.server.db import utcnow
from tutela.server.reports.models import Report
from tutela.server.reports.service import GOVERNANCE, MANUAL, purge_expired, store_report
from tutela.server.tenants.models import Tenant

FRAMEWORKS = ["iso42001", "sr11_7"]
# What the sample's dev subscription names; none of it may be readable at rest.
SECRETS = (ANONYMOUS_REGISTRY, CLUSTER_WITHOUT_RBAC, "rg-ml-dev-weu", "ACR-ANON-PULL", DEV)


def a_document(scan_ts: dt.datetime | None = None) -> dict[str, Any]:
    """A report document as a scan makes it (no id yet)."""
    return offline_report(sample_records(DEV), FRAMEWORKS, scan_ts or utcnow())


def store(
    platform: Platform,
    tenant: TenantCtx,
    scan_ts: dt.datetime,
    *,
    report_type: str = MANUAL,
    label: str | None = None,
    document: dict[str, Any] | None = None,
) -> str:
    """A report stored directly, made at ``scan_ts`` (a scan's document by default); its id."""
    with platform.db() as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        report = store_report(
            session,
            platform.document_key(),
            row,
            dict(document) if document is not None else a_document(scan_ts),
            report_type=report_type,
            label=label,
            scan_ts=scan_ts,
        )
        return report.report_id


def report_id_at(moment: dt.datetime) -> str:
    return moment.strftime("COMP-%Y%m%d-%H%M%S")


def get(platform: Platform, tenant: TenantCtx, report_id: str) -> httpx.Response:
    response: httpx.Response = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
    return response


def diff(platform: Platform, tenant: TenantCtx, report_a: str, report_b: str) -> httpx.Response:
    response: httpx.Response = platform.client.post(
        "/reports/diff", headers=tenant.headers, json={"report_a": report_a, "report_b": report_b}
    )
    return response


def row_of(platform: Platform, tenant: TenantCtx, report_id: str) -> Report | None:
    with platform.db() as session:
        return session.scalars(
            select(Report).where(Report.tenant_id == tenant.id, Report.report_id == report_id)
        ).one_or_none()


def audit_events(platform: Platform, tenant: TenantCtx, action: str) -> list[AuditEvent]:
    with platform.db() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.tenant_id == tenant.id, AuditEvent.action == action)
                .order_by(AuditEvent.created_at)
            )
        )


def minutes_ago(minutes: int) -> dt.datetime:
    return utcnow().replace(microsecond=0) - dt.timedelta(minutes=minutes)


# --- GET /reports -------------------------------------------------------------------------------


def test_a_listed_scan_ts_reads_as_the_reports_own(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    moment = minutes_ago(1).replace(microsecond=654321)
    report_id = store(platform, tenant, moment)
    [item] = listed(platform, tenant)
    body = platform.client.get(f"/report/{report_id}", headers=tenant.headers).json()
    assert item["scan_ts"] == body["scan_ts"] == f"{moment:%Y-%m-%dT%H:%M:%S}Z"


def test_reports_are_listed_newest_first_and_filtered_by_type(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    kinds = [MANUAL, GOVERNANCE, MANUAL, MANUAL, GOVERNANCE]
    moments = [minutes_ago(10 * (i + 1)) for i in range(len(kinds))]
    stored = [  # stored in another order than they were made; stored[0] is the newest
        store(platform, tenant, moments[i], report_type=kinds[i], label=f"r{i}")
        for i in (3, 0, 4, 1, 2)
    ]
    stored = [report_id_at(moment) for moment in moments]

    items = listed(platform, tenant)
    assert [item["report_id"] for item in items] == stored
    assert [item["type"] for item in items] == kinds
    assert [item["label"] for item in items] == [f"r{i}" for i in range(5)]
    # As in the reports themselves: UTC, to the second.
    assert [item["scan_ts"] for item in items] == [
        f"{m.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}Z" for m in moments
    ]
    newest = items[0]
    document = a_document()
    for field in ("frameworks", "aggregate_score", "critical_count", "high_count"):
        assert newest[field] == document[field], field

    manual = listed(platform, tenant, type="manual")
    assert [item["report_id"] for item in manual] == [stored[0], stored[2], stored[3]]
    governance = listed(platform, tenant, type="governance")
    assert [item["report_id"] for item in governance] == [stored[1], stored[4]]
    bad = platform.client.get("/reports", headers=tenant.headers, params={"type": "scheduled"})
    assert bad.status_code == 422


def test_reports_are_paged_with_limit_and_cursor(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    stored = [store(platform, tenant, minutes_ago(i + 1)) for i in range(5)]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = platform.client.get("/reports", headers=tenant.headers, params=params).json()
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["report_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == stored
    assert pages == 3

    filtered = platform.client.get(
        "/reports", headers=tenant.headers, params={"limit": 1, "type": "manual"}
    ).json()
    assert [item["report_id"] for item in filtered["items"]] == stored[:1]
    assert filtered["next_cursor"]
    bad = platform.client.get("/reports", headers=tenant.headers, params={"cursor": "garbage!"})
    assert bad.status_code == 422


def test_the_default_page_is_50(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    with platform.db() as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        document = a_document()
        for i in range(51):
            moment = minutes_ago(i + 1)
            store_report(
                session,
                platform.document_key(),
                row,
                dict(document),
                report_type=MANUAL,
                label=None,
                scan_ts=moment,
            )
    page = platform.client.get("/reports", headers=tenant.headers).json()
    assert len(page["items"]) == 50
    assert page["next_cursor"]
    rest = platform.client.get(
        "/reports", headers=tenant.headers, params={"cursor": page["next_cursor"]}
    ).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


# --- GET /report/{id}, report ids ---------------------------------------------------------------


def test_a_saved_report_is_returned_as_the_scan_returned_it(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    report = scan(platform, tenant, scan_label="build-9")

    response = get(platform, tenant, report["report_id"])

    assert response.status_code == 200
    assert response.json() == report


def test_unknown_and_malformed_report_ids(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    missing = get(platform, tenant, "COMP-20200101-000000")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Report COMP-20200101-000000 not found"
    assert get(platform, tenant, "not-a-report-id").status_code == 422


def test_reports_of_the_same_second_take_a_suffix(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("starter")
    moment = minutes_ago(5)
    ids = [store(platform, tenant, moment) for _ in range(12)]
    second = report_id_at(moment)
    assert ids == [second] + [f"{second}-{n}" for n in range(2, 13)]
    for report_id in (ids[0], ids[1], ids[-1]):
        response = get(platform, tenant, report_id)
        assert response.status_code == 200
        assert response.json()["report_id"] == report_id
    # Another tenant's first report of that second has the plain id: ids are per tenant.
    assert store(platform, platform.tenant("starter"), moment) == second


def test_the_id_names_the_second_of_its_scan_even_at_midnight(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("starter")
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    last_second = midnight - dt.timedelta(seconds=1)
    at_midnight = store(platform, tenant, midnight)
    ids = [store(platform, tenant, last_second) for _ in range(3)]
    assert at_midnight == report_id_at(midnight)
    assert ids == [report_id_at(last_second)] + [f"{report_id_at(last_second)}-{n}" for n in (2, 3)]
    assert len({item["report_id"] for item in listed(platform, tenant)}) == 4


def test_suffixed_ids_are_accepted_wherever_ids_are_read(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    moment = minutes_ago(3)
    first, second = store(platform, tenant, moment), store(platform, tenant, moment)
    assert second == f"{first}-2"
    assert diff(platform, tenant, first, second).status_code == 200
    link = platform.client.get(
        "/reports/diff", headers=tenant.headers, params={"report_a": first, "report_b": second}
    )
    assert link.status_code == 200
    deleted = platform.client.request(
        "DELETE", "/reports", headers=tenant.headers, json={"report_id": second}
    )
    assert deleted.status_code == 200, deleted.text
    governance = platform.client.request(
        "DELETE", "/governance/history", headers=tenant.headers, json={"report_id": second}
    )
    assert governance.status_code == 404  # well-formed, and not a governance report
    for malformed in (f"{first}-1", f"{first}-0", f"{first}-", f"{first}-x", f"{first}-02"):
        assert get(platform, tenant, malformed).status_code == 422, malformed


def test_two_scans_in_a_row_get_distinct_ids(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    first, second = scan(platform, tenant), scan(platform, tenant)
    assert first["report_id"] != second["report_id"]
    assert second["report_id"] > first["report_id"]
    for report in (first, second):
        assert get(platform, tenant, report["report_id"]).json() == report


# --- DELETE -------------------------------------------------------------------------------------


def test_delete_one_report(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    keep, gone = store(platform, tenant, minutes_ago(2)), store(platform, tenant, minutes_ago(1))

    response = platform.client.delete(f"/report/{gone}", headers=tenant.headers)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "deleted": 1, "report_id": gone}
    assert get(platform, tenant, gone).status_code == 404
    assert [item["report_id"] for item in listed(platform, tenant)] == [keep]
    again = platform.client.delete(f"/report/{gone}", headers=tenant.headers)
    assert again.status_code == 404
    [event] = audit_events(platform, tenant, "report.deleted")
    assert event.target == gone
    assert event.details == {"type": "manual"}
    assert tenant.owner_key not in event.actor


def test_delete_all_manual_reports_keeps_governance_ones(platform: Platform) -> None:
    tenant = platform.tenant("professional")
    manual = [store(platform, tenant, minutes_ago(i + 1)) for i in range(3)]
    governance = store(platform, tenant, minutes_ago(30), report_type=GOVERNANCE)

    response = platform.client.delete("/reports", headers=tenant.headers)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "deleted": 3}
    assert [item["report_id"] for item in listed(platform, tenant)] == [governance]
    assert get(platform, tenant, governance).status_code == 200
    for report_id in manual:
        assert get(platform, tenant, report_id).status_code == 404
    [event] = audit_events(platform, tenant, "reports.manual_deleted")
    assert event.details == {"deleted": 3, "report_ids": sorted(manual)}

    again = platform.client.delete("/reports", headers=tenant.headers)
    assert again.json() == {"status": "ok", "deleted": 0}
    assert get(platform, tenant, governance).status_code == 200


def test_a_member_may_read_but_not_delete(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    report_id = store(platform, tenant, minutes_ago(1))
    _, member_key = platform.user(tenant, "member")
    member = {"X-API-Key": member_key}
    assert platform.client.get(f"/report/{report_id}", headers=member).status_code == 200
    for path in (f"/report/{report_id}", "/reports"):
        response = platform.client.delete(path, headers=member)
        assert response.status_code == 403, path
    assert get(platform, tenant, report_id).status_code == 200


# --- POST /reports/diff -------------------------------------------------------------------------


def test_diff_after_fixing_the_critical_misconfigurations(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    every = ["iso42001", "sr11_7", "eu_ai_act", "nist_ai_rmf", "mas_trm", "dora", "sox"]
    before = scan(platform, tenant, every)
    upload_snapshot(platform, tenant, DEV, clean_records(sample_records(DEV)))
    after = scan(platform, tenant, every)
    assert after["critical_count"] == 0 < before["critical_count"]

    response = diff(platform, tenant, before["report_id"], after["report_id"])

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["report_a"] == before["report_id"]
    assert result["report_b"] == after["report_id"]
    assert result["score_delta"] == after["aggregate_score"] - before["aggregate_score"]
    assert result["score_delta"] > 0
    resolved = {(f["check_id"], f["resource_name"]) for f in result["resolved"]}
    assert ("ACR-ANON-PULL", ANONYMOUS_REGISTRY) in resolved
    assert ("AKS-RBAC", CLUSTER_WITHOUT_RBAC) in resolved
    assert {f["severity"] for f in result["resolved"]} >= {"critical"}
    assert result["unchanged"]
    keys_before = {finding_key(f) for f in before["findings"]}
    keys_after = {finding_key(f) for f in after["findings"]}
    assert {finding_key(f) for f in result["resolved"]} == keys_before - keys_after
    assert {finding_key(f) for f in result["new_findings"]} == keys_after - keys_before
    assert {finding_key(f) for f in result["unchanged"]} == keys_before & keys_after

    backwards = diff(platform, tenant, after["report_id"], before["report_id"]).json()
    assert backwards["score_delta"] == -result["score_delta"]
    assert {finding_key(f) for f in backwards["new_findings"]} == keys_before - keys_after


def test_diff_with_a_missing_report_is_404(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    report_id = store(platform, tenant, minutes_ago(1))
    missing = "COMP-20200101-000000"
    for pair in ((report_id, missing), (missing, report_id)):
        response = diff(platform, tenant, *pair)
        assert response.status_code == 404
        assert response.json()["detail"] == f"Report {missing} not found"
    assert diff(platform, tenant, report_id, "nope").status_code == 422


# --- tenant isolation ---------------------------------------------------------------------------


def test_another_tenants_report_is_404_everywhere(platform: Platform) -> None:
    owner, other = platform.tenant("starter"), platform.tenant("starter")
    theirs = store(platform, owner, minutes_ago(2))
    mine = store(platform, other, minutes_ago(3))
    assert theirs != mine
    not_found = {"detail": f"Report {theirs} not found"}

    read = get(platform, other, theirs)
    assert (read.status_code, read.json()) == (404, not_found)
    deleted = platform.client.delete(f"/report/{theirs}", headers=other.headers)
    assert (deleted.status_code, deleted.json()) == (404, not_found)
    compared = diff(platform, other, mine, theirs)
    assert (compared.status_code, compared.json()) == (404, not_found)
    assert ANONYMOUS_REGISTRY not in read.text + deleted.text + compared.text
    cleared = platform.client.delete("/reports", headers=other.headers)
    assert cleared.json() == {"status": "ok", "deleted": 1}  # only its own

    assert [item["report_id"] for item in listed(platform, other)] == []
    assert [item["report_id"] for item in listed(platform, owner)] == [theirs]
    assert get(platform, owner, theirs).status_code == 200


# --- sealed at rest -----------------------------------------------------------------------------


def test_the_stored_report_is_sealed(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    report = scan(platform, tenant, scan_label="sealed")
    row = row_of(platform, tenant, report["report_id"])
    assert row is not None
    assert row.key_mode == "pmk"
    for blob in (row.body, row.wrapped_key):
        for secret in (*SECRETS, report["report_id"], tenant.id):
            assert secret.encode() not in blob, secret
    # Only the listing columns are in clear.
    assert (row.label, row.critical_count) == ("sealed", report["critical_count"])


def flip_byte(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


@pytest.mark.parametrize("column", ["body", "wrapped_key"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_tampered_report_is_500_and_shows_nothing(
    platform: Platform, column: str, where: str
) -> None:
    tenant = platform.tenant("starter")
    link_sample_snapshot(platform, tenant)
    report_id = scan(platform, tenant)["report_id"]
    other_id = store(platform, tenant, minutes_ago(60))
    with platform.db() as session:
        row = session.scalars(
            select(Report).where(Report.tenant_id == tenant.id, Report.report_id == report_id)
        ).one()
        blob: bytes = getattr(row, column)
        index = {"first": 0, "middle": len(blob) // 2, "last": len(blob) - 1}[where]
        setattr(row, column, flip_byte(blob, index))

    response = get(platform, tenant, report_id)

    assert response.status_code == 500
    message = response.json()["detail"]
    assert message.startswith(f"Report {report_id} cannot be decrypted: ")
    assert "integrity check" in message
    for secret in SECRETS:
        assert secret not in response.text
    assert "Traceback" not in response.text
    compared = diff(platform, tenant, other_id, report_id)
    assert compared.status_code == 500
    assert compared.json()["detail"] == message
    # The listing (clear columns) and the other reports are unaffected.
    assert {item["report_id"] for item in listed(platform, tenant)} == {report_id, other_id}
    assert get(platform, tenant, other_id).status_code == 200


def test_a_report_moved_to_another_tenants_row_does_not_open(platform: Platform) -> None:
    a, b = platform.tenant("starter"), platform.tenant("starter")
    moment = minutes_ago(1)
    report_id = store(platform, a, moment, label="a's")
    assert store(platform, b, moment, label="b's") == report_id  # same id, two tenants
    with platform.db() as session:
        rows = {
            row.tenant_id: row
            for row in session.scalars(select(Report).where(Report.report_id == report_id))
        }
        rows[b.id].body, rows[b.id].wrapped_key = rows[a.id].body, rows[a.id].wrapped_key

    response = get(platform, b, report_id)

    assert response.status_code == 500
    assert response.json()["detail"].startswith(f"Report {report_id} cannot be decrypted: ")
    assert ANONYMOUS_REGISTRY not in response.text
    assert get(platform, a, report_id).status_code == 200


def test_a_body_moved_to_another_report_id_does_not_open(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    first, second = store(platform, tenant, minutes_ago(2)), store(platform, tenant, minutes_ago(1))
    with platform.db() as session:
        rows = {
            row.report_id: row
            for row in session.scalars(select(Report).where(Report.tenant_id == tenant.id))
        }
        rows[second].body, rows[second].wrapped_key = rows[first].body, rows[first].wrapped_key
    assert get(platform, tenant, second).status_code == 500
    assert get(platform, tenant, first).status_code == 200


# --- the plan's history window ------------------------------------------------------------------


def set_created_at(
    platform: Platform, tenant: TenantCtx, report_id: str, when: dt.datetime
) -> None:
    with platform.db() as session:
        row = session.scalars(
            select(Report).where(Report.tenant_id == tenant.id, Report.report_id == report_id)
        ).one()
        row.created_at = when


def test_reports_past_the_history_window_are_hidden_then_purged(platform: Platform) -> None:
    tenant = platform.tenant("starter")  # 30 days of history
    now = utcnow()
    old = store(platform, tenant, now - dt.timedelta(days=31))
    recent = store(platform, tenant, now - dt.timedelta(days=29))
    newest = store(platform, tenant, now - dt.timedelta(minutes=1))
    other = platform.tenant("starter")
    others = store(platform, other, now - dt.timedelta(days=2))

    assert [item["report_id"] for item in listed(platform, tenant)] == [newest, recent]
    assert get(platform, tenant, old).status_code == 404
    assert get(platform, tenant, old).json() == {"detail": f"Report {old} not found"}
    assert diff(platform, tenant, old, newest).status_code == 404
    assert get(platform, tenant, recent).status_code == 200

    with platform.db() as session:
        purged = purge_expired(session, platform.runtime.catalog, utcnow())

    assert purged == {tenant.id: 1}
    assert row_of(platform, tenant, old) is None
    assert row_of(platform, tenant, recent) is not None
    assert row_of(platform, tenant, newest) is not None
    assert row_of(platform, other, others) is not None
    [event] = audit_events(platform, tenant, "reports.purged")
    assert event.actor == "retention"
    assert event.details == {"deleted": 1, "history_days": 30}
    assert audit_events(platform, other, "reports.purged") == []
    with platform.db() as session:  # nothing left to purge
        assert purge_expired(session, platform.runtime.catalog, utcnow()) == {}


def test_a_wider_plan_shows_older_reports_again(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    old = store(platform, tenant, minutes_ago(1), label="old")
    set_created_at(platform, tenant, old, utcnow() - dt.timedelta(days=45))
    assert get(platform, tenant, old).status_code == 404
    assert listed(platform, tenant) == []
    operator = {"X-API-Key": platform.operator_key()}

    def change_plan(plan: str) -> None:
        response = platform.client.put(
            f"/admin/tenants/{tenant.id}/plan", headers=operator, json={"plan": plan}
        )
        assert response.status_code == 200, response.text

    change_plan("professional")  # 90 days of history

    assert get(platform, tenant, old).status_code == 200
    assert [item["report_id"] for item in listed(platform, tenant)] == [old]
    with platform.db() as session:
        assert purge_expired(session, platform.runtime.catalog, utcnow()) == {}
    assert row_of(platform, tenant, old) is not None

    change_plan("starter")

    assert get(platform, tenant, old).status_code == 404
    with platform.db() as session:
        assert purge_expired(session, platform.runtime.catalog, utcnow()) == {tenant.id: 1}
    assert row_of(platform, tenant, old) is None


def test_report_ids_match_the_seed_format(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    report_id = store(platform, tenant, dt.datetime(2026, 5, 19, 14, 30, 22, 999, tzinfo=dt.UTC))
    assert report_id == "COMP-20260519-143022"
    assert re.fullmatch(r"COMP-\d{8}-\d{6}", report_id)


SMALL_DOCUMENT: dict[str, Any] = {
    "frameworks": ["sox"],
    "critical_count": 0,
    "high_count": 0,
    "medium_count": 0,
    "low_count": 0,
    "findings": [],
}


def test_a_minute_of_reports_in_one_second_is_never_refused(platform: Platform) -> None:
    """Ids used to name the next free second, and a busy tenant got 429 after a minute."""
    tenant = platform.tenant("enterprise")
    moment = dt.datetime(2026, 11, 23, 9, 0, 0, tzinfo=dt.UTC)
    ids = [store(platform, tenant, moment, document=SMALL_DOCUMENT) for _ in range(70)]
    assert len(set(ids)) == 70
    assert all(report_id.startswith("COMP-20261123-090000") for report_id in ids)


def test_a_report_with_unresolved_values_is_stored_and_served(platform: Platform) -> None:
    """Values a source could not resolve are written as "<unknown>", in storage as in responses."""
    from tutela.scanner.estate import UNKNOWN

    tenant = platform.tenant("enterprise")
    unresolved = {"evidence": [{"path": "properties.x", "value": {"nested": UNKNOWN}}]}
    report_id = store(
        platform, tenant, utcnow(), document={**SMALL_DOCUMENT, "unknown": [unresolved]}
    )
    served = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
    assert served.status_code == 200
    assert served.json()["unknown"][0]["evidence"][0]["value"] == {"nested": "<unknown>"}
