"""keys.list_members and keys.revoke_member: an owner manages the keys of its tenant's users."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.sdk.conftest import LiveServer, Tenant
from tutela.sdk import AuthenticationError, MemberApiKey, NotFoundError, PermissionDeniedError


def add_member(server: LiveServer, tenant: Tenant) -> str:
    response = httpx.post(
        f"{server.url}/admin/tenants/{tenant.id}/users",
        json={"email": "member@sdk.example.com", "role": "member"},
        headers={"X-API-Key": server.operator_key},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    secret: str = response.json()["key"]["key"]
    return secret


def test_an_owner_lists_and_revokes_a_members_key(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant, other = new_tenant("enterprise"), new_tenant("enterprise")
    member_secret = add_member(server, tenant)
    with (
        server.session(tenant.key) as owner,
        server.session(member_secret) as member,
        server.session(other.key) as stranger,
    ):
        member_key = member.keys.current()
        listed = list(owner.keys.list_members(page_size=1))
        assert all(isinstance(k, MemberApiKey) for k in listed)
        by_id = {k.id: k for k in listed}
        assert set(by_id) == {owner.keys.current().key_id, member_key.key_id}
        assert by_id[member_key.key_id].owner_email == "member@sdk.example.com"
        assert by_id[member_key.key_id].owner_role == "member"

        with pytest.raises(PermissionDeniedError):
            list(member.keys.list_members())
        with pytest.raises(NotFoundError):
            stranger.keys.revoke_member(member_key.key_id)

        assert owner.keys.revoke_member(member_key.key_id).revoked == member_key.key_id
        with pytest.raises(AuthenticationError):
            member.keys.current()
