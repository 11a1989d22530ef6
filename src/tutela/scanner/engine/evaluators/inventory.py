"""Evaluators over the model-inventory tags of AI resources (catalog/checks/model_inventory.yaml).

A tag is read under any of the check's accepted keys, without case. A model deployment or an
online endpoint without the tag inherits it from its parent account or workspace; its own tag
wins, and with no tag and no parent in the scan the value is unknown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from tutela.scanner.engine.conditions import Context, Tri
from tutela.scanner.engine.evaluators import evaluator
from tutela.scanner.estate import UNKNOWN, Resource

# Child types whose tag support varies by API version, so teams tag the parent instead.
INHERITS_FROM_PARENT: Final = frozenset(
    {
        "microsoft.cognitiveservices/accounts/deployments",
        "microsoft.machinelearningservices/workspaces/onlineendpoints",
    }
)


def _find(ctx: Context, resource: Resource, keys: Sequence[str]) -> tuple[str, Any] | None:
    """(tag name, value) of the first accepted key present on the resource, keys in order."""
    tags: Any = resource.tags
    if tags is UNKNOWN:  # a plan whose tags are known only after apply
        return "*", UNKNOWN
    if not tags:
        return None
    # Several inventory checks read each resource's tags: fold their names once per scan.
    memo_key = ("folded_tags", id(resource))  # the estate keeps its resources alive
    folded: dict[str, str] | None = ctx.estate.memo.get(memo_key)
    if folded is None:
        folded = ctx.estate.memo[memo_key] = {name.casefold(): name for name in tags}
    for key in keys:
        name = folded.get(key.casefold())
        if name is not None:
            return name, tags[name]
    return None


def _text(value: Any) -> str | None:
    """The tag value as stripped text; None when it is empty (an empty tag records nothing)."""
    text = str(value).strip() if value is not None else ""
    return text or None


def tag_value(ctx: Context, keys: Sequence[str]) -> Any:
    """The tag's value, from the resource or (for a deployment / endpoint) its parent.

    None when no accepted key is present; ``UNKNOWN`` when the value or the parent is unknown.
    """
    resource = ctx.resource
    named = ", ".join(keys)
    found, where = _find(ctx, resource, keys), "tags"
    if found is None and resource.type in INHERITS_FROM_PARENT:
        parent = ctx.estate.parent(resource)
        if parent is None:
            ctx.evidence.append(("tags", f"none of {named}; parent not in this scan"))
            return UNKNOWN
        found, where = _find(ctx, parent, keys), "parent.tags"
    if found is None:
        ctx.evidence.append(
            ("tags", f"none of {named}" + (" here or on the parent" if where != "tags" else ""))
        )
        return None
    ctx.evidence.append((f"{where}.{found[0]}", _shown(found[1])))
    return found[1]


def _shown(value: Any) -> Any:
    return "<unknown>" if value is UNKNOWN else value


@evaluator("inventory_tag")
def inventory_tag(ctx: Context, params: dict[str, Any], _as_of: dt.date) -> Tri:
    """Pass when a tag under ``params.keys`` has a value, one of ``params.allowed`` if given."""
    value = tag_value(ctx, params["keys"])
    if value is UNKNOWN:
        return None
    text = _text(value)
    if text is None:
        return False
    allowed = [str(a) for a in params.get("allowed", [])]
    if allowed and text.casefold() not in {a.casefold() for a in allowed}:
        ctx.evidence.append(("allowed values", ", ".join(allowed)))
        return False
    return True


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _review_periods(ctx: Context, params: dict[str, Any]) -> list[int]:
    """The review period for the model's risk tier; every candidate when the tier is unknown."""
    default = int(params.get("max_age_days", 365))
    by_tier = {str(k).casefold(): int(v) for k, v in params.get("max_age_days_by_tier", {}).items()}
    tier_keys = params.get("tier_keys")
    if not by_tier or not tier_keys:
        return [default]
    tier = tag_value(ctx, tier_keys)
    if tier is UNKNOWN:
        return sorted({default, *by_tier.values()})
    text = _text(tier)
    return [by_tier.get(text.casefold(), default) if text else default]


@evaluator("model_validation_date")
def model_validation_date(ctx: Context, params: dict[str, Any], as_of: dt.date) -> Tri:
    """Pass when the validation-date tag is an ISO date, not in the future and within review.

    The review period is ``params.max_age_days`` (default 365), or the period for the model's
    tier in ``params.max_age_days_by_tier``, the tier read from a tag under ``params.tier_keys``.
    """
    value = tag_value(ctx, params["keys"])
    if value is UNKNOWN:
        return None
    text = _text(value)
    if text is None:
        return False
    validated = _iso_date(text)
    if validated is None:
        ctx.evidence.append(("validation date", f"{text!r} is not an ISO date (YYYY-MM-DD)"))
        return False
    if validated > as_of:
        ctx.evidence.append(("validation date", f"{validated.isoformat()} is in the future"))
        return False
    age = (as_of - validated).days
    periods = _review_periods(ctx, params)
    ctx.evidence.append(("days since validation", age))
    ctx.evidence.append(("review period (days)", periods[0] if len(periods) == 1 else periods))
    if age <= periods[0]:
        return True
    if age > periods[-1]:
        return False
    return None
