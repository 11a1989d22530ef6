"""Evaluators for governance facts dated or listed in ways a field condition cannot compare.

``key_expiry`` compares a Key Vault key's expiry with the scan date; ``policy_initiative_assigned``
looks for any of a set of initiatives among a subscription's policy assignments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.engine.conditions import Context, Tri, property_value
from tutela.scanner.engine.evaluators import evaluator
from tutela.scanner.estate import UNKNOWN


def _expiry_date(value: Any) -> dt.date | None:
    """A key's ``attributes.exp`` (Unix seconds as ARM returns it, or ISO text) as a date."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, dt.UTC).date()
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return dt.datetime.fromtimestamp(int(text), dt.UTC).date()
            return dt.datetime.fromisoformat(text).date()
    except (ValueError, OverflowError, OSError):
        return None
    return None


@evaluator("key_expiry")
def key_expiry(ctx: Context, _params: dict[str, Any], as_of: dt.date) -> Tri:
    """Pass when the key has an expiry date that has not yet passed on the scan date."""
    attributes = property_value(ctx.resource.properties, "attributes")
    exp = property_value(attributes, "exp") if isinstance(attributes, dict) else None
    if exp is UNKNOWN:
        ctx.evidence.append(("properties.attributes.exp", "<unknown>"))
        return None
    if exp is None:
        ctx.evidence.append(("properties.attributes.exp", "<absent: the key never expires>"))
        return False
    expires = _expiry_date(exp)
    if expires is None:
        ctx.evidence.append(("properties.attributes.exp", f"{exp!r} (not a date)"))
        return None
    ctx.evidence.append(("properties.attributes.exp", f"{exp} ({expires.isoformat()})"))
    if expires <= as_of:
        ctx.evidence.append(("expired on", expires.isoformat()))
        return False
    return True


def _definition_guid(assignment: dict[str, Any]) -> Any:
    """The policyDefinitionId's last segment, lower-cased; UNKNOWN if unresolved."""
    props = property_value(assignment, "properties")
    definition_id = property_value(props, "policyDefinitionId") if isinstance(props, dict) else None
    if definition_id is UNKNOWN:
        return UNKNOWN
    if not isinstance(definition_id, str):
        return None
    return definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@evaluator("policy_initiative_assigned")
def policy_initiative_assigned(ctx: Context, params: dict[str, Any], _as_of: dt.date) -> Tri:
    """Pass when the subscription has an assignment of one of ``params.initiatives``.

    ``params.initiatives`` maps policySetDefinition GUIDs to display names. Assignments in
    DoNotEnforce mode count: these initiatives audit; POL-ENFORCEMENT-MODE reports enforcement.
    """
    assignments = ctx.resource.policy_assignments
    if assignments is None:
        ctx.evidence.append(("policyAssignments", "<not visible to this source>"))
        return None
    wanted = {str(guid).lower(): name for guid, name in params.get("initiatives", {}).items()}
    undecided = 0
    for assignment in assignments:
        guid = _definition_guid(assignment) if isinstance(assignment, dict) else None
        if guid is UNKNOWN:
            undecided += 1
        elif guid in wanted:
            name = assignment.get("name", "?")
            ctx.evidence.append((f"policyAssignments[{name}]", wanted[guid]))
            return True
    ctx.evidence.append(
        ("policyAssignments", f"{len(assignments)} assignment(s), none of the AI initiatives")
    )
    return None if undecided else False
