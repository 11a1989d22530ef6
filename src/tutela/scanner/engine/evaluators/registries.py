"""Evaluators over container registries and their replications, which are resources of their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.engine.conditions import Context, Tri, property_value
from tutela.scanner.engine.evaluators import evaluator
from tutela.scanner.estate import UNKNOWN, Resource

REPLICATION_TYPE = "microsoft.containerregistry/registries/replications"


def _region(location: Any) -> Any:
    """A location compared as ARM compares regions: "West Europe" is "westeurope"."""
    if isinstance(location, str):
        return location.replace(" ", "").casefold()
    return location


def _shown(value: Any) -> Any:
    return "<unknown>" if value is UNKNOWN else "<absent>" if value is None else value


def _replications(ctx: Context) -> list[Resource]:
    """The registry's replications, from an index of them by registry made once per scan."""
    by_registry = ctx.estate.memo.get(REPLICATION_TYPE)
    if by_registry is None:
        by_registry = {}
        for child in ctx.estate.of_type(REPLICATION_TYPE):
            by_registry.setdefault((child.parent_id or "").lower(), []).append(child)
        ctx.estate.memo[REPLICATION_TYPE] = by_registry
    replicas: list[Resource] = by_registry.get(ctx.resource.key, [])
    return replicas


@evaluator("geo_replicas")
def geo_replicas(ctx: Context, _params: dict[str, Any], _as_of: dt.date) -> Tri:
    """Pass when the registry is Premium and has a replication outside its own region.

    Replications are ``…/registries/r/replications/<name>`` resources. A Premium registry with
    none is failed only when the input shows replications at all (it holds at least one, of any
    registry): an input with none is taken not to have looked, as Resource Graph exports are for
    related facts, and the registry is unknown. A replication in the registry's own region (the
    home replica ARM lists) does not count.
    """
    registry = ctx.resource
    sku = property_value(registry.sku, "name") if isinstance(registry.sku, dict) else None
    ctx.evidence.append(("sku.name", _shown(sku)))
    if sku is UNKNOWN or sku is None:
        return None
    if str(sku).casefold() != "premium":
        return False
    home = _region(registry.location)
    replications = _replications(ctx)
    unknown = False
    for replication in replications:
        region = _region(replication.location)
        ctx.evidence.append((f"replications[{replication.name}].location", _shown(region)))
        if region is None or region is UNKNOWN or home is None:
            unknown = True
        elif region != home:
            return True
    if unknown:
        return None
    if not replications and not ctx.estate.of_type(REPLICATION_TYPE):
        ctx.evidence.append(("replications", "<not in the input>"))
        return None
    ctx.evidence.append(("replications", f"none outside {home}"))
    return False
