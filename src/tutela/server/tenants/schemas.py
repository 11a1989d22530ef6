"""Tenant request and response bodies; field names follow the seed's ``/tenant/me``."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field, SecretStr

from tutela.server.schemas import InputModel, OutputModel


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
    client_secret: SecretStr = Field(min_length=1, max_length=1024)


class CredentialsStored(OutputModel):
    status: str = "ok"
    azure_credentials_set: bool = True
    set_at: dt.datetime
