"""The admin API: tenants, plans, suspension, users and the audit log, for operators only."""

from __future__ import annotations

import pytest

from tests.platform import Platform, auth


@pytest.fixture
def operator(platform: Platform) -> dict[str, str]:
    return auth(platform.operator_key())


def test_create_tenant_returns_the_owner_key_once(
    platform: Platform, operator: dict[str, str]
) -> None:
    response = platform.client.post(
        "/admin/tenants",
        headers=operator,
        json={"owner_email": "cro@bank.example", "plan": "professional", "name": "Bank"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/admin/tenants/{body['tenant']['id']}"
    assert body["tenant"]["plan"] == "professional"
    assert body["owner"]["role"] == "owner"
    key = body["owner_key"]["key"]
    me = platform.client.get("/tenant/me", headers=auth(key)).json()
    assert me["tenant_id"] == body["tenant"]["id"]
    assert me["purchaser_email"] == "cro@bank.example"

    shown = platform.client.get(f"/admin/tenants/{body['tenant']['id']}", headers=operator)
    assert shown.status_code == 200
    assert key not in shown.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner_email": "not-an-email", "plan": "starter"}, "owner_email"),
        ({"owner_email": "a@b.example", "plan": "gold"}, "plan"),
        ({"owner_email": "a@b.example", "plan": "starter", "is_admin": True}, "is_admin"),
    ],
)
def test_create_tenant_validates(
    platform: Platform, operator: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = platform.client.post("/admin/tenants", headers=operator, json=body)
    assert response.status_code == 422
    assert field in str(response.json()["detail"])


def test_list_tenants_paginates_and_filters(platform: Platform, operator: dict[str, str]) -> None:
    made = [platform.tenant("starter").id for _ in range(3)]
    first = platform.client.get("/admin/tenants", headers=operator, params={"limit": 2}).json()
    assert [t["id"] for t in first["items"]] == made[::-1][:2]
    rest = platform.client.get(
        "/admin/tenants", headers=operator, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [t["id"] for t in rest["items"]] == [made[0]]
    assert rest["next_cursor"] is None

    platform.client.post(f"/admin/tenants/{made[1]}/suspend", headers=operator)
    suspended = platform.client.get(
        "/admin/tenants", headers=operator, params={"status": "suspended"}
    ).json()
    assert [t["id"] for t in suspended["items"]] == [made[1]]


def test_plan_change_applies_at_once(platform: Platform, operator: dict[str, str]) -> None:
    tenant = platform.tenant("starter")
    assert platform.client.get("/tenant/me", headers=tenant.headers).json()["scan_limit"] == 25
    changed = platform.client.put(
        f"/admin/tenants/{tenant.id}/plan", headers=operator, json={"plan": "professional"}
    )
    assert changed.status_code == 200
    assert changed.json()["plan"] == "professional"
    me = platform.client.get("/tenant/me", headers=tenant.headers).json()
    assert (me["plan_id"], me["scan_limit"]) == ("professional", 100)
    whoami = platform.client.get("/api-keys/current", headers=tenant.headers).json()
    assert whoami["plan"] == "professional"
    bad = platform.client.put(
        f"/admin/tenants/{tenant.id}/plan", headers=operator, json={"plan": "platinum"}
    )
    assert bad.status_code == 422
    assert "free_trial" in str(bad.json()["detail"])


def test_suspension_refuses_every_key_until_reactivated(
    platform: Platform, operator: dict[str, str]
) -> None:
    tenant = platform.tenant()
    _, member = platform.user(tenant, "member")
    assert platform.client.get("/tenant/me", headers=tenant.headers).status_code == 200  # cached

    platform.client.post(f"/admin/tenants/{tenant.id}/suspend", headers=operator)
    for key in (tenant.owner_key, member):
        response = platform.client.get("/tenant/me", headers=auth(key))
        assert response.status_code == 403
        assert "suspended" in response.json()["detail"]

    platform.client.post(f"/admin/tenants/{tenant.id}/reactivate", headers=operator)
    assert platform.client.get("/tenant/me", headers=tenant.headers).status_code == 200


def test_users_can_be_added_and_duplicates_conflict(
    platform: Platform, operator: dict[str, str]
) -> None:
    tenant = platform.tenant()
    added = platform.client.post(
        f"/admin/tenants/{tenant.id}/users",
        headers=operator,
        json={"email": "auditor@bank.example", "role": "auditor"},
    )
    assert added.status_code == 201
    key = added.json()["key"]["key"]
    whoami = platform.client.get("/api-keys/current", headers=auth(key)).json()
    assert whoami["role"] == "auditor"
    assert "report:read" in whoami["scopes"]
    assert "scan:run" not in whoami["scopes"]
    again = platform.client.post(
        f"/admin/tenants/{tenant.id}/users",
        headers=operator,
        json={"email": "auditor@bank.example", "role": "member"},
    )
    assert again.status_code == 409
    other_case = platform.client.post(  # one person, whatever the case of their email
        f"/admin/tenants/{tenant.id}/users",
        headers=operator,
        json={"email": "Auditor@Bank.example", "role": "member"},
    )
    assert other_case.status_code == 409
    users = platform.client.get(f"/admin/tenants/{tenant.id}/users", headers=operator).json()
    assert sorted(u["role"] for u in users) == ["auditor", "owner"]


def test_unknown_tenant_is_404(platform: Platform, operator: dict[str, str]) -> None:
    for method, path in [
        ("GET", "/admin/tenants/nope"),
        ("POST", "/admin/tenants/nope/suspend"),
        ("GET", "/admin/tenants/nope/users"),
    ]:
        assert platform.client.request(method, path, headers=operator).status_code == 404


def test_tenant_keys_cannot_use_the_admin_api(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    response = platform.client.get("/admin/tenants", headers=tenant.headers)
    assert response.status_code == 403
    assert "admin:read" in response.json()["detail"]


def test_operator_keys_cannot_use_tenant_routes(platform: Platform) -> None:
    response = platform.client.get("/tenant/me", headers=auth(platform.operator_key()))
    assert response.status_code == 403


def test_audit_log_records_lifecycle_without_secrets(
    platform: Platform, operator: dict[str, str]
) -> None:
    created = platform.client.post(
        "/admin/tenants", headers=operator, json={"owner_email": "o@x.example", "plan": "starter"}
    ).json()
    tenant_id, owner_key = created["tenant"]["id"], created["owner_key"]["key"]
    platform.client.put(
        f"/admin/tenants/{tenant_id}/plan", headers=operator, json={"plan": "enterprise"}
    )
    platform.client.post(f"/admin/tenants/{tenant_id}/suspend", headers=operator)
    platform.client.post(f"/admin/tenants/{tenant_id}/reactivate", headers=operator)
    key = platform.client.post(
        "/api-keys", headers=auth(owner_key), json={"name": "ci", "scopes": ["tenant:read"]}
    ).json()
    platform.client.patch(f"/api-keys/{key['id']}", headers=auth(owner_key), json={"name": "ci2"})
    platform.client.delete(f"/api-keys/{key['id']}", headers=auth(owner_key))

    log = platform.client.get(
        "/admin/audit-events", headers=operator, params={"tenant_id": tenant_id, "limit": 200}
    )
    events = log.json()["items"]
    actions = [e["action"] for e in reversed(events)]
    assert actions == [
        "tenant.created",
        "key.created",
        "tenant.plan_changed",
        "tenant.suspended",
        "tenant.reactivated",
        "key.created",
        "key.new_source",  # the owner's key, first used (after that request's own event)
        "key.renamed",
        "key.revoked",
    ]
    assert all(e["actor"] and e["created_at"] for e in events)
    assert owner_key not in log.text
    assert key["key"] not in log.text
    plan_event = next(e for e in events if e["action"] == "tenant.plan_changed")
    assert plan_event["details"] == {"from": "starter", "to": "enterprise"}
    only_revocations = platform.client.get(
        "/admin/audit-events", headers=operator, params={"action": "key.revoked"}
    ).json()["items"]
    assert {e["target"] for e in only_revocations} == {f"key:{key['id']}"}
