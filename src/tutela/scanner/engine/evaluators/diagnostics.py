"""Evaluators over diagnostic settings (not expressible as one field condition)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.engine.conditions import Context, Tri
from tutela.scanner.engine.evaluators import evaluator


def _enabled_logs(setting: dict[str, Any]) -> list[dict[str, Any]]:
    logs = (setting.get("properties") or {}).get("logs") or setting.get("logs") or []
    return [
        log for log in logs if isinstance(log, dict) and str(log.get("enabled")).lower() == "true"
    ]


def _has_destination(setting: dict[str, Any]) -> bool:
    props = setting.get("properties") or setting
    return any(
        props.get(name)
        for name in (
            "workspaceId",
            "storageAccountId",
            "eventHubAuthorizationRuleId",
            "marketplacePartnerId",
        )
    )


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
    for setting in settings:
        if not _has_destination(setting):
            continue
        for log in _enabled_logs(setting):
            category = str(log.get("category") or "").casefold()
            group = str(log.get("categoryGroup") or "").casefold()
            if group in groups or (category and (not wanted or category in wanted)):
                name = setting.get("name", "?")
                ctx.evidence.append((f"diagnosticSettings[{name}].logs", category or group))
                return True
    ctx.evidence.append(("diagnosticSettings", f"{len(settings)} setting(s), none qualifying"))
    return False
