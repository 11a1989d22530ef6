"""Evaluators over diagnostic settings (not expressible as one field condition)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.engine.conditions import Context, Tri, property_value
from tutela.scanner.engine.evaluators import evaluator
from tutela.scanner.estate import UNKNOWN, UnknownObject

_DESTINATIONS = (
    "workspaceId",
    "storageAccountId",
    "eventHubAuthorizationRuleId",
    "marketplacePartnerId",
)


def _qualifies(setting: Any, wanted: set[str], groups: set[str]) -> Tri:
    """Whether one diagnostic setting sends a wanted log somewhere (None: cannot tell)."""
    if not isinstance(setting, dict):
        return None
    props = property_value(setting, "properties", setting)
    if props is UNKNOWN or type(props) is UnknownObject or not isinstance(props, dict):
        return None
    # One destination is enough: the others are not read (each absent one would cost a search
    # of the keys without case, and most settings name one destination of four).
    unknown_destination = False
    for name in _DESTINATIONS:
        destination = property_value(props, name)
        if destination is UNKNOWN:
            unknown_destination = True
        elif destination:
            break
    else:
        return None if unknown_destination else False
    logs = property_value(props, "logs", [])
    if not isinstance(logs, list):
        return None
    undecided = False
    for log in logs:
        if not isinstance(log, dict):
            undecided = True
            continue
        enabled, category, group = (
            property_value(log, name) for name in ("enabled", "category", "categoryGroup")
        )
        if UNKNOWN in (enabled, category, group):
            undecided = True
            continue
        if str(enabled).lower() != "true":
            continue
        if str(group or "").casefold() in groups:
            return True
        if category and (not wanted or str(category).casefold() in wanted):
            return True
    return None if undecided else False


@evaluator("diagnostic_logs")
def diagnostic_logs(ctx: Context, params: dict[str, Any], _as_of: dt.date) -> Tri:
    """Pass when a diagnostic setting sends enabled logs somewhere.

    ``params.categories``: any of these categories (or a category group in
    ``params.category_groups``, default audit / allLogs) must be enabled.
    """
    settings = ctx.resource.diagnostic_settings
    if settings is None:
        ctx.evidence.append(("diagnosticSettings", "<not visible to this source>"))
        return None
    wanted = {c.casefold() for c in params.get("categories", [])}
    groups = {g.casefold() for g in params.get("category_groups", ["audit", "allLogs"])}
    undecided = False
    for setting in settings:
        verdict = _qualifies(setting, wanted, groups)
        if verdict is True:
            name = setting.get("name", "?") if isinstance(setting, dict) else "?"
            ctx.evidence.append((f"diagnosticSettings[{name}].logs", "enabled"))
            return True
        undecided = undecided or verdict is None
    if undecided:
        ctx.evidence.append(("diagnosticSettings", "a setting could not be resolved"))
        return None
    for setting in settings:
        name = setting.get("name", "?") if isinstance(setting, dict) else "?"
        ctx.evidence.append((f"diagnosticSettings[{name}]", _shortfall(setting)))
    ctx.evidence.append(("diagnosticSettings", f"{len(settings)} setting(s), none qualifying"))
    return False


def _enabled(entries: Any) -> list[dict[str, Any]]:
    listed = entries if isinstance(entries, list) else []
    return [
        e
        for e in listed
        if isinstance(e, dict) and str(property_value(e, "enabled")).lower() == "true"
    ]


def _shortfall(setting: dict[str, Any]) -> str:
    """Why a setting (already judged not to qualify) sends none of the wanted logs."""
    props = property_value(setting, "properties", setting)
    if not any(property_value(props, name) for name in _DESTINATIONS):
        return "no destination"
    if _enabled(property_value(props, "logs")):
        return "logs, but none of the wanted categories"
    if _enabled(property_value(props, "metrics")):
        return "metrics only, no logs"
    return "no enabled logs"
