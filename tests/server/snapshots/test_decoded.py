"""A snapshot is parsed once per stored body and tenant; it is still opened and checked on every
read, and a replaced, deleted or moved body is never answered from what was parsed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.platform import Platform
from tests.server.snapshots.test_snapshots import account, export, link, snapshot_row, upload
from tutela.scanner.estate import Resource
from tutela.server.reports.models import Snapshot
from tutela.server.snapshots import service
from tutela.server.snapshots.decoded import DecodedSnapshots
from tutela.server.snapshots.service import SnapshotUnreadable, snapshot_resources


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source names of every snapshot parsed into resources."""
    seen: list[str] = []
    parse = service.resources_from_arg

    def counted(document: Any, source: str) -> list[Resource]:
        seen.append(source)
        return parse(document, source)

    monkeypatch.setattr(service, "resources_from_arg", counted)
    return seen


def names(platform: Platform, tenant_id: str, subscription_id: str) -> set[str]:
    with platform.db() as session:
        resources = snapshot_resources(
            session, tenant_id, subscription_id, platform.runtime.keyring
        )
    assert resources is not None
    return {resource.name for resource in resources if not resource.implied}


def test_a_snapshot_is_parsed_once_until_it_is_replaced(
    platform: Platform, parses: list[str]
) -> None:
    subscription_id = str(uuid.uuid4())
    tenant = platform.tenant()
    link(platform, tenant, subscription_id)
    upload(platform, tenant, subscription_id, export(account(subscription_id, "stfirst")))
    parses.clear()  # (an upload is parsed to be checked)
    assert names(platform, tenant.id, subscription_id) == {"stfirst"}
    assert names(platform, tenant.id, subscription_id) == {"stfirst"}
    assert len(parses) == 1

    upload(platform, tenant, subscription_id, export(account(subscription_id, "stsecond")))
    parses.clear()
    assert names(platform, tenant.id, subscription_id) == {"stsecond"}
    assert len(parses) == 1

    # Another tenant with the same export parses its own: nothing is shared across tenants.
    other = platform.tenant()
    link(platform, other, subscription_id)
    upload(platform, other, subscription_id, export(account(subscription_id, "stsecond")))
    parses.clear()
    assert names(platform, other.id, subscription_id) == {"stsecond"}
    assert names(platform, tenant.id, subscription_id) == {"stsecond"}
    assert len(parses) == 1

    deleted = platform.client.delete(
        f"/tenant/subscriptions/{subscription_id}/snapshot", headers=tenant.headers
    )
    assert deleted.status_code == 200, deleted.text
    with platform.db() as session:
        assert (
            snapshot_resources(session, tenant.id, subscription_id, platform.runtime.keyring)
            is None
        )


def test_a_parsed_snapshot_is_still_opened_and_checked(platform: Platform) -> None:
    subscription_id = str(uuid.uuid4())
    a, b = platform.tenant(), platform.tenant()
    for tenant in (a, b):
        link(platform, tenant, subscription_id)
        upload(platform, tenant, subscription_id, export(account(subscription_id)))
        names(platform, tenant.id, subscription_id)  # parsed and kept
    stolen = snapshot_row(platform, a.id, subscription_id)
    with platform.db() as session:  # a's body and key in b's row: bound to a, it does not open
        target = session.get(Snapshot, (b.id, subscription_id))
        assert target is not None
        target.wrapped_key, target.body = stolen.wrapped_key, stolen.body
    with platform.db() as session, pytest.raises(SnapshotUnreadable):
        snapshot_resources(session, b.id, subscription_id, platform.runtime.keyring)

    with platform.db() as session:  # a's own body, tampered with: refused, parsed or not
        row = session.get(Snapshot, (a.id, subscription_id))
        assert row is not None
        row.body = row.body[:-1] + bytes([row.body[-1] ^ 1])
    with platform.db() as session, pytest.raises(SnapshotUnreadable):
        snapshot_resources(session, a.id, subscription_id, platform.runtime.keyring)


def test_the_kept_resources_are_bounded() -> None:
    def resources(count: int) -> list[Resource]:
        return [Resource(id=f"/r/{i}", type="t", name=f"r{i}") for i in range(count)]

    kept = DecodedSnapshots(max_resources=10)
    kept.put("tenant-a", "sub", b"k1", resources(6))
    kept.put("tenant-b", "sub", b"k2", resources(4))
    assert kept.get("tenant-a", "sub", b"k1") is not None
    kept.put("tenant-c", "sub", b"k3", resources(3))  # over 10: the least recently used goes
    assert kept.get("tenant-b", "sub", b"k2") is None
    assert kept.get("tenant-a", "sub", b"k1") is not None
    assert kept.get("tenant-a", "sub", b"k9") is None  # another body: not this one
    assert kept.get("tenant-b", "sub", b"k1") is None  # another tenant: never
    kept.put("tenant-a", "sub", b"k4", resources(2))  # a new body replaces the old one
    assert kept.get("tenant-a", "sub", b"k1") is None
    kept.put("tenant-d", "sub", b"k5", resources(11))  # larger than the bound: not kept
    assert kept.get("tenant-d", "sub", b"k5") is None
