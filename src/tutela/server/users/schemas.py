"""Request and response bodies of /tenant/users. A person's password hash never leaves."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import EmailStr, Field

from tutela.server.schemas import InputModel, OutputModel
from tutela.server.users.service import Invitation, Person, Status

# The owner is made with the tenant (by an operator) and is never invited or assigned.
AssignableRole = Literal["admin", "member", "auditor"]


class UserInvite(InputModel):
    email: EmailStr
    role: AssignableRole = Field(description="Only the tenant's owner may invite an admin.")


class RoleUpdate(InputModel):
    role: AssignableRole = Field(description="Only the tenant's owner may make someone admin.")


class UserPublic(OutputModel):
    id: str
    email: str
    role: str
    status: Status = Field(
        description="active: has a password; invited: an unused invitation link still works; "
        "invitation expired: no password and no working link (send a new invitation)."
    )
    created_at: dt.datetime
    invitation_expires_at: dt.datetime | None = Field(
        description="Until when the invitation link works, while the status is invited."
    )
    locked_until: dt.datetime | None = Field(
        description="Set while sign-ins are refused after too many failed attempts."
    )

    @classmethod
    def of(cls, person: Person) -> UserPublic:
        user = person.user
        return cls(
            id=user.id,
            email=user.email,
            role=user.role,
            status=person.status,
            created_at=user.created_at,
            invitation_expires_at=person.invitation_expires_at,
            locked_until=person.locked_until,
        )


class InvitationSent(OutputModel):
    user: UserPublic
    invitation_expires_at: dt.datetime
    invitation_sent: bool = Field(
        description="False when the email could not be sent: the person exists all the same; "
        "send a new invitation later."
    )

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationSent:
        return cls(
            user=UserPublic.of(invitation.person),
            invitation_expires_at=invitation.expires_at,
            invitation_sent=invitation.sent,
        )
