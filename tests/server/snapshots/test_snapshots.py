"""Subscription snapshots: upload, metadata, sealing, validation, limits and the demo tenant."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.platform import Platform, TenantCtx, auth
from tutela.scanner.samples import load_sample_estate
from tutela.server.admin import service as admin
from tutela.server.audit.models import AuditEvent
from tutela.server.auth.tokens import display_prefix
from tutela.server.config import Settings, load_settings
from tutela.server.reports.models import Snapshot
from tutela.server.snapshots.service import SnapshotUnreadable, snapshot_resources
from tutela.server.tenants.models import Tenant

SettingsFactory = Callable[..., Settings]

SECRET_NAME = "stcbkconfidentialpayroll"


def account(subscription_id: str, name: str = SECRET_NAME) -> dict[str, Any]:
    """A Resource Graph row of a storage account."""
    return {
        "id": f"/subscriptions/{subscription_id}/resourceGroups/rg-data/providers/"
        f"Microsoft.Storage/storageAccounts/{name}",
        "name": name,
        "type": "microsoft.storage/storageaccounts",
        "subscriptionId": subscription_id,
        "resourceGroup": "rg-data",
        "location": "westeurope",
        "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False},
    }


def export(*records: dict[str, Any]) -> dict[str, Any]:
    """As ``az graph query -o json`` prints it."""
    return {"count": len(records), "data": list(records), "skip_token": None}


def url(subscription_id: str) -> str:
    return f"/tenant/subscriptions/{subscription_id}/snapshot"


def link(platform: Platform, tenant: TenantCtx, *subscription_ids: str) -> None:
    response = platform.client.put(
        "/tenant/subscriptions",
        headers=tenant.headers,
        json={"subscription_ids": list(subscription_ids)},
    )
    assert response.status_code == 200, response.text


def linked_tenant(platform: Platform) -> tuple[TenantCtx, str]:
    tenant, subscription_id = platform.tenant("starter"), str(uuid.uuid4())
    link(platform, tenant, subscription_id)
    return tenant, subscription_id


def upload(
    platform: Platform, tenant: TenantCtx, subscription_id: str, body: object
) -> httpx.Response:
    response: httpx.Response = platform.client.put(
        url(subscription_id), headers=tenant.headers, json=body
    )
    return response


def message(response: httpx.Response) -> str:
    detail = response.json()["detail"]
    return str(detail[0]["msg"]) if isinstance(detail, list) else str(detail)


def snapshot_row(platform: Platform, tenant_id: str, subscription_id: str) -> Snapshot:
    with platform.db() as session:
        row = session.get(Snapshot, (tenant_id, subscription_id))
        assert row is not None
        return row


def audit_events(platform: Platform, tenant_id: str, action: str) -> list[AuditEvent]:
    with platform.db() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.tenant_id == tenant_id, AuditEvent.action == action)
                .order_by(AuditEvent.created_at)
            )
        )


# --- upload, metadata, replace, delete ----------------------------------------------------------


def test_upload_then_metadata(any_platform: Platform) -> None:
    platform = any_platform
    tenant, subscription_id = linked_tenant(platform)
    body = export(account(subscription_id), account(subscription_id, "stcbkother"))

    response = upload(platform, tenant, subscription_id, body)
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["subscription_id"] == subscription_id
    assert stored["resources"] == 2  # two accounts; the subscription they imply is not counted
    assert stored["size_bytes"] == len(response.request.content)
    assert stored["uploaded_at"]

    shown = platform.client.get(url(subscription_id), headers=tenant.headers)
    assert shown.status_code == 200
    assert shown.json() == stored
    assert SECRET_NAME not in shown.text


def test_upload_accepts_a_plain_list_and_any_content_type(platform: Platform) -> None:
    """``curl --data-binary @export.json`` sends a form content type unless told otherwise."""
    tenant, subscription_id = linked_tenant(platform)
    response = platform.client.put(
        url(subscription_id.upper()),
        headers={**tenant.headers, "content-type": "application/x-www-form-urlencoded"},
        content=json.dumps([account(subscription_id)]).encode(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["subscription_id"] == subscription_id
    assert response.json()["resources"] == 1


def test_records_without_a_subscription_are_accepted(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    definition = {
        "id": "/providers/Microsoft.Authorization/roleDefinitions/b24988ac",
        "name": "b24988ac",
        "type": "microsoft.authorization/roledefinitions",
        "properties": {"roleName": "Contributor"},
    }
    response = upload(
        platform, tenant, subscription_id, export(account(subscription_id), definition)
    )
    assert response.status_code == 200, response.text


def test_a_new_upload_replaces_the_snapshot(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    first = upload(platform, tenant, subscription_id, export(account(subscription_id)))
    assert first.json()["resources"] == 1
    second = upload(
        platform,
        tenant,
        subscription_id,
        export(*(account(subscription_id, f"st{i}") for i in range(4))),
    )
    assert second.status_code == 200
    assert second.json()["resources"] == 4
    assert platform.client.get(url(subscription_id), headers=tenant.headers).json() == (
        second.json()
    )
    with platform.db() as session:
        rows = session.scalar(
            select(func.count()).select_from(Snapshot).where(Snapshot.tenant_id == tenant.id)
        )
        assert rows == 1
        resources = snapshot_resources(
            session, tenant.id, subscription_id, platform.runtime.keyring
        )
    assert resources is not None
    assert sorted(r.name for r in resources if r.type.startswith("microsoft.storage")) == [
        f"st{i}" for i in range(4)
    ]
    replaced = [
        e.details["replaced"] for e in audit_events(platform, tenant.id, "snapshot.uploaded")
    ]
    assert replaced == [False, True]


def test_delete_then_gone(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    upload(platform, tenant, subscription_id, export(account(subscription_id)))

    deleted = platform.client.delete(url(subscription_id), headers=tenant.headers)
    assert deleted.status_code == 200
    assert deleted.json() == {"status": "ok"}
    assert platform.client.get(url(subscription_id), headers=tenant.headers).status_code == 404
    again = platform.client.delete(url(subscription_id), headers=tenant.headers)
    assert again.status_code == 404
    assert audit_events(platform, tenant.id, "snapshot.deleted")


def test_metadata_of_a_subscription_without_snapshot_is_404(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    response = platform.client.get(url(subscription_id), headers=tenant.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == f"No snapshot stored for subscription {subscription_id}"


# --- sealed at rest -----------------------------------------------------------------------------


def test_the_stored_body_is_sealed(any_platform: Platform) -> None:
    platform = any_platform
    tenant, subscription_id = linked_tenant(platform)
    response = upload(platform, tenant, subscription_id, export(account(subscription_id)))

    row = snapshot_row(platform, tenant.id, subscription_id)
    assert row.key_mode == "pmk"
    for blob in (row.body, row.wrapped_key):
        assert SECRET_NAME.encode() not in blob
        assert b"storageAccounts" not in blob
    assert (row.resources, row.size_bytes) == (1, len(response.request.content))


def test_a_body_moved_to_another_tenants_row_does_not_open(platform: Platform) -> None:
    subscription_id = str(uuid.uuid4())
    a, b = platform.tenant(), platform.tenant()
    for tenant, name in ((a, SECRET_NAME), (b, "stbenign")):
        link(platform, tenant, subscription_id)
        response = upload(platform, tenant, subscription_id, export(account(subscription_id, name)))
        assert response.status_code == 200
    stolen = snapshot_row(platform, a.id, subscription_id)
    with platform.db() as session:
        target = session.get(Snapshot, (b.id, subscription_id))
        assert target is not None
        target.wrapped_key, target.body = stolen.wrapped_key, stolen.body

    keys = platform.runtime.keyring
    with platform.db() as session, pytest.raises(SnapshotUnreadable) as raised:
        snapshot_resources(session, b.id, subscription_id, keys)
    assert raised.value.status_code == 500
    detail = str(raised.value.detail)
    assert detail.startswith(f"Snapshot for subscription {subscription_id} cannot be decrypted: ")
    assert SECRET_NAME not in detail
    with platform.db() as session:  # the owner's copy still opens
        resources = snapshot_resources(session, a.id, subscription_id, keys)
    assert resources is not None
    assert SECRET_NAME in {r.name for r in resources}


# --- snapshot_resources, for scans --------------------------------------------------------------


def test_snapshot_resources_reads_the_export_back(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    keys = platform.runtime.keyring
    with platform.db() as session:
        assert snapshot_resources(session, tenant.id, subscription_id, keys) is None
    upload(platform, tenant, subscription_id, export(account(subscription_id)))

    with platform.db() as session:
        resources = snapshot_resources(session, tenant.id, subscription_id.upper(), keys)
    assert resources is not None
    by_type = {r.type: r for r in resources}
    storage = by_type["microsoft.storage/storageaccounts"]
    assert storage.name == SECRET_NAME
    assert storage.subscription_id == subscription_id
    assert storage.properties["minimumTlsVersion"] == "TLS1_2"
    assert by_type["microsoft.resources/subscriptions"].id == f"/subscriptions/{subscription_id}"


def test_snapshot_resources_is_tenant_scoped(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    upload(platform, tenant, subscription_id, export(account(subscription_id)))
    other = platform.tenant()
    with platform.db() as session:
        found = snapshot_resources(session, other.id, subscription_id, platform.runtime.keyring)
    assert found is None


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"resources": []}, "none of the keys data, value"),
        ({"data": {"id": "x"}}, '"data" is an object, not a list of records'),
        ([{"name": "no-id"}], 'has no "id"'),
        ({"data": [], "skip_token": "abc"}, "this is one page"),
        ("a string", "the top level is a string"),
    ],
)
def test_not_a_resource_graph_export_is_422_naming_the_problem(
    platform: Platform, body: object, expected: str
) -> None:
    tenant, subscription_id = linked_tenant(platform)
    response = upload(platform, tenant, subscription_id, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert message(response).startswith("Not a usable Resource Graph export: ")
    assert expected in message(response)
    assert platform.client.get(url(subscription_id), headers=tenant.headers).status_code == 404


@pytest.mark.parametrize(
    ("content", "expected"), [(b"{not json", "not valid JSON"), (b"", "empty")]
)
def test_a_body_that_is_not_json_is_422(platform: Platform, content: bytes, expected: str) -> None:
    tenant, subscription_id = linked_tenant(platform)
    response = platform.client.put(
        url(subscription_id),
        headers={**tenant.headers, "content-type": "application/json"},
        content=content,
    )
    assert response.status_code == 422
    assert expected in message(response)
    assert "Resource Graph export" in message(response)


def test_records_of_other_subscriptions_are_422_saying_how_many(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    other = str(uuid.uuid4())
    body = export(account(subscription_id), account(other, "st1"), account(other, "st2"))
    response = upload(platform, tenant, subscription_id, body)
    assert response.status_code == 422
    text = message(response)
    assert "2 records of 1 other subscription" in text
    assert other in text
    assert SECRET_NAME not in text
    assert platform.client.get(url(subscription_id), headers=tenant.headers).status_code == 404


def test_a_made_up_subscription_in_an_id_is_counted_not_echoed(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    forged = account(subscription_id)
    forged["id"] = forged["id"].replace(subscription_id, "<script>alert(1)</script>")
    del forged["subscriptionId"]
    response = upload(platform, tenant, subscription_id, export(account(subscription_id), forged))
    assert response.status_code == 422
    assert "1 record of 1 other subscription (…)" in message(response)
    assert "<script>" not in response.text


def test_records_of_another_subscription_by_id_alone_are_refused(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    foreign = account(str(uuid.uuid4()))
    del foreign["subscriptionId"]
    response = upload(platform, tenant, subscription_id, export(account(subscription_id), foreign))
    assert response.status_code == 422
    assert "1 record of 1 other subscription" in message(response)


def test_an_unlinked_subscription_is_404(platform: Platform) -> None:
    tenant, _ = linked_tenant(platform)
    unlinked = str(uuid.uuid4())
    response = upload(platform, tenant, unlinked, export(account(unlinked)))
    assert response.status_code == 404
    assert response.json()["detail"].startswith(f"Subscription {unlinked} is not linked")


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_the_subscription_must_be_a_uuid(platform: Platform, method: str) -> None:
    tenant, _ = linked_tenant(platform)
    response = platform.client.request(
        method, url("not-a-uuid"), headers=tenant.headers, json=export()
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "subscription_id"]


# --- size limits --------------------------------------------------------------------------------


def test_an_export_over_the_upload_limit_is_413(settings_factory: SettingsFactory) -> None:
    with Platform(settings_factory(max_upload_bytes=4096)) as platform:
        tenant, subscription_id = linked_tenant(platform)
        body = export(*(account(subscription_id, f"st{i}") for i in range(40)))
        response = upload(platform, tenant, subscription_id, body)
        assert len(response.request.content) > 4096
        assert response.status_code == 413
        assert "4096" in response.json()["detail"]
        assert platform.client.get(url(subscription_id), headers=tenant.headers).status_code == 404


def test_a_streamed_export_over_the_upload_limit_is_413(settings_factory: SettingsFactory) -> None:
    with Platform(settings_factory(max_upload_bytes=4096)) as platform:
        tenant, subscription_id = linked_tenant(platform)
        body = json.dumps(export(*(account(subscription_id, f"st{i}") for i in range(40))))

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(body), 1024):
                yield body[start : start + 1024].encode()

        response = platform.client.put(
            url(subscription_id), headers=tenant.headers, content=chunks()
        )
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert "4096" in response.json()["detail"]
        assert platform.client.get(url(subscription_id), headers=tenant.headers).status_code == 404


def test_the_upload_limit_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTELA_MAX_UPLOAD_BYTES", "10485760")
    assert load_settings().max_upload_bytes == 10 * 1_048_576
    monkeypatch.delenv("TUTELA_MAX_UPLOAD_BYTES")
    assert load_settings().max_upload_bytes == 50 * 1_048_576


def test_uploads_have_their_own_limit_above_the_default(settings_factory: SettingsFactory) -> None:
    settings = settings_factory(max_body_bytes=2048, max_upload_bytes=1_048_576)
    with Platform(settings) as platform:
        tenant, subscription_id = linked_tenant(platform)
        body = export(*(account(subscription_id, f"st{i}") for i in range(40)))
        response = upload(platform, tenant, subscription_id, body)
        assert len(response.request.content) > 2048
        assert response.status_code == 200, response.text
        # Every other route keeps the default limit.
        padded = {"subscription_ids": [str(uuid.uuid4()) for _ in range(100)]}
        other = platform.client.put("/tenant/subscriptions", headers=tenant.headers, json=padded)
        assert other.status_code == 413
        assert "2048" in other.json()["detail"]


# --- who may ------------------------------------------------------------------------------------


def test_another_tenant_gets_404(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    upload(platform, tenant, subscription_id, export(account(subscription_id)))
    other = platform.tenant()
    for method in ("PUT", "GET", "DELETE"):
        response = platform.client.request(
            method, url(subscription_id), headers=other.headers, json=export()
        )
        assert response.status_code == 404, method
        assert SECRET_NAME not in response.text
    assert platform.client.get(url(subscription_id), headers=tenant.headers).status_code == 200


def test_a_member_reads_but_may_not_write(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    upload(platform, tenant, subscription_id, export(account(subscription_id)))
    _, member_key = platform.user(tenant, "member")

    assert platform.client.get(url(subscription_id), headers=auth(member_key)).status_code == 200
    for method in ("PUT", "DELETE"):
        response = platform.client.request(
            method,
            url(subscription_id),
            headers=auth(member_key),
            json=export(account(subscription_id, "stintruder")),
        )
        assert response.status_code == 403, method
        assert "tenant:write" in response.json()["detail"]
    row = snapshot_row(platform, tenant.id, subscription_id)
    assert row.resources == 1


# --- audit --------------------------------------------------------------------------------------


def test_the_upload_is_audited_without_its_content(platform: Platform) -> None:
    tenant, subscription_id = linked_tenant(platform)
    response = upload(platform, tenant, subscription_id, export(account(subscription_id)))
    (event,) = audit_events(platform, tenant.id, "snapshot.uploaded")
    assert event.target == f"subscription:{subscription_id}"
    assert event.actor.endswith(f"(key {display_prefix(tenant.owner_key)}…)")
    assert event.details == {
        "subscription_id": subscription_id,
        "resources": 1,
        "size_bytes": response.json()["size_bytes"],
        "replaced": False,
    }
    assert SECRET_NAME not in json.dumps(event.details)
    assert tenant.owner_key not in event.actor


# --- the demo tenant ----------------------------------------------------------------------------


def _ensure_demo(platform: Platform) -> tuple[str, bool]:
    runtime = platform.runtime
    with platform.db() as session:
        tenant, issued = admin.ensure_demo_tenant(
            session, runtime.key_policy(), runtime.catalog, platform_keys=runtime.platform_keys
        )
        return tenant.id, issued is not None


def test_the_demo_tenant_gets_the_sample_estate_as_snapshots(platform: Platform) -> None:
    demo_id, created = _ensure_demo(platform)
    assert created
    sample = load_sample_estate()
    sample_subscriptions = {r.subscription_id for r in sample if r.subscription_id}
    assert len(sample_subscriptions) == 2

    keys = platform.runtime.keyring
    with platform.db() as session:
        demo = session.get(Tenant, demo_id)
        assert demo is not None
        linked = [s.subscription_id for s in demo.subscriptions]
        assert set(linked) == sample_subscriptions
        read = {sub: snapshot_resources(session, demo_id, sub, keys) for sub in linked}
    resources = [r for part in read.values() if part is not None for r in part]
    assert len(resources) == len(sample.resources)
    assert {r.key for r in resources} == {r.key for r in sample}
    for subscription_id, part in read.items():
        assert part is not None
        assert {r.subscription_id for r in part} == {subscription_id}
        row = snapshot_row(platform, demo_id, subscription_id)
        assert row.resources == len(part)


def test_ensuring_the_demo_tenant_twice_duplicates_nothing(platform: Platform) -> None:
    first_id, created = _ensure_demo(platform)
    second_id, created_again = _ensure_demo(platform)
    assert (first_id, created, created_again) == (second_id, True, False)
    with platform.db() as session:
        demos = session.scalar(
            select(func.count()).select_from(Tenant).where(Tenant.is_demo.is_(True))
        )
        snapshots = session.scalar(
            select(func.count()).select_from(Snapshot).where(Snapshot.tenant_id == first_id)
        )
        demo = session.get(Tenant, first_id)
        assert demo is not None
        assert (demos, snapshots, len(demo.subscriptions)) == (1, 2, 2)
    assert len(audit_events(platform, first_id, "snapshot.uploaded")) == 2


def test_the_demo_tenant_without_platform_keys_is_left_bare(platform: Platform) -> None:
    runtime = platform.runtime
    with platform.db() as session:
        tenant, _ = admin.ensure_demo_tenant(session, runtime.key_policy(), runtime.catalog)
        assert tenant.subscriptions == []
