"""``session.connection``: GUARDARA's fetch/create/update/remove, ``(status_code, data)`` each."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tests.sdk.scripted import Reply, ScriptedServer
from tutela import Session
from tutela.sdk import SERVICES, APIConnectionError


def test_fetch_a_report_listed_by_the_reports_service(session: Session) -> None:
    """The seed's "fetch a message template" example, with reports."""
    report = session.scans.run(["iso42001"])
    status, page = session.connection.fetch("reports", "?limit=5")
    assert status == 200
    assert 1 <= len(page["items"]) <= 5
    report_id = page["items"][0]["report_id"]
    assert report_id == report.report_id

    (response_code, data) = session.connection.fetch("report", f"/{report_id}")
    assert response_code == 200
    assert data == report.raw
    # The leading slash is optional; headers={} as in the seed.
    assert session.connection.fetch("report", report_id, headers={}) == (200, data)


def test_create_update_remove_on_the_real_server(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        status, report = session.connection.create("scan", "/iac?scan_label=raw", ARM_TEMPLATE)
        assert status == 200
        assert report["scan_label"] == "raw"
        status, dry = session.connection.create(
            "scan",
            "/iac?dry_run=true",
            json.dumps(ARM_TEMPLATE).encode(),  # bytes are sent as they are
            headers={"X-Correlation-ID": "sdk-raw-0001"},
        )
        assert status == 200
        assert dry["dry_run"] is True
        assert "report_id" not in dry

        subscription = str(uuid.uuid4())
        status, me = session.connection.update(
            "tenant", "/subscriptions", {"subscription_ids": [subscription]}
        )
        assert (status, me["azure_subscription_ids"]) == (200, [subscription])

        # api-keys: update is PATCH, the server's verb for a rename.
        status, key = session.connection.create(
            "api-keys", "", {"name": "a", "scopes": ["scan:run"]}
        )
        assert status == 201
        assert key["key"].startswith("tut_")
        status, renamed = session.connection.update("api-keys", f"/{key['id']}", {"name": "b"})
        assert (status, renamed["name"]) == (200, "b")
        status, revoked = session.connection.remove("api-keys", f"/{key['id']}")
        assert (status, revoked) == (200, {"status": "ok", "revoked": key["id"]})

        status, deleted = session.connection.remove("report", f"/{report['report_id']}")
        assert (status, deleted["deleted"]) == (200, 1)
        assert session.connection.fetch("scopes", "")[0] == 200
        assert session.connection.fetch("frameworks", "")[1][0]["id"] == "iso42001"
        assert session.connection.fetch("plans", "")[1][0]["id"] == "free_trial"
        assert session.connection.fetch("health", "")[1]["status"] == "ok"
        assert session.connection.fetch("tenant", "/me")[1]["tenant_id"] == tenant.id


def test_error_statuses_are_returned_not_raised(server: LiveServer, session: Session) -> None:
    status, body = session.connection.fetch("report", "/COMP-20000101-000000")
    assert status == 404
    assert isinstance(body["detail"], str)
    status, body = session.connection.create("scan", "", {"frameworks": ["nope"]})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "frameworks"]
    status, body = session.connection.create("tenant", "/encryption/rotate", {})
    assert status == 400  # the seed's status: no customer-managed key to rotate
    assert "not configured" in body["detail"]
    with server.session("tut_notakey") as stranger:
        status, body = stranger.connection.fetch("tenant", "/me")
    assert status == 401
    assert "detail" in body


def test_admin_service_and_a_real_409(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("starter")
    user = {"email": "dev@starter.example.com", "role": "member"}
    with server.session(server.operator_key) as operator:
        status, created = operator.connection.create("admin", f"/tenants/{tenant.id}/users", user)
        assert status == 201
        assert created["user"]["email"] == user["email"]
        status, body = operator.connection.create("admin", f"/tenants/{tenant.id}/users", user)
        assert status == 409
        assert "already exists" in body["detail"]
        status, shown = operator.connection.fetch("admin", f"/tenants/{tenant.id}")
        assert (status, shown["plan"]) == (200, "starter")
        # Not JSON: the text is returned.
        status, page = operator.connection.fetch("admin", "/api-docs")
        assert status == 200
        assert isinstance(page, str)
        assert "<html" in page.lower()


def test_unknown_service_is_a_value_error_naming_the_valid_ones(session: Session) -> None:
    with pytest.raises(ValueError, match="Unknown service 'templates'") as caught:
        session.connection.fetch("templates", "/message/1")
    for service in ("scan", "report", "reports", "tenant", "api-keys", "governance", "admin"):
        assert service in str(caught.value)
    assert set(SERVICES) >= {"health", "frameworks", "plans", "scopes"}


def test_verbs_methods_paths_headers_and_bodies_on_the_wire() -> None:
    replies = [Reply(200, {"ok": i}) for i in range(6)]
    with ScriptedServer(*replies) as fake, Session(fake.url, "tut_wire", retries=0) as session:
        assert session.connection.fetch("reports", "?limit=5", {"X-Trace": "t1"}) == (
            200,
            {"ok": 0},
        )
        session.connection.create("scan", "", {"frameworks": ["iso42001"]})
        session.connection.update("tenant", "/subscriptions", {"subscription_ids": []})
        session.connection.update("api-keys", "/k1", {"name": "n"})
        session.connection.remove("report", "/COMP-20261123-093005")
        session.connection.create("scan", "/iac", '{"resources": []}')
    seen = [(r.method, r.path) for r in fake.received]
    assert seen == [
        ("GET", "/reports?limit=5"),
        ("POST", "/scan"),
        ("PUT", "/tenant/subscriptions"),
        ("PATCH", "/api-keys/k1"),
        ("DELETE", "/report/COMP-20261123-093005"),
        ("POST", "/scan/iac"),
    ]
    first = fake.received[0].headers
    assert first["x-trace"] == "t1"
    assert first["x-api-key"] == "tut_wire"
    assert fake.received[1].body == b'{"frameworks":["iso42001"]}'
    assert fake.received[5].body == b'{"resources": []}'
    assert fake.received[5].headers["content-type"] == "application/json"


def test_transport_failure_raises_api_connection_error() -> None:
    with ScriptedServer() as fake:
        url = fake.url  # closed when the block ends: nothing listens there any more
    with (
        Session(url, "tut_gone", retries=0) as session,
        pytest.raises(APIConnectionError) as caught,
    ):
        session.connection.fetch("health", "")
    assert "tut_gone" not in str(caught.value)
    assert url.split("//")[1] in str(caught.value)
