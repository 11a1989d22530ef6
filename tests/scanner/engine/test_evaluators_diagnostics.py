"""The diagnostic_logs evaluator: qualifying settings, and values a source could not resolve."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.scanner.engine.cases import make_resource
from tutela.scanner.engine.conditions import Context
from tutela.scanner.engine.evaluators import diagnostics
from tutela.scanner.engine.evaluators.diagnostics import diagnostic_logs
from tutela.scanner.estate import UNKNOWN, Estate, UnknownObject

LAW = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law"


def decide(settings: Any, **params: Any) -> bool | None:
    resource = make_resource({"type": "microsoft.keyvault/vaults"})
    resource.diagnostic_settings = settings  # as given: the case helper would rebuild objects
    return diagnostic_logs(Context(resource, Estate([resource])), params, dt.date(2026, 11, 23))


def setting(**properties: Any) -> dict[str, Any]:
    return {"name": "s", "properties": properties}


def test_a_wanted_category_or_group_sent_somewhere_passes() -> None:
    audit = setting(workspaceId=LAW, logs=[{"categoryGroup": "audit", "enabled": True}])
    assert decide([audit]) is True
    named = setting(storageAccountId=LAW, logs=[{"category": "AuditEvent", "enabled": "true"}])
    assert decide([named], categories=["AuditEvent"]) is True
    assert decide([named], categories=["Other"]) is False


def test_no_destination_or_disabled_logs_fail() -> None:
    assert decide([setting(logs=[{"categoryGroup": "audit", "enabled": True}])]) is False
    assert (
        decide([setting(workspaceId=LAW, logs=[{"categoryGroup": "audit", "enabled": False}])])
        is False
    )
    assert decide([]) is False


def test_unresolvable_parts_are_unknown_never_a_crash() -> None:
    assert decide(None) is None
    assert decide([setting(workspaceId=LAW, logs=UNKNOWN)]) is None
    assert (
        decide([setting(workspaceId=UNKNOWN, logs=[{"categoryGroup": "audit", "enabled": True}])])
        is None
    )
    assert decide([{"name": "s", "properties": UnknownObject()}]) is None
    assert (
        decide([setting(workspaceId=LAW, logs=[{"categoryGroup": "audit", "enabled": UNKNOWN}])])
        is None
    )
    # A qualifying setting wins over an unresolvable one.
    good = setting(workspaceId=LAW, logs=[{"categoryGroup": "allLogs", "enabled": True}])
    assert decide([setting(workspaceId=LAW, logs=UNKNOWN), good]) is True


def test_destinations_are_read_until_one_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first destination named decides; an unknown one before it does not."""
    read: list[str] = []
    property_value = diagnostics.property_value

    def recorded(obj: Any, key: str, default: Any = None) -> Any:
        read.append(key)
        return property_value(obj, key, default)

    monkeypatch.setattr(diagnostics, "property_value", recorded)
    logs = [{"categoryGroup": "audit", "enabled": True}]
    assert decide([setting(workspaceId=LAW, storageAccountId=LAW, logs=logs)]) is True
    assert "storageAccountId" not in read
    assert decide([setting(workspaceId=UNKNOWN, storageAccountId=LAW, logs=logs)]) is True
    assert decide([setting(workspaceId=UNKNOWN, storageAccountId="", logs=logs)]) is None
    assert decide([setting(storageAccountId="", logs=logs)]) is False
