"""HTTP for the tenant's people at /tenant/users: owners and admins (tenant:write).

The writes commit in the route's own thread (the service's transaction), not in the request's
session: a role change or a removal locks the auth epoch's row (see keys/router.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.pagination import CursorParam, LimitParam, Page
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.schemas import ErrorOut
from tutela.server.users import service
from tutela.server.users.schemas import InvitationSent, RoleUpdate, UserInvite, UserPublic

router = APIRouter(prefix="/tenant/users", tags=["users"])

# tenant:write is held by owners and admins only.
PeopleManager = Annotated[Caller, Depends(Authorize(Scope.TENANT_WRITE))]

_RANK = (
    "An admin acts on members and auditors only: inviting, promoting to or demoting from admin, "
    "and removing an admin are the owner's (403)."
)


def _errors(e409: str) -> dict[int | str, dict[str, Any]]:
    return {
        403: {
            "model": ErrorOut,
            "description": "Outside the key's scopes, tenant suspended, or an admin acting on "
            "an admin",
        },
        409: {"model": ErrorOut, "description": e409},
    }


@router.get("", summary="The people of your tenant, newest first, with their status")
def list_users(
    session: SessionDep, caller: PeopleManager, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[UserPublic]:
    people, next_cursor = service.list_people(session, caller, cursor=cursor, limit=limit)
    return Page(items=[UserPublic.of(p) for p in people], next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    summary="Invite a person: they are emailed a one-time link to choose their password",
    description=_RANK
    + " The link works once, for `TUTELA_INVITATION_DAYS`. When the email cannot be sent the "
    "person is added all the same and `invitation_sent` is false.",
    responses=_errors("The email is already a user of your tenant"),
)
def invite_user(
    body: UserInvite, runtime: RuntimeDep, caller: PeopleManager, response: Response
) -> InvitationSent:
    invitation = service.invite(runtime, caller, email=str(body.email), role=body.role)
    response.headers["Location"] = f"/tenant/users/{invitation.person.user.id}"
    return InvitationSent.of(invitation)


@router.get("/{user_id}", summary="Show one person of your tenant")
def get_user(user_id: str, session: SessionDep, caller: PeopleManager) -> UserPublic:
    return UserPublic.of(service.get_person(session, caller, user_id))


@router.post(
    "/{user_id}/invitation",
    summary="Send a new invitation (the earlier link stops working)",
    description=_RANK,
    responses=_errors("The person has a password already"),
)
def resend_invitation(user_id: str, runtime: RuntimeDep, caller: PeopleManager) -> InvitationSent:
    return InvitationSent.of(service.resend_invitation(runtime, caller, user_id))


@router.put(
    "/{user_id}/role",
    summary="Change a person's role; their API keys narrow at once",
    description=_RANK,
    responses=_errors("The owner's role, or your own"),
)
def change_role(
    user_id: str, body: RoleUpdate, runtime: RuntimeDep, caller: PeopleManager
) -> UserPublic:
    return UserPublic.of(service.change_role(runtime, caller, user_id, body.role))


@router.delete(
    "/{user_id}",
    status_code=204,
    summary="Remove a person: their API keys and portal sessions end at once",
    description=_RANK,
    responses=_errors("The owner, or yourself"),
)
def remove_user(user_id: str, runtime: RuntimeDep, caller: PeopleManager) -> Response:
    service.remove(runtime, caller, user_id)
    return Response(status_code=204)
