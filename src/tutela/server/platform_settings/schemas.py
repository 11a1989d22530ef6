"""Platform settings: the typed values in force, the PATCH body and what GET /admin/settings shows.

The checks that need nothing but the value (the ``limits`` notation, a sender's address form, a
quota's range) are here; those that need the catalogue or the environment (a known plan id, a
model to turn narratives on with) are the service's.
"""

from __future__ import annotations

from email.utils import formataddr, getaddresses
from typing import Annotated, Any, Generic, Literal, TypeVar

from email_validator import EmailNotValidError, validate_email
from limits import parse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tutela.server.schemas import InputModel, OutputModel, Timestamp

T = TypeVar("T")

# Scans per calendar month; null is unlimited. Strict: true or "5" is not a number of scans.
Quota = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)] | None


class RuntimeSettings(BaseModel):
    """Every runtime setting's value: a stored one, or the environment's / catalogue's default."""

    model_config = ConfigDict(frozen=True)

    default_plan: str
    plan_quotas: dict[str, int | None]
    rate_limit: str
    tenant_rate_limit: str
    narratives_enabled: bool
    email_from: str


SETTING_NAMES: tuple[str, ...] = tuple(RuntimeSettings.model_fields)


class SettingsChange(InputModel):
    """The settings to change; a setting given as null goes back to its default."""

    default_plan: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="The plan of a tenant created without one (a plan id from GET /plans).",
    )
    plan_quotas: dict[str, Quota] | None = Field(
        default=None,
        description="Manual scans per month by plan id, null for unlimited; replaces every "
        "override given before. A plan left out has its catalogue quota.",
    )
    rate_limit: str | None = Field(
        default=None,
        max_length=64,
        description="Per-key request limit in the `limits` notation, like `600/minute`.",
    )
    tenant_rate_limit: str | None = Field(
        default=None,
        max_length=64,
        description="Per-tenant request limit across all its keys, like `1800/minute`.",
    )
    narratives_enabled: bool | None = Field(
        default=None,
        description="false: findings and board packs get the deterministic text even when "
        "TUTELA_LLM_* configure a model; true needs such a model.",
    )
    email_from: str | None = Field(
        default=None,
        max_length=320,
        description="The From of every email: `ops@example.com` or `Name <ops@example.com>`.",
    )

    @field_validator("rate_limit", "tenant_rate_limit")
    @classmethod
    def _limit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parse(value)
        except ValueError:
            raise ValueError("not a rate limit like '600/minute'") from None
        return value

    @field_validator("email_from")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        return None if value is None else sender_address(value)


def sender_address(value: str) -> str:
    """``value`` as one From header value, ``Name <address>`` or ``address``; else ValueError."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("must be one line without control characters")
    found = getaddresses([value])
    name, address = found[0] if len(found) == 1 else ("", "")
    if not address or "@" not in address:
        raise ValueError("not an email address like 'Name <ops@example.com>'")
    try:
        normalized = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("not an email address like 'Name <ops@example.com>'") from None
    return formataddr((name, normalized)) if name else normalized


class SettingState(OutputModel, Generic[T]):
    value: T = Field(description="The value in force.")
    default: T = Field(description="The value without a stored one (environment or catalogue).")
    source: Literal["default", "database"]
    updated_at: Timestamp | None = Field(description="When it was stored; null for a default.")
    updated_by: str | None = Field(description="Who stored it; null for a default.")


# Named, so that the OpenAPI document (and clients generated from it) have readable names.
class TextSetting(SettingState[str]):
    pass


class FlagSetting(SettingState[bool]):
    pass


class QuotasSetting(SettingState[dict[str, int | None]]):
    pass


class RuntimeSettingsOut(OutputModel):
    default_plan: TextSetting
    plan_quotas: QuotasSetting
    rate_limit: TextSetting
    tenant_rate_limit: TextSetting
    narratives_enabled: FlagSetting
    email_from: TextSetting


class PlatformSettingsOut(OutputModel):
    runtime: RuntimeSettingsOut = Field(
        description="Changed with PATCH /admin/settings; every process applies a change within "
        "TUTELA_SETTINGS_REFRESH_SECONDS, without a restart."
    )
    startup: dict[str, Any] = Field(
        description="Every TUTELA_* setting as this process read it at start; secrets and "
        "passwords in URLs are shown as ********. Changed in the environment, with a restart."
    )
