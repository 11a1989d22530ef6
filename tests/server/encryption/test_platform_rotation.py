"""Rotating the platform key: every ``pmk`` data key re-wrapped under a new version (no body
re-encrypted), resumable when interrupted, the old version kept until no row names it and then
erased; CMK rows untouched; the census of rows per key; and, on PostgreSQL, a rotation waits for
a transaction still sealing under the old version."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.platform import Platform, TenantCtx
from tests.server.encryption.fake_vault import VAULT_URL, FakeVault
from tests.server.encryption.helpers import cmk_tenant, with_encryption_routes
from tests.server.scans.estates import DEV, export, link, offline_report, sample_records
from tutela.server.crypto import DecryptionError
from tutela.server.db import utcnow
from tutela.server.encryption.models import PlatformKey
from tutela.server.encryption.platform_keys import ORIGINAL, RETIRED, RETIRING
from tutela.server.encryption.rotation import Rotation, census, rotate, unopenable
from tutela.server.idempotency.models import IdempotencyRecord
from tutela.server.reports.envelope import context
from tutela.server.reports.models import Report, Snapshot
from tutela.server.reports.service import MANUAL, store_report
from tutela.server.runtime import Runtime
from tutela.server.tenants.models import Tenant

IAC = (
    Path(__file__).parents[2] / "scanner" / "sources" / "fixtures" / "arm_ai_landing_zone.json"
).read_bytes()


class Interrupted(Exception):
    """Stands for the operator's Ctrl-C between two batches."""


