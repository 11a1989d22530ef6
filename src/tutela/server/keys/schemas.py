"""API key request and response bodies. The secret appears only in ``ApiKeyCreated``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import Field, StringConstraints

from tutela.server.auth.scopes import Scope
from tutela.server.keys.models import ApiKey, key_status
from tutela.server.schemas import InputModel, OutputModel

KeyName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ApiKeyCreate(InputModel):
    name: KeyName
    scopes: list[Scope] = Field(min_length=1, description="A subset of the caller's scopes.")
    expires_in_days: int | None = Field(
        default=None, ge=1, description="Days until expiry; default 30, capped by the server."
    )


class ApiKeyUpdate(InputModel):
    name: KeyName


class ApiKeyPublic(OutputModel):
    @classmethod
    def of(cls, key: ApiKey, now: dt.datetime, *, show_scopes: bool = True) -> Self:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=list(key.scopes) if show_scopes else None,
            status=key_status(key, now),
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            never_used=key.last_used_at is None,
        )

    id: str
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    scopes: list[str] | None = Field(
        description="The key's scopes; null when it can use a scope the calling key lacks "
        "(such a key can be neither renamed nor revoked by the calling key)."
    )
    status: str = Field(description="active, expired or revoked")
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    never_used: bool


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The secret. Shown once: store it now, it cannot be read again.")

    @classmethod
    def issued(cls, key: ApiKey, secret: str, now: dt.datetime) -> ApiKeyCreated:
        return cls(**ApiKeyPublic.of(key, now).model_dump(), key=secret)


class TenantApiKey(ApiKeyPublic):
    """A key of any user of the tenant, as its owner and admins see it."""

    user_id: str
    owner_email: str
    owner_role: str

    @classmethod
    def of_member(
        cls, key: ApiKey, owner_email: str, owner_role: str, now: dt.datetime, *, show_scopes: bool
    ) -> TenantApiKey:
        public = ApiKeyPublic.of(key, now, show_scopes=show_scopes).model_dump()
        return cls(**public, user_id=key.user_id, owner_email=owner_email, owner_role=owner_role)


class ApiKeyRevoked(OutputModel):
    status: str = "ok"
    revoked: str


class WhoAmI(OutputModel):
    key_id: str
    prefix: str
    scopes: list[str] = Field(description="Effective scopes: the key's, within its owner's role.")
    expires_at: dt.datetime
    user_email: str
    role: str
    tenant_id: str | None
    plan: str | None


class ScopeInfo(OutputModel):
    scope: str
    description: str
