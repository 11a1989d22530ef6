"""Evaluators over AKS node pools, which a cluster may declare in two places."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.engine.conditions import Context, Tri, compile_condition, property_value
from tutela.scanner.engine.evaluators import evaluator
from tutela.scanner.estate import UNKNOWN

AGENT_POOL_TYPE = "microsoft.containerservice/managedclusters/agentpools"


def node_pools(ctx: Context) -> tuple[list[tuple[str, Any]], bool]:
    """(pool name, pool properties) for every declaration of a pool, and whether the list is whole.

    A cluster lists its pools inline (``properties.agentPoolProfiles``); templates and Terraform
    plans may also declare pools as ``…/managedClusters/c/agentPools/p`` resources. Both are read,
    and a pool declared in both places is judged on each declaration.
    """
    cluster = ctx.resource
    profiles = property_value(cluster.properties, "agentPoolProfiles")
    pools: list[tuple[str, Any]] = []
    if isinstance(profiles, list):
        for index, profile in enumerate(profiles):
            name = property_value(profile, "name") if isinstance(profile, dict) else None
            pools.append((str(name or f"#{index}"), profile))
    for child in ctx.estate.of_type(AGENT_POOL_TYPE):
        parent_id = child.parent_id
        if parent_id is not None and parent_id.lower() == cluster.key:
            pools.append((child.name, child.properties))
    return pools, profiles is not UNKNOWN


@evaluator("agent_pools")
def agent_pools(ctx: Context, params: dict[str, Any], _as_of: dt.date) -> Tri:
    """Pass when every node pool of the cluster meets ``params.condition``.

    The condition is read from each pool's properties (``{field: enableNodePublicIP, equals:
    false, default: false}``). One failing pool fails the cluster; a cluster with no visible
    pool, or whose inline pool list the source could not resolve, is unknown unless a pool fails.
    """
    condition = compile_condition(params["condition"], relative=True)
    pools, complete = node_pools(ctx)
    if not pools:
        ctx.evidence.append(("agentPoolProfiles", "<no node pools visible>"))
        return None
    outcome: Tri = True if complete else None
    for name, properties in pools:
        scratch = Context(ctx.resource, ctx.estate, [])
        result = condition(scratch, properties)
        for path, value in scratch.evidence:
            ctx.evidence.append((path.replace("[*]", f"agentPools[{name}]", 1), value))
        if result is False:
            outcome = False
        elif result is None and outcome is True:
            outcome = None
    return outcome
