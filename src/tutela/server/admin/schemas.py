"""Admin API bodies: tenants, users, audit events."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import EmailStr, Field

from tutela.server.keys.schemas import ApiKeyCreated
from tutela.server.schemas import InputModel, OutputModel

TenantRole = Literal["owner", "admin", "member", "auditor"]


class TenantCreate(InputModel):
    owner_email: EmailStr
    plan: str | None = Field(
        default=None,
        description="A plan id from GET /plans; default: the default_plan platform setting "
        "(GET /admin/settings).",
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)


class PlanChange(InputModel):
    plan: str


class UserCreate(InputModel):
    email: EmailStr
    role: TenantRole


class RoleChange(InputModel):
    role: TenantRole


class TenantAdminOut(OutputModel):
    id: str
    name: str
    plan: str
    status: str
    owner_email: str
    is_demo: bool
    azure_subscription_ids: list[str]
    azure_credentials_set: bool
    created_at: dt.datetime


class UserOut(OutputModel):
    id: str
    tenant_id: str | None
    email: str
    role: str
    created_at: dt.datetime


class TenantCreated(OutputModel):
    tenant: TenantAdminOut
    owner: UserOut
    owner_key: ApiKeyCreated = Field(description="The owner's first key; shown once.")


class UserCreated(OutputModel):
    user: UserOut
    key: ApiKeyCreated = Field(description="The user's first key; shown once.")


class AuditEventOut(OutputModel):
    id: str
    tenant_id: str | None
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]
    created_at: dt.datetime
