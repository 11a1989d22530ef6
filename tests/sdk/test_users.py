"""The SDK's people calls, sync and async, against the app behind uvicorn: an owner invites,
lists, re-invites, changes a role and removes; refusals raise their error classes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.platform import Platform
from tests.server.encryption.helpers import mails_to
from tests.server.scans.test_quota import serving
from tutela import AsyncSession, Session
from tutela.sdk import (
    AuthenticationError,
    ConflictError,
    Invitation,
    NotFoundError,
    PermissionDeniedError,
    TenantUser,
    ValidationError,
)


@pytest.fixture
def base_url(platform: Platform) -> Iterator[str]:
    with serving(platform.app) as url:
        yield url


def test_an_owner_manages_people_sync(platform: Platform, base_url: str) -> None:
    tenant = platform.tenant("enterprise")
    with Session(base_url, tenant.owner_key, retries=0) as session:
        invited = session.users.invite("sdk.person@example.com", "auditor")
        assert isinstance(invited, Invitation)
        assert isinstance(invited.user, TenantUser)
        assert (invited.user.role, invited.user.status, invited.invitation_sent) == (
            "auditor",
            "invited",
            True,
        )
        person_id = invited.user.id

        listed = {p.id: p for p in session.users.list(page_size=1)}
        assert set(listed) == {tenant.owner_id, person_id}
        assert listed[person_id].invitation_expires_at == invited.invitation_expires_at
        assert session.users.get(person_id).email == "sdk.person@example.com"

        again = session.users.resend_invitation(person_id)
        assert again.invitation_sent is True
        assert len(mails_to(platform, "sdk.person@example.com")) == 2

        changed = session.users.set_role(person_id, "member")
        assert (changed.id, changed.role) == (person_id, "member")

        session.users.remove(person_id)
        with pytest.raises(NotFoundError):
            session.users.get(person_id)


def test_refusals_raise_their_classes(platform: Platform, base_url: str) -> None:
    tenant, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    member_id, member_key = platform.user(tenant, role="member")
    _, admin_key = platform.user(tenant, role="admin")
    with (
        Session(base_url, tenant.owner_key, retries=0) as owner,
        Session(base_url, admin_key, retries=0) as admin,
        Session(base_url, member_key, retries=0) as member,
        Session(base_url, other.owner_key, retries=0) as stranger,
    ):
        owner.users.invite("twice@example.com")
        with pytest.raises(ConflictError):
            owner.users.invite("twice@example.com")
        with pytest.raises(ValidationError):
            owner.users.invite("not an email")
        with pytest.raises(ConflictError):
            owner.users.set_role(tenant.owner_id, "admin")
        with pytest.raises(PermissionDeniedError):
            admin.users.invite("another.admin@example.com", "admin")
        with pytest.raises(PermissionDeniedError):
            list(member.users.list())
        with pytest.raises(NotFoundError):
            stranger.users.remove(member_id)

        owner.users.remove(member_id)
        with pytest.raises(AuthenticationError):
            member.tenant.me()


def test_the_async_session_has_the_same_calls(platform: Platform, base_url: str) -> None:
    tenant = platform.tenant("enterprise")

    async def main() -> None:
        async with AsyncSession(base_url, tenant.owner_key, retries=0) as session:
            invited = await session.users.invite("async.person@example.com", "member")
            person_id = invited.user.id
            listed = [p.id async for p in session.users.list()]
            assert person_id in listed
            assert (await session.users.get(person_id)).status == "invited"
            resent = await session.users.resend_invitation(person_id)
            assert resent.invitation_expires_at >= invited.invitation_expires_at
            assert (await session.users.set_role(person_id, "auditor")).role == "auditor"
            await session.users.remove(person_id)
            with pytest.raises(NotFoundError):
                await session.users.get(person_id)

    asyncio.run(main())
