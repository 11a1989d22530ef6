"""The tenant's people, as its owner and admins manage them: list, invite, change a role, remove.

An admin acts on members and auditors only: inviting, promoting to or demoting from admin, and
removing an admin are the owner's. The owner's own role and membership never change here, and
nobody changes their own role or removes themselves. Whatever narrows a person's access (a role
change, a removal) bumps the auth epoch, so their keys narrow in every API process at once;
portal sessions read the role on each request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tutela.server.audit import service as audit
from tutela.server.auth import emails, links
from tutela.server.auth import epoch as auth_epoch
from tutela.server.auth.caller import Caller
from tutela.server.auth.scopes import Role
from tutela.server.db import after_commit, transaction, utcnow
from tutela.server.errors import Conflict, Forbidden, NotFound
from tutela.server.notify import Email
from tutela.server.runtime import Runtime
from tutela.server.tenants.models import Tenant, User
from tutela.server.tenants.repository import UserRepository
from tutela.server.tenants.service import caller_tenant
from tutela.server.users.repository import open_invitations

Status = Literal["active", "invited", "invitation expired"]


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("User not found")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("This email is already a user of your tenant")


class OwnerUnchangeable(Conflict):
    def __init__(self) -> None:
        super().__init__("The tenant's owner keeps their role and cannot be removed")


class NotOnYourself(Conflict):
    def __init__(self) -> None:
        super().__init__("You cannot change your own role or remove yourself")


class AlreadyActive(Conflict):
    def __init__(self) -> None:
        super().__init__("This person has set a password already: they sign in with it")


class OwnersOnly(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only the tenant's owner may invite, change or remove an admin")


@dataclass(frozen=True)
class Person:
    """A user of the tenant as the list shows them: never their password hash."""

    user: User
    status: Status
    invitation_expires_at: dt.datetime | None
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class Invitation:
    person: Person
    expires_at: dt.datetime
    sent: bool


def _person(user: User, invitation_expires_at: dt.datetime | None, now: dt.datetime) -> Person:
    status: Status
    if user.password_hash is not None:
        status, invitation_expires_at = "active", None
    elif invitation_expires_at is not None:
        status = "invited"
    else:
        status = "invitation expired"
    locked = user.locked_until if user.locked_until and user.locked_until > now else None
    return Person(user, status, invitation_expires_at, locked)


def _people(session: Session, tenant_id: str, users: list[User]) -> list[Person]:
    now = utcnow()
    pending = open_invitations(session, tenant_id, [u.id for u in users], now)
    return [_person(user, pending.get(user.id), now) for user in users]


def _user(session: Session, tenant_id: str, user_id: str) -> User:
    user = UserRepository(session).get(tenant_id, user_id)
    if user is None:
        raise UserNotFound()
    return user


def _within_reach(caller: Caller, role: str) -> None:
    """403 unless the caller may hand out or act on ``role``: admins on members and auditors."""
    if caller.role != Role.OWNER and role in (Role.OWNER, Role.ADMIN):
        raise OwnersOnly()


def _changeable(caller: Caller, user: User) -> None:
    """409 for the owner and for the caller themselves; 403 beyond the caller's reach."""
    if user.role == Role.OWNER:
        raise OwnerUnchangeable()
    if user.id == caller.user_id:
        raise NotOnYourself()
    _within_reach(caller, user.role)


def list_people(
    session: Session, caller: Caller, *, cursor: str | None, limit: int
) -> tuple[list[Person], str | None]:
    tenant = caller_tenant(session, caller)
    users, next_cursor = UserRepository(session).page(tenant.id, cursor=cursor, limit=limit)
    return _people(session, tenant.id, users), next_cursor


def get_person(session: Session, caller: Caller, user_id: str) -> Person:
    tenant = caller_tenant(session, caller)
    [person] = _people(session, tenant.id, [_user(session, tenant.id, user_id)])
    return person


