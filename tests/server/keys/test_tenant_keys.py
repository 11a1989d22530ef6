"""GET /tenant/api-keys and DELETE /tenant/api-keys/{id}: owners and admins manage members' keys."""

from __future__ import annotations

from sqlalchemy import select

from tests.platform import Platform, auth
from tutela.server.audit.models import AuditEvent


def test_owner_and_admin_list_and_revoke_members_keys(platform: Platform) -> None:
    tenant, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    _, admin_key = platform.user(tenant, role="admin")
    member_id, member_key = platform.user(tenant, role="member")
    member_key_id, owner_key_id = platform.key_id(member_key), platform.key_id(tenant.owner_key)
    other_key_id = platform.key_id(other.owner_key)

    for caller in (tenant.owner_key, admin_key):
        response = platform.client.get("/tenant/api-keys", headers=auth(caller))
        assert response.status_code == 200, response.text
        items = {item["id"]: item for item in response.json()["items"]}
        assert set(items) == {owner_key_id, platform.key_id(admin_key), member_key_id}
        member = items[member_key_id]
        assert (member["user_id"], member["owner_role"]) == (member_id, "member")
        assert member["owner_email"].startswith("user")
        assert "tenant:read" in member["scopes"]
        assert member_key not in response.text
    # The owner's key holds encryption:write, which an admin lacks: listed without its scopes.
    by_admin = platform.client.get("/tenant/api-keys", headers=auth(admin_key)).json()["items"]
    assert {i["id"]: i["scopes"] for i in by_admin}[owner_key_id] is None

    # Members hold keys:read but not tenant:write.
    refused = platform.client.get("/tenant/api-keys", headers=auth(member_key))
    assert refused.status_code == 403
    assert "tenant:write" in refused.json()["detail"]

    # Another tenant's key is not found, and stays usable.
    foreign = platform.client.delete(f"/tenant/api-keys/{other_key_id}", headers=auth(admin_key))
    assert foreign.status_code == 404
    assert platform.client.get("/tenant/me", headers=other.headers).status_code == 200
    # An admin cannot revoke the owner's stronger key.
    stronger = platform.client.delete(f"/tenant/api-keys/{owner_key_id}", headers=auth(admin_key))
    assert stronger.status_code == 403

    revoked = platform.client.delete(f"/tenant/api-keys/{member_key_id}", headers=auth(admin_key))
    assert revoked.json() == {"status": "ok", "revoked": member_key_id}
    assert platform.client.get("/tenant/me", headers=auth(member_key)).status_code == 401
    with platform.db() as session:
        [event] = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "key.revoked", AuditEvent.target == f"key:{member_key_id}"
            )
        ).all()
    assert event.tenant_id == tenant.id
    assert event.actor.startswith("user")
    assert admin_key not in event.actor
    assert event.details["owner_user_id"] == member_id
