"""Tenant request and response bodies; field names follow the seed's ``/tenant/me``."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field, SecretStr, field_validator

from tutela.server.schemas import InputModel, OutputModel

# Client secrets made by Entra ID are 40 characters (older ones 32 to 44). A short one is no
# secret: it can be guessed, and it cannot be told apart from text that merely contains it.
MIN_CLIENT_SECRET_CHARS = 32


class TenantMe(OutputModel):
    tenant_id: str
    name: str
    purchaser_email: str
    plan_id: str
    status: str
    scan_count: int = Field(description="Manual scans this calendar month (UTC).")
    scan_limit: int | None = Field(description="Monthly manual scan quota; null is unlimited.")
    subscription_limit: int | None
    azure_subscription_ids: list[str]
    azure_credentials_set: bool = Field(description="Whether Azure credentials are stored.")
    governance_enabled: bool
    governance_cadence: str
    report_history_days: int


class SubscriptionsUpdate(InputModel):
    subscription_ids: list[uuid.UUID] = Field(
        max_length=10_000, description="Azure subscription ids (UUIDs); duplicates are dropped."
    )


class CredentialsUpdate(InputModel):
    tenant_id: uuid.UUID = Field(description="The Azure (Entra ID) tenant id.")
    client_id: uuid.UUID = Field(description="The service principal's application id.")
    client_secret: SecretStr = Field(
        max_length=1024,
        description=(
            "The service principal's client secret value (Azure's are 40 characters; fewer "
            f"than {MIN_CLIENT_SECRET_CHARS} is refused with 422). Stored sealed, never returned."
        ),
        json_schema_extra={"minLength": MIN_CLIENT_SECRET_CHARS},
    )

    @field_validator("client_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < MIN_CLIENT_SECRET_CHARS:
            raise ValueError(
                f"must be at least {MIN_CLIENT_SECRET_CHARS} characters (an Azure client "
                "secret value is 40)"
            )
        return secret


class CredentialsStored(OutputModel):
    status: str = "ok"
    azure_credentials_set: bool = True
    set_at: dt.datetime
