"""Request and response bodies of /tenant/sso: the secret goes in, never out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from tutela.server.schemas import InputModel, OutputModel, Timestamp
from tutela.server.tenants.schemas import MIN_CLIENT_SECRET_CHARS

# Where the ID token carries the person's address. Entra ID puts it in `email` only when the
# app registration asks for that optional claim (and the account has a mailbox); otherwise the
# sign-in name is in `preferred_username` (v2.0 tokens) or `upn` (v1.0 tokens).
EmailClaim = Literal["email", "preferred_username", "upn"]


class SsoUpdate(InputModel):
    issuer: str = Field(
        min_length=8,
        max_length=2048,
        description=(
            "The provider's issuer, exactly as its discovery document names it; Microsoft Entra "
            "ID: https://login.microsoftonline.com/<directory (tenant) id>/v2.0. https:// on a "
            "public address, unless the operator allows internal providers "
            "(TUTELA_SSO_ALLOW_INTERNAL_PROVIDERS). Checked before it is stored: 422 when its "
            "/.well-known/openid-configuration cannot be read or names another issuer."
        ),
    )
    client_id: str = Field(
        min_length=1, max_length=255, description="The app registration's application (client) id."
    )
    client_secret: SecretStr = Field(
        max_length=1024,
        description=(
            "The app registration's client secret value (fewer than "
            f"{MIN_CLIENT_SECRET_CHARS} characters is refused). Stored sealed, never returned."
        ),
        json_schema_extra={"minLength": MIN_CLIENT_SECRET_CHARS},
    )
    required: bool = Field(
        default=False,
        description="Refuse password sign-in (and password resets) for the tenant's people.",
    )
    email_claim: EmailClaim = Field(
        default="email",
        description=(
            "The ID token claim holding the person's email: `email`, or for Entra ID without "
            "the optional `email` claim, `preferred_username` (or `upn`)."
        ),
    )

    @field_validator("client_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < MIN_CLIENT_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_CLIENT_SECRET_CHARS} characters")
        return secret


class SsoOut(OutputModel):
    configured: bool = Field(description="Whether the tenant has an OpenID provider.")
    issuer: str | None
    client_id: str | None
    required: bool = Field(description="Whether password sign-in is refused for the tenant.")
    email_claim: EmailClaim | None
    updated_at: Timestamp | None
    redirect_uri: str = Field(
        description="The redirect URI to register with the provider (the app registration)."
    )
