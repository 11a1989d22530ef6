"""The audit log records stored scans, failed sign-ins (throttled by source) and new sources."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.platform import Platform, TenantCtx, auth
from tests.server.scans.estates import link_sample_snapshot, scan
from tutela.server.audit.models import AuditEvent
from tutela.server.audit.signins import SignInAudit
from tutela.server.auth.tokens import generate_key


def events(platform: Platform, action: str) -> list[AuditEvent]:
    with platform.db() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.created_at, AuditEvent.id)
            )
        )


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def with_clock(platform: Platform) -> Clock:
    clock = Clock()
    platform.runtime.__dict__["sign_ins"] = SignInAudit(platform.runtime.sessions, clock)
    return clock


def client_from(platform: Platform, address: str) -> TestClient:
    return TestClient(platform.app, raise_server_exceptions=False, client=(address, 50000))


# --- scans ----------------------------------------------------------------------------------


def test_each_stored_scan_is_audited_and_a_dry_run_is_not(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    report = scan(platform, tenant, frameworks=["sox"])
    dry = platform.client.post(
        "/scan/dry-run", headers=tenant.headers, json={"frameworks": ["sox"]}
    )
    assert dry.status_code == 200

    [event] = events(platform, "scan.stored")
    assert (event.tenant_id, event.target) == (tenant.id, report["report_id"])
    assert event.actor.endswith(f"(key {tenant.owner_key[:12]}…)")
    assert event.details == {
        "type": "manual",
        "source": report["source"],
        "frameworks": ["sox"],
        "resources_scanned": report["resources_scanned"],
    }


# --- failed sign-ins ------------------------------------------------------------------------


def test_failed_sign_ins_are_one_entry_per_source_per_minute_counting_the_rest(
    platform: Platform,
) -> None:
    clock = with_clock(platform)
    attacker = client_from(platform, "203.0.113.7")
    other = client_from(platform, "198.51.100.9")

    def fail(client: TestClient, key: str = "tut_not-a-key") -> None:
        assert client.get("/tenant/me", headers=auth(key)).status_code == 401

    fail(attacker)
    for _ in range(50):  # a flood within the same second
        fail(attacker, generate_key())
    [entry] = events(platform, "auth.failed")
    assert entry.details["failures"] == 1  # counted in memory; written at most every 5 s
    clock.advance(6)
    fail(attacker)
    fail(other)
    first, from_other = events(platform, "auth.failed")
    assert first.id == entry.id
    assert first.details == {
        "source": "203.0.113.7",
        "reason": "malformed",
        "key_prefix": None,
        "failures": 52,
        "window_seconds": 60,
    }
    assert first.actor == "unauthenticated (203.0.113.7)"
    assert first.tenant_id is None
    assert from_other.details["source"] == "198.51.100.9"

    fail(attacker)  # the 53rd: counted, not yet written
    clock.advance(60)  # the next minute: its first failure opens a new entry, closing the last
    fail(attacker, generate_key())
    entries = [e for e in events(platform, "auth.failed") if e.details["source"] == "203.0.113.7"]
    assert [e.details["failures"] for e in entries] == [53, 1]
    assert entries[1].details["reason"] == "unknown_key"


def test_a_revoked_or_expired_key_names_its_tenant_and_key(platform: Platform) -> None:
    with_clock(platform)
    tenant = platform.tenant("starter")
    revoked_key = platform.key(tenant, ["tenant:read"])
    key_id = platform.key_id(revoked_key)
    revoked = platform.client.delete(f"/api-keys/{key_id}", headers=tenant.headers)
    assert revoked.status_code in (200, 204), revoked.text
    expired_key = platform.key(tenant, ["tenant:read"])
    platform.expire(expired_key)

    assert (
        client_from(platform, "192.0.2.1").get("/tenant/me", headers=auth(revoked_key)).status_code
        == 401
    )
    assert (
        client_from(platform, "192.0.2.2").get("/tenant/me", headers=auth(expired_key)).status_code
        == 401
    )

    by_reason: dict[str, Any] = {e.details["reason"]: e for e in events(platform, "auth.failed")}
    assert set(by_reason) == {"revoked", "expired"}
    assert by_reason["revoked"].tenant_id == tenant.id
    assert by_reason["revoked"].target == f"key:{key_id}"
    assert by_reason["revoked"].details["key_prefix"] == revoked_key[:12]
    assert by_reason["expired"].details["source"] == "192.0.2.2"
    for event in by_reason.values():
        assert revoked_key not in str(event.details)
        assert expired_key not in str(event.details)


# --- key use from a new source --------------------------------------------------------------


def test_a_keys_first_use_from_each_address_is_audited_once(platform: Platform) -> None:
    tenant: TenantCtx = platform.tenant("starter")
    office, home = client_from(platform, "192.0.2.10"), client_from(platform, "2001:db8::1")
    for client in (office, office, home, office, home):
        assert client.get("/tenant/me", headers=tenant.headers).status_code == 200

    new_sources = [e for e in events(platform, "key.new_source") if e.tenant_id == tenant.id]
    assert [e.details["source"] for e in new_sources] == ["192.0.2.10", "2001:db8::1"]
    owner_key_id = platform.key_id(tenant.owner_key)
    assert {e.target for e in new_sources} == {f"key:{owner_key_id}"}
    assert all(e.details["key_prefix"] == tenant.owner_key[:12] for e in new_sources)

    # Another API process (its memory empty) knows the addresses from the database.
    platform.runtime.__dict__["sign_ins"] = SignInAudit(platform.runtime.sessions)
    assert office.get("/tenant/me", headers=tenant.headers).status_code == 200
    assert len([e for e in events(platform, "key.new_source") if e.tenant_id == tenant.id]) == 2
