"""Proof that a declared fix works: the failing resource, fixed as declared, passes its check."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.engine.fixes import apply_fix
from tutela.scanner.estate import Estate, Resource

AS_OF = dt.date(2026, 12, 7)


def status(estate: Estate, check_id: str, resource_id: str) -> str:
    check = load_catalog().check(check_id)
    for result in evaluate_estate(estate, [check], as_of=AS_OF):
        if result.resource.id.lower() == resource_id.lower():
            return result.status
    raise AssertionError(f"{check_id} did not run on {resource_id}")


def assert_fix_passes(
    check_id: str,
    resources: list[Resource],
    failing_id: str,
    params: Mapping[str, Any] | None = None,
) -> Estate:
    """The check fails on ``failing_id``; after its declared fix it passes. The fixed estate."""
    estate = Estate(copy.deepcopy(resources))
    assert status(estate, check_id, failing_id) == "fail", f"{check_id} should fail first"
    fix = load_catalog().check(check_id).fix
    assert fix is not None, f"{check_id} declares no fix"
    assert not fix.manual, f"{check_id} declares a manual fix, not a configuration one"
    resource = estate.get(failing_id)
    assert resource is not None
    apply_fix(estate, resource, fix, params)
    assert status(estate, check_id, failing_id) == "pass", f"{check_id} still fails once fixed"
    return estate


def fixed_property(estate: Estate, resource_id: str, path: tuple[str, ...]) -> Any:
    """The value at ``path`` under the properties of ``resource_id`` in a fixed estate."""
    resource = estate.get(resource_id)
    assert resource is not None, f"{resource_id} is not in the fixed estate"
    value: Any = resource.properties
    for step in path:
        value = value[step]
    return value