def scan(platform: Platform, tenant: TenantCtx, key: str | None = None) -> dict[str, Any]:
    headers = {**tenant.headers, "content-type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    response = platform.client.post("/scan/iac", headers=headers, content=IAC)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def upload(platform: Platform, tenant: TenantCtx) -> None:
    link(platform, tenant, DEV)
    response = platform.client.put(
        f"/tenant/subscriptions/{DEV}/snapshot",
        headers=tenant.headers,
        json=export(sample_records(DEV)),
    )
    assert response.status_code == 200, response.text


def read(platform: Platform, tenant: TenantCtx, report_id: str) -> dict[str, Any]:
    response = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sealed_rows(platform: Platform) -> dict[str, tuple[str | None, str | None, bytes, bytes]]:
    """Every sealed row: (mode, key ref, wrapped key, body) by table and primary key."""
    rows: dict[str, tuple[str | None, str | None, bytes, bytes]] = {}
    with platform.db() as session:
        for report in session.scalars(select(Report)):
            rows[f"report {report.tenant_id}/{report.report_id}"] = (
                report.key_mode,
                report.key_ref,
                report.wrapped_key,
                report.body,
            )
        for snapshot in session.scalars(select(Snapshot)):
            rows[f"snapshot {snapshot.tenant_id}/{snapshot.subscription_id}"] = (
                snapshot.key_mode,
                snapshot.key_ref,
                snapshot.wrapped_key,
                snapshot.body,
            )
        for answer in session.scalars(
            select(IdempotencyRecord).where(IdempotencyRecord.wrapped_key.is_not(None))
        ):
            assert answer.wrapped_key is not None
            assert answer.body is not None
            rows[f"answer {answer.owner}/{answer.key}"] = (
                answer.key_mode,
                answer.key_ref,
                answer.wrapped_key,
                answer.body,
            )
    return rows


def versions(platform: Platform) -> dict[str, tuple[str, bool]]:
    """Each version of the platform key: (state, whether its material is stored)."""
    with platform.db() as session:
        return {
            row.id: (row.state, row.sealed_key is not None)
            for row in session.scalars(select(PlatformKey))
        }


def no_wait(seconds: float) -> None:
    assert seconds <= 0.5, f"the rotation would have waited {seconds} s"


def run(platform: Platform, **options: Any) -> Rotation:
    return rotate(platform.runtime, grace_seconds=0, sleep=no_wait, **options)


@pytest.fixture
def estate(platform: Platform) -> tuple[TenantCtx, list[dict[str, Any]]]:
    """A tenant on the platform key with three reports (one kept for an Idempotency-Key) and a
    snapshot."""
    tenant = platform.tenant()
    upload(platform, tenant)
    reports = [
        scan(platform, tenant),
        scan(platform, tenant, key="retry-1"),
        scan(platform, tenant),
    ]
    return tenant, reports


def test_a_rotation_rewraps_every_data_key_and_re_encrypts_no_body(
    platform: Platform, estate: tuple[TenantCtx, list[dict[str, Any]]]
) -> None:
    tenant, reports = estate
    before = sealed_rows(platform)
    assert {ref for _, ref, _, _ in before.values()} == {None}  # all under the original version
    assert len(before) == 5

    rotation = run(platform)

    assert rotation.started
    new_ref = f"pmk:{rotation.key_id}"
    after = sealed_rows(platform)
    assert after.keys() == before.keys()
    for name, (mode, ref, wrapped, body) in after.items():
        assert (mode, ref) == ("pmk", new_ref), name
        assert wrapped != before[name][2], f"{name}: its data key was not re-wrapped"
        assert body == before[name][3], f"{name}: its body was re-encrypted"
    assert rotation.rewrapped == {"reports": 3, "snapshots": 1, "kept answers": 1}
    assert (rotation.retired, rotation.kept, rotation.unreadable) == ([ORIGINAL], [], {})
    assert versions(platform) == {ORIGINAL: (RETIRED, False), rotation.key_id: ("current", True)}
    # Everything reads as before, the kept answer replays, and new documents take the new version.
    for report in reports:
        assert read(platform, tenant, report["report_id"]) == report
    replay = platform.client.post(
        "/scan/iac",
        headers={
            **tenant.headers,
            "content-type": "application/json",
            "Idempotency-Key": "retry-1",
        },
        content=IAC,
    )
    assert replay.headers.get("Idempotency-Replayed") == "true"
    assert replay.json() == reports[1]
    newer = scan(platform, tenant)
    assert sealed_rows(platform)[f"report {tenant.id}/{newer['report_id']}"][1] == new_ref
    assert platform.client.get(f"/tenant/subscriptions/{DEV}/snapshot", headers=tenant.headers)


def test_each_rotation_makes_a_new_version_and_retires_the_last(
    platform: Platform, estate: tuple[TenantCtx, list[dict[str, Any]]]
) -> None:
    tenant, reports = estate
    first = run(platform)
    second = run(platform)

    assert second.started
    assert second.key_id != first.key_id
    assert second.retired == [first.key_id]
    assert versions(platform) == {
        ORIGINAL: (RETIRED, False),
        first.key_id: (RETIRED, False),
        second.key_id: ("current", True),
    }
    assert read(platform, tenant, reports[0]["report_id"]) == reports[0]


def test_an_interrupted_rotation_keeps_its_batches_and_the_next_run_resumes_it(
    platform: Platform, estate: tuple[TenantCtx, list[dict[str, Any]]]
) -> None:
    tenant, reports = estate
    seen: list[tuple[str, int, int]] = []

    def stop_after_the_first_batch(table: str, done: int, total: int) -> None:
        seen.append((table, done, total))
        raise Interrupted

    with pytest.raises(Interrupted):
        run(platform, batch_size=1, progress=stop_after_the_first_batch)

    assert seen == [("reports", 1, 3)]
    [new] = [key for key, (state, _) in versions(platform).items() if state == "current"]
    refs = sorted(str(ref) for _, ref, _, _ in sealed_rows(platform).values())
    assert refs == sorted([f"pmk:{new}"] + ["None"] * 4)
    assert versions(platform)[ORIGINAL] == (RETIRING, False)  # kept: rows still name it
    # Halfway, both versions open their rows.
    for report in reports:
        assert read(platform, tenant, report["report_id"]) == report

    resumed = run(platform, batch_size=2)

    assert (resumed.started, resumed.key_id) == (False, new)
    assert resumed.rewrapped == {"reports": 2, "snapshots": 1, "kept answers": 1}
    assert resumed.retired == [ORIGINAL]
    assert {ref for _, ref, _, _ in sealed_rows(platform).values()} == {f"pmk:{new}"}
    for report in reports:
        assert read(platform, tenant, report["report_id"]) == report


def test_a_row_its_key_does_not_open_keeps_the_old_version(
    platform: Platform, estate: tuple[TenantCtx, list[dict[str, Any]]]
) -> None:
    tenant, reports = estate
    damaged = reports[0]["report_id"]
    with platform.db() as session:
        row = session.scalars(select(Report).where(Report.report_id == damaged)).one()
        row.wrapped_key = row.wrapped_key[:-1] + bytes([row.wrapped_key[-1] ^ 1])

    rotation = run(platform)

    assert rotation.unreadable == {"reports": [row.id]}
    assert (rotation.retired, rotation.kept) == ([], [ORIGINAL])
    assert versions(platform)[ORIGINAL] == (RETIRING, False)
    assert unopenable(platform.runtime) == {"reports": [row.id]}
    # The others moved on and read; a run once the row is dealt with retires the version.
    assert read(platform, tenant, reports[1]["report_id"]) == reports[1]
    with platform.db() as session:
        session.execute(update(Report).where(Report.report_id == damaged).values(key_mode="gone"))
    assert run(platform).retired == [ORIGINAL]


def test_cmk_rows_are_left_as_they_are(platform: Platform, vault: FakeVault) -> None:
    customer = cmk_tenant(platform)
    cmk_report = scan(platform, customer)
    on_platform = platform.tenant()
    scan(platform, on_platform)
    before = sealed_rows(platform)

    rotation = run(platform)

    after = sealed_rows(platform)
    cmk_row = f"report {customer.id}/{cmk_report['report_id']}"
    assert after[cmk_row] == before[cmk_row]
    assert after[cmk_row][0] == "cmk"
    assert rotation.rewrapped == {"reports": 1, "snapshots": 0, "kept answers": 0}
    assert read(platform, customer, cmk_report["report_id"]) == cmk_report


def test_the_census_counts_rows_per_mode_and_key(
    platform: Platform, vault: FakeVault, estate: tuple[TenantCtx, list[dict[str, Any]]]
) -> None:
    customer = cmk_tenant(platform)
    scan(platform, customer)
    with platform.db() as session:
        before = census(session)
    assert [(c.mode, c.key, c.state, c.rows) for c in before.keys] == [
        ("pmk", ORIGINAL, "current", {"reports": 3, "snapshots": 1, "kept answers": 1}),
        (
            "cmk",
            f"{VAULT_URL}secrets/tutela-key/{vault.secrets['tutela-key'][-1].version}",
            "customer",
            {"reports": 1, "snapshots": 0, "kept answers": 0},
        ),
    ]

    rotation = run(platform)

    with platform.db() as session:
        after = census(session)
    assert [(c.key, c.state, c.rows["reports"]) for c in after.keys if c.mode == "pmk"] == [
        (rotation.key_id, "current", 3),
        (ORIGINAL, RETIRED, 0),
    ]
    assert [version.id for version in after.versions] == [ORIGINAL, rotation.key_id]


def test_another_process_opens_the_new_version_and_seals_with_it(
    platform: Platform, estate: tuple[TenantCtx, list[dict[str, Any]]]
) -> None:
    """A server started before the rotation learns the new version from the database: it
    opens re-wrapped rows and seals new ones under it, with no restart."""
    tenant, reports = estate
    with Platform(platform.settings) as server:
        with_encryption_routes(server)
        assert read(server, tenant, reports[0]["report_id"]) == reports[0]  # before

        rotation = run(platform)

        assert read(server, tenant, reports[2]["report_id"]) == reports[2]
        newer = scan(server, tenant)
        assert (
            sealed_rows(server)[f"report {tenant.id}/{newer['report_id']}"][1]
            == f"pmk:{rotation.key_id}"
        )


def test_the_old_version_is_kept_for_the_grace_and_a_last_sweep_takes_late_rows(
    platform: Platform, estate: tuple[TenantCtx, list[dict[str, Any]]]
) -> None:
    """An answer sealed under the old version just before the switch but written after the
    first sweep is re-wrapped by the sweep that follows the grace."""
    tenant, reports = estate
    original = platform.document_key()
    waited: list[float] = []

    def late_answer(seconds: float) -> None:
        waited.append(seconds)
        with platform.db() as session:
            row = session.scalars(
                select(Report).where(Report.report_id == reports[0]["report_id"])
            ).one()
            bound = context("report", row.tenant_id, row.report_id)
            data_key = platform.runtime.platform_keys.opening(session, row.key_ref).unwrap(
                row.wrapped_key, bound
            )
            row.wrapped_key, row.key_ref = original.wrap(data_key, bound), original.key_ref

    rotation = rotate(platform.runtime, grace_seconds=60, sleep=late_answer)

    [waited_for] = waited
    assert 59 < waited_for <= 60
    assert rotation.retired == [ORIGINAL]
    assert rotation.rewrapped["reports"] == 4  # three, and the late one again
    assert read(platform, tenant, reports[0]["report_id"]) == reports[0]


def test_a_retired_version_opens_nothing(
    platform: Platform, estate: tuple[TenantCtx, list[dict[str, Any]]]
) -> None:
    first = run(platform)
    with platform.db() as session:
        stale = session.scalars(select(Report).limit(1)).one()
        stale_ref, stale_key = stale.key_ref, stale.wrapped_key
    run(platform)
    with platform.db() as session:  # as a restore of one row from a backup would leave it
        session.execute(
            update(Report)
            .where(Report.id == stale.id)
            .values(key_ref=stale_ref, wrapped_key=stale_key)
        )
    fresh = Runtime.start(platform.settings)  # a process that never held the old version
    try:
        assert unopenable(fresh) == {"reports": [stale.id]}
        with fresh.sessions() as session:
            with pytest.raises(Exception, match=f"platform key {first.key_id} is retired"):
                fresh.platform_keys.opening(session, stale_ref)
            census_rows = {c.key: c for c in census(session).keys}
        assert census_rows[first.key_id].state == RETIRED
        assert census_rows[first.key_id].rows["reports"] == 1
        assert not census_rows[first.key_id].readable
    finally:
        fresh.close()


def test_a_wrapped_key_under_a_version_does_not_open_under_another(platform: Platform) -> None:
    original = platform.document_key()
    rotation = run(platform)
    new = platform.document_key()
    assert (original.key_ref, new.key_ref) == (None, f"pmk:{rotation.key_id}")
    with pytest.raises(DecryptionError):
        new.unwrap(original.wrap(b"k" * 32, b"ctx"), b"ctx")


@pytest.fixture
def pg_platform(settings_factory: Any, own_postgres_url: str) -> Iterator[Platform]:
    with Platform(settings_factory(database_url=own_postgres_url)) as running:
        yield with_encryption_routes(running)


def test_on_postgresql_the_switch_waits_for_a_transaction_sealing_under_the_old_version(
    pg_platform: Platform,
) -> None:
    platform = pg_platform
    tenant = platform.tenant()
    ring = platform.runtime.platform_keys
    outcome: list[Rotation] = []
    with platform.db() as sealer:
        wrapper = ring.sealing(sealer)  # holds the original version's share lock
        assert wrapper.key_ref is None
        rotating = threading.Thread(target=lambda: outcome.append(run(platform)))
        rotating.start()
        time.sleep(0.5)
        assert rotating.is_alive(), "the rotation switched while a transaction still sealed"
        assert versions(platform)[ORIGINAL] == ("current", False)
        # The transaction stores its report under the old version, then commits.
        owner = sealer.get(Tenant, tenant.id)
        assert owner is not None
        late = store_report(
            sealer,
            wrapper,
            owner,
            offline_report(sample_records(DEV), ["dora"], utcnow()),
            report_type=MANUAL,
            label=None,
            scan_ts=utcnow(),
        )
        late_id = late.report_id
    rotating.join(timeout=30)
    [rotation] = outcome
    assert rotation.retired == [ORIGINAL]
    assert rotation.rewrapped["reports"] == 1
    assert sealed_rows(platform)[f"report {tenant.id}/{late_id}"][1] == f"pmk:{rotation.key_id}"
    assert read(platform, tenant, late_id)["report_id"] == late_id
