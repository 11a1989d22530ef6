"""GET/PUT /tenant/house-policy bodies: the settings, their defaults, and what changes them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt, StrictStr

from tutela.scanner.catalog.house_policy import (
    MAX_DAYS,
    MAX_TAG_KEY_CHARS,
    MAX_TAG_KEYS,
    MAX_TIER_CHARS,
    MAX_TIERS,
    MIN_DAYS,
)
from tutela.server.schemas import InputModel, OutputModel, Timestamp

HOUSE_POLICY = (
    "House policy, not a regulatory requirement: SR 26-2 / OCC 2026-13 sets no fixed "
    "revalidation period and no list of risk tiers."
)

Days = Annotated[StrictInt, Field(ge=MIN_DAYS, le=MAX_DAYS)]
TierName = Annotated[StrictStr, Field(min_length=1, max_length=MAX_TIER_CHARS)]
TagKey = Annotated[StrictStr, Field(min_length=1, max_length=MAX_TAG_KEY_CHARS)]
TagKeys = Annotated[list[TagKey], Field(max_length=MAX_TAG_KEYS)]

_TAG_KEYS = (
    f"Up to {MAX_TAG_KEYS} tag names of {MAX_TAG_KEY_CHARS} characters at most (Azure's limit), "
    "distinct without case, none holding < > % & \\ ? /; tried before the aliases the check "
    "accepts."
)


class InventoryTagKeys(OutputModel):
    """Your own tag names for each inventory fact, tried before the checks' aliases."""

    model_owner: list[str] = Field(description="The model's owner (INV-MODEL-OWNER).")
    risk_tier: list[str] = Field(
        description="The model's risk tier (INV-RISK-TIER, and the tier INV-VALIDATION-DATE "
        "picks a review period by)."
    )
    validation_date: list[str] = Field(
        description="The date of the last validation (INV-VALIDATION-DATE)."
    )
    model_id: list[str] = Field(description="The model inventory's id (INV-MODEL-ID).")


class InventoryTagKeysUpdate(InputModel):
    """The tag names to use; a list left out is empty."""

    model_owner: TagKeys = Field(default_factory=list, description=_TAG_KEYS)
    risk_tier: TagKeys = Field(default_factory=list, description=_TAG_KEYS)
    validation_date: TagKeys = Field(default_factory=list, description=_TAG_KEYS)
    model_id: TagKeys = Field(default_factory=list, description=_TAG_KEYS)


class HousePolicySettings(OutputModel):
    review_period_days: int = Field(
        description="Days a model validation stays current (INV-VALIDATION-DATE) when its "
        "risk tier has no period of its own."
    )
    review_period_days_by_tier: dict[str, int] = Field(
        description="The review period of each named risk tier (compared without case)."
    )
    risk_tiers: list[str] = Field(
        description="The values a model-risk-tier tag may take (INV-RISK-TIER), without case."
    )
    inventory_tag_keys: InventoryTagKeys = Field(
        description="Tag names of your own the inventory checks read, before their aliases."
    )


class HousePolicyOut(HousePolicySettings):
    """The settings your scans apply, and the defaults they replace."""

    customised: bool = Field(description="Whether any setting differs from its default.")
    updated_at: Timestamp | None = Field(description="Last change; null while never set.")
    defaults: HousePolicySettings
    basis: str = Field(default=HOUSE_POLICY, description="What these settings are.")


class HousePolicyUpdate(InputModel):
    """The settings to change; those left out keep their current value."""

    review_period_days: Days | None = Field(
        default=None, description=f"{MIN_DAYS} to {MAX_DAYS} days. {HOUSE_POLICY}"
    )
    review_period_days_by_tier: dict[TierName, Days] | None = Field(
        default=None,
        max_length=MAX_TIERS,
        description="Replaces the whole map; every tier named must be one of risk_tiers.",
    )
    risk_tiers: list[TierName] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TIERS,
        description="Replaces the whole list; distinct without case.",
    )
    inventory_tag_keys: InventoryTagKeysUpdate | None = Field(
        default=None,
        description="Replaces all four lists (a list left out is empty): the tag names of your "
        "own for each inventory fact.",
    )
