"""The house policy: the organisation's own model-risk settings that inventory checks apply.

SR 26-2 / OCC 2026-13 sets no fixed revalidation period and no list of risk tiers: it leaves
validation timing to each model's risk. The review periods and tier values the INV-* checks
use are therefore house policy, with defaults (those shipped in checks/model_inventory.yaml),
and a scan may apply another policy (docs/house-policy.md). So are the tag names the checks
read: the policy may name the organisation's own, tried before the shipped aliases.
``apply_house_policy`` returns a catalogue whose checks carry the policy; the engine reads it
like any catalogue.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from tutela.scanner.catalog.checks import CheckSpec
from tutela.scanner.catalog.loader import Catalog
from tutela.scanner.yaml_file import UnreadableYaml, read_yaml

MIN_DAYS: Final = 1
MAX_DAYS: Final = 3650  # ten years: a longer period is no review at all
MAX_TIERS: Final = 50
MAX_TIER_CHARS: Final = 256  # an Azure tag value's limit
MAX_TAG_KEYS: Final = 20  # extra tag names per inventory fact
MAX_TAG_KEY_CHARS: Final = 512  # an Azure tag name's limit (128 on storage accounts)
# Characters Azure refuses in a tag name.
TAG_KEY_FORBIDDEN: Final = frozenset("<>%&\\?/")

# The checks whose parameters the policy sets.
VALIDATION_DATE_CHECK: Final = "INV-VALIDATION-DATE"
RISK_TIER_CHECK: Final = "INV-RISK-TIER"
MODEL_OWNER_CHECK: Final = "INV-MODEL-OWNER"
MODEL_ID_CHECK: Final = "INV-MODEL-ID"
_INVENTORY_CHECKS: Final = frozenset(
    {VALIDATION_DATE_CHECK, RISK_TIER_CHECK, MODEL_OWNER_CHECK, MODEL_ID_CHECK}
)

Days = Annotated[int, Strict(), Field(ge=MIN_DAYS, le=MAX_DAYS)]
TierName = Annotated[str, Strict(), Field(min_length=1, max_length=MAX_TIER_CHARS)]
TagKey = Annotated[str, Strict(), Field(min_length=1, max_length=MAX_TAG_KEY_CHARS)]
TagKeys = Annotated[tuple[TagKey, ...], Field(max_length=MAX_TAG_KEYS)]


def _tier(name: str) -> str:
    if name != name.strip() or any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError("a risk tier is text without control characters or outer spaces")
    return name


def _tag_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    for key in keys:
        if key != key.strip() or any(unicodedata.category(c) == "Cc" for c in key):
            raise ValueError("a tag name is text without control characters or outer spaces")
        if TAG_KEY_FORBIDDEN.intersection(key):
            raise ValueError("a tag name cannot hold any of < > % & \\ ? / (Azure refuses them)")
    folded = [key.casefold() for key in keys]
    if len(set(folded)) != len(folded):
        raise ValueError("tag names must differ (without case, as Azure compares them)")
    return keys


class InventoryTagKeys(BaseModel):
    """The organisation's own tag names for each inventory fact, tried before the aliases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_owner: TagKeys = Field(
        default=(), description="Tag names of the model's owner (INV-MODEL-OWNER)."
    )
    risk_tier: TagKeys = Field(
        default=(),
        description="Tag names of the model's risk tier (INV-RISK-TIER, and the tier "
        "INV-VALIDATION-DATE picks a review period by).",
    )
    validation_date: TagKeys = Field(
        default=(), description="Tag names of the last validation date (INV-VALIDATION-DATE)."
    )
    model_id: TagKeys = Field(
        default=(), description="Tag names of the model inventory's id (INV-MODEL-ID)."
    )

    @field_validator("model_owner", "risk_tier", "validation_date", "model_id")
    @classmethod
    def _valid_keys(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        return _tag_keys(keys)


class HousePolicy(BaseModel):
    """The settings, each with its default; a policy file or body may give any of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    review_period_days: Days = Field(
        default=365,
        description="Days a model validation stays current when its risk tier has no period "
        "of its own. House policy: SR 26-2 sets no fixed period.",
    )
    review_period_days_by_tier: dict[TierName, Days] = Field(
        default_factory=lambda: {"tier-1": 180, "high": 180},
        max_length=MAX_TIERS,
        description="Review period per risk tier (tiers compare without case); tiers not "
        "named use review_period_days.",
    )
    risk_tiers: tuple[TierName, ...] = Field(
        default=("tier-1", "tier-2", "tier-3", "high", "medium", "low"),
        min_length=1,
        max_length=MAX_TIERS,
        description="The values a model-risk-tier tag may take (compared without case).",
    )
    inventory_tag_keys: InventoryTagKeys = Field(
        default_factory=InventoryTagKeys,
        description="Tag names of your own for each inventory fact, up to 20 each, tried "
        "before the aliases the checks accept (compared without case).",
    )

    @field_validator("risk_tiers")
    @classmethod
    def _distinct_tiers(cls, tiers: tuple[str, ...]) -> tuple[str, ...]:
        folded = [_tier(t).casefold() for t in tiers]
        if len(set(folded)) != len(folded):
            raise ValueError("risk tiers must differ (without case)")
        return tiers

    @field_validator("review_period_days_by_tier")
    @classmethod
    def _named_tiers(cls, periods: dict[str, int]) -> dict[str, int]:
        folded = [_tier(t).casefold() for t in periods]
        if len(set(folded)) != len(folded):
            raise ValueError("each tier may have one review period (tiers compare without case)")
        return periods

    @model_validator(mode="after")
    def _periods_for_known_tiers(self) -> HousePolicy:
        known = {t.casefold() for t in self.risk_tiers}
        if any(t.casefold() not in known for t in self.review_period_days_by_tier):
            # The tiers are not quoted: a server error never echoes what the caller sent.
            raise ValueError(
                "review_period_days_by_tier names a tier that is not in risk_tiers (by default "
                "it names tier-1 and high: give it with your own tiers)"
            )
        return self


DEFAULT_POLICY: Final = HousePolicy()


class HousePolicyError(ValueError):
    """A house policy file that cannot be read or is not a valid policy; one line to show."""


def describe_errors(error: ValidationError) -> str:
    """Pydantic's errors as one line, ``field: message; …``, never quoting the input."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "policy"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def read_house_policy(path: Path) -> HousePolicy:
    """A policy from a YAML or JSON file (JSON is YAML); HousePolicyError names what is wrong."""
    try:
        data: Any = read_yaml(path, "YAML or JSON")
    except UnreadableYaml as exc:
        raise HousePolicyError(str(exc)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HousePolicyError("must be a mapping of settings (e.g. review_period_days: 180)")
    try:
        return HousePolicy.model_validate(data)
    except ValidationError as exc:
        raise HousePolicyError(describe_errors(exc)) from None


def apply_house_policy(catalog: Catalog, policy: HousePolicy) -> Catalog:
    """A copy of the catalogue whose inventory checks apply the policy; the catalogue is kept.

    ``load_catalog()`` is cached and shared: neither it nor any of its parameters is changed.
    """
    checks = tuple(_applied(check, policy) for check in catalog.checks)
    return catalog.model_copy(update={"checks": checks})


def _applied(check: CheckSpec, policy: HousePolicy) -> CheckSpec:
    if check.id not in _INVENTORY_CHECKS:
        return check
    own = policy.inventory_tag_keys
    params = dict(check.params)
    if check.id == VALIDATION_DATE_CHECK:
        params["max_age_days"] = policy.review_period_days
        params["max_age_days_by_tier"] = dict(policy.review_period_days_by_tier)
        params["keys"] = _first(own.validation_date, params.get("keys", []))
        params["tier_keys"] = _first(own.risk_tier, params.get("tier_keys", []))
    elif check.id == RISK_TIER_CHECK:
        params["allowed"] = list(policy.risk_tiers)
        params["keys"] = _first(own.risk_tier, params["keys"])
    elif check.id == MODEL_OWNER_CHECK:
        params["keys"] = _first(own.model_owner, params["keys"])
    else:
        params["keys"] = _first(own.model_id, params["keys"])
    return check.model_copy(update={"params": params})


def _first(own: tuple[str, ...], aliases: list[str]) -> list[str]:
    """The organisation's tag names, then the shipped aliases it does not already name."""
    named = {key.casefold() for key in own}
    return [*own, *(key for key in aliases if key.casefold() not in named)]
