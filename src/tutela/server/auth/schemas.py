"""Request and response bodies of /auth/*: signing in to the portal."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from tutela.server.auth import passwords
from tutela.server.auth.caller import Caller
from tutela.server.auth.scopes import sort_scopes
from tutela.server.schemas import InputModel, OutputModel, Timestamp

Password = Field(min_length=1, max_length=passwords.MAX_LENGTH)
OneTimeToken = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


class SignIn(InputModel):
    model_config = ConfigDict(str_strip_whitespace=False)  # a password is taken as typed

    email: str = Field(min_length=3, max_length=320, examples=["you@example.com"])
    password: str = Password
    tenant_id: str | None = Field(
        default=None,
        max_length=36,
        description="Only when one email and password open accounts in several tenants.",
    )


class NewPassword(InputModel):
    """A one-time link's token (from the emailed link) and the password to set."""

    model_config = ConfigDict(str_strip_whitespace=False)

    token: str = OneTimeToken
    password: str = Field(
        min_length=passwords.MIN_LENGTH,
        max_length=passwords.MAX_LENGTH,
        description=f"At least {passwords.MIN_LENGTH} characters; not your email address.",
    )


class ResetRequest(InputModel):
    email: str = Field(min_length=3, max_length=320)


class Accepted(OutputModel):
    detail: str


class SessionOut(OutputModel):
    """The signed-in person, and the CSRF token their state-changing requests must carry."""

    email: str
    role: str
    tenant_id: str | None
    plan: str | None
    scopes: list[str]
    csrf_token: str = Field(description="Send it as X-CSRF-Token on every POST/PUT/PATCH/DELETE.")
    expires_at: Timestamp = Field(description="When the session ends unless it idles out first.")

    @classmethod
    def of(cls, caller: Caller, csrf_token: str) -> SessionOut:
        return cls(
            email=caller.user_email,
            role=caller.role,
            tenant_id=caller.tenant_id,
            plan=caller.plan,
            scopes=sort_scopes(caller.scopes),
            csrf_token=csrf_token,
            expires_at=caller.key_expires_at,
        )
