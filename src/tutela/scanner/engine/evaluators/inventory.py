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
from tutela.scanner.estate import UNKNOWN, Estate, Resource

# Child types whose tag support varies by API version, so teams tag the parent instead.
INHERITS_FROM_PARENT: Final = frozenset(
    {
        "microsoft.cognitiveservices/accounts/deployments",
        "microsoft.machinelearningservices/workspaces/onlineendpoints",
    }
)


class _Seen:
    """What the inventory checks read of the resources, worked out once per scan.

    Four checks read the tags of every AI resource (22,000 in a 100,000-resource scan), and of
    a deployment's or endpoint's parent: each resource's tag names are folded once, its parent
    found once (``Estate.parent`` parses the id), and each check's keys and values folded once.
    """

    __slots__ = ("folded", "parents", "words")

    def __init__(self) -> None:
        self.folded: dict[Resource, dict[str, str]] = {}  # the estate keeps its resources alive
        self.parents: dict[Resource, Resource | None] = {}
        # id of a check's keys or values → (them, folded, named); kept to tell a reused id.
        self.words: dict[int, tuple[Sequence[Any], tuple[str, ...], str]] = {}

    @staticmethod
    def of(estate: Estate) -> _Seen:
        seen: _Seen | None = estate.memo.get(_Seen)
        if seen is None:
            seen = estate.memo[_Seen] = _Seen()
        return seen

    def folded_words(self, words: Sequence[Any]) -> tuple[tuple[str, ...], str]:
        """A check's list of keys or values as text folded, in order, and named (``a, b, c``)."""
        known = self.words.get(id(words))
        if known is None or known[0] is not words:
            texts = [str(word) for word in words]
            folded = tuple(text.casefold() for text in texts)
            known = self.words[id(words)] = (words, folded, ", ".join(texts))
        return known[1], known[2]

    def parent(self, estate: Estate, resource: Resource) -> Resource | None:
        if resource in self.parents:
            return self.parents[resource]
        parent = self.parents[resource] = estate.parent(resource)
        return parent


def _find(seen: _Seen, resource: Resource, folded_keys: Sequence[str]) -> tuple[str, Any] | None:
    """(tag name, value) of the first accepted key present on the resource, keys in order."""
    tags: Any = resource.tags
    if tags is UNKNOWN:  # a plan whose tags are known only after apply
        return "*", UNKNOWN
    if not tags:
        return None
    folded = seen.folded.get(resource)
    if folded is None:
        folded = seen.folded[resource] = {name.casefold(): name for name in tags}
    for key in folded_keys:
        name = folded.get(key)
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
    seen = _Seen.of(ctx.estate)
    folded_keys, named = seen.folded_words(keys)
    found, where = _find(seen, resource, folded_keys), "tags"
    if found is None and resource.type in INHERITS_FROM_PARENT:
        parent = seen.parent(ctx.estate, resource)
        if parent is None:
            ctx.evidence.append(("tags", f"none of {named}; parent not in this scan"))
            return UNKNOWN
        found, where = _find(seen, parent, folded_keys), "parent.tags"
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
    allowed = params.get("allowed")
    if allowed:
        folded, named = _Seen.of(ctx.estate).folded_words(allowed)
        if text.casefold() not in folded:
            ctx.evidence.append(("allowed values", named))
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
    # "house": the period is the organisation's policy (catalog/house_policy.py), not a rule
    # of SR 26-2, and the auditor sees the value this scan applied.
    ctx.evidence.append(
        ("house review period (days)", periods[0] if len(periods) == 1 else periods)
    )
    if age <= periods[0]:
        return True
    if age > periods[-1]:
        return False
    return None