def _invitation_email(
    session: Session, runtime: Runtime, caller: Caller, tenant: Tenant, user: User
) -> tuple[links.Issued, Email]:
    """A new invitation link for ``user`` (any earlier one stops working) and its email."""
    issued = links.issue(
        session,
        user,
        links.INVITATION,
        lifetime=dt.timedelta(days=runtime.settings.invitation_days),
        created_by=caller.actor,
    )
    url = issued.url(runtime.settings.resolved_public_url, links.INVITATION)
    email = emails.invitation(
        user.email, tenant.name, user.role, caller.user_email, url, issued.expires_at
    )
    return issued, email


def invite(runtime: Runtime, caller: Caller, *, email: str, role: str) -> Invitation:
    """Add a person without a password and mail them a link to choose one.

    The person is stored before the email is sent: when it cannot be, ``sent`` is False and a
    new invitation can be sent later (``resend_invitation``).
    """
    _within_reach(caller, role)
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        users = UserRepository(session)
        if users.find_by_email(tenant.id, email) is not None:
            raise EmailTaken()
        try:
            user = users.add(User(tenant_id=tenant.id, email=email, role=Role(role).value))
        except IntegrityError:  # the same email invited by a concurrent request
            raise EmailTaken() from None
        issued, message = _invitation_email(session, runtime, caller, tenant, user)
        audit.record(
            session,
            actor=caller.actor,
            action="user.invited",
            tenant_id=tenant.id,
            target=f"user:{user.id}",
            details={
                "email": email,
                "role": user.role,
                "expires_at": issued.expires_at.isoformat(),
            },
        )
    sent = emails.send(runtime.settings, message, event="invitation")
    person = _person(user, issued.expires_at, utcnow())
    return Invitation(person, issued.expires_at, sent)


def resend_invitation(runtime: Runtime, caller: Caller, user_id: str) -> Invitation:
    """Mail a new invitation link to a person who has no password yet; the old link stops
    working."""
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        user = _user(session, tenant.id, user_id)
        if user.password_hash is not None:
            raise AlreadyActive()
        _within_reach(caller, user.role)
        issued, message = _invitation_email(session, runtime, caller, tenant, user)
        audit.record(
            session,
            actor=caller.actor,
            action="user.invitation_resent",
            tenant_id=tenant.id,
            target=f"user:{user.id}",
            details={"email": user.email, "expires_at": issued.expires_at.isoformat()},
        )
    sent = emails.send(runtime.settings, message, event="invitation")
    return Invitation(_person(user, issued.expires_at, utcnow()), issued.expires_at, sent)


def change_role(runtime: Runtime, caller: Caller, user_id: str, role: str) -> Person:
    """Every key of the person narrows (or widens) to the new role on its next request."""
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        user = _user(session, tenant.id, user_id)
        _changeable(caller, user)
        _within_reach(caller, role)
        old = user.role
        user.role = Role(role).value
        if old != user.role:
            audit.record(
                session,
                actor=caller.actor,
                action="user.role_changed",
                tenant_id=tenant.id,
                target=f"user:{user.id}",
                details={"email": user.email, "from": old, "to": user.role},
            )
            auth_epoch.bump(session)  # every API process drops its cached keys at once
            after_commit(session, lambda: runtime.auth_cache.invalidate_user(user_id))
        [person] = _people(session, tenant.id, [user])
    return person


def remove(runtime: Runtime, caller: Caller, user_id: str) -> None:
    """Delete a person: their API keys, portal sessions and links go with them, at once."""
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        user = _user(session, tenant.id, user_id)
        _changeable(caller, user)
        audit.record(
            session,
            actor=caller.actor,
            action="user.removed",
            tenant_id=tenant.id,
            target=f"user:{user.id}",
            details={"email": user.email, "role": user.role},
        )
        UserRepository(session).remove(user)
        auth_epoch.bump(session)  # every API process drops its cached keys at once
        after_commit(session, lambda: runtime.auth_cache.invalidate_user(user_id))
