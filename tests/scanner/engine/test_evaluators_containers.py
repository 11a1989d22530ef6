"""The agent_pools evaluator: node pools declared inline and as child resources."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.engine.conditions import Context
from tutela.scanner.engine.evaluators import EVALUATORS
from tutela.scanner.engine.evaluators.containers import AGENT_POOL_TYPE
from tutela.scanner.estate import UNKNOWN, Estate, Resource

AS_OF = dt.date(2026, 11, 23)
GROUP = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
CLUSTER_ID = f"{GROUP}/providers/Microsoft.ContainerService/managedClusters/aks"
NO_PUBLIC_IP = {"condition": {"field": "enableNodePublicIP", "equals": False, "default": False}}


def _cluster(pools: Any, cluster_id: str = CLUSTER_ID) -> Resource:
    return Resource(
        id=cluster_id,
        type="microsoft.containerservice/managedclusters",
        name=cluster_id.rsplit("/", 1)[-1],
        properties={"agentPoolProfiles": pools},
    )


def _pool(name: str, public_ip: Any, cluster_id: str = CLUSTER_ID) -> Resource:
    return Resource(
        id=f"{cluster_id}/agentPools/{name}",
        type=AGENT_POOL_TYPE,
        name=name,
        properties={"enableNodePublicIP": public_ip},
    )


def _run(cluster: Resource, *others: Resource) -> tuple[bool | None, list[tuple[str, Any]]]:
    ctx = Context(cluster, Estate([cluster, *others]))
    result = EVALUATORS["agent_pools"](ctx, NO_PUBLIC_IP, AS_OF)
    return result, ctx.evidence


def test_a_failing_pool_names_itself_in_the_evidence() -> None:
    result, evidence = _run(
        _cluster([{"name": "system"}, {"name": "gpu", "enableNodePublicIP": True}])
    )
    assert result is False
    assert ("agentPools[gpu].enableNodePublicIP", True) in evidence
    assert any(path == "agentPools[system].enableNodePublicIP" for path, _ in evidence)


def test_pools_of_another_cluster_are_not_counted() -> None:
    other = f"{GROUP}/providers/Microsoft.ContainerService/managedClusters/other"
    result, _ = _run(_cluster([{"name": "system"}]), _cluster([], other), _pool("gpu", True, other))
    assert result is True


def test_child_pool_ids_match_without_case() -> None:
    lower_child = _pool("gpu", True, CLUSTER_ID.lower())
    result, _ = _run(_cluster([{"name": "system"}]), lower_child)
    assert result is False


def test_a_pool_declared_twice_is_judged_on_each_declaration() -> None:
    result, _ = _run(_cluster([{"name": "gpu", "enableNodePublicIP": False}]), _pool("gpu", True))
    assert result is False


def test_an_unresolved_pool_list_is_unknown_unless_a_visible_pool_fails() -> None:
    assert _run(_cluster(UNKNOWN), _pool("gpu", False))[0] is None
    assert _run(_cluster(UNKNOWN), _pool("gpu", True))[0] is False


def test_an_unknown_value_is_unknown_but_a_failure_elsewhere_still_fails() -> None:
    assert _run(_cluster([{"name": "a", "enableNodePublicIP": UNKNOWN}]))[0] is None
    pools = [
        {"name": "a", "enableNodePublicIP": UNKNOWN},
        {"name": "b", "enableNodePublicIP": True},
    ]
    assert _run(_cluster(pools))[0] is False


def test_no_visible_pool_is_unknown() -> None:
    result, evidence = _run(_cluster([]))
    assert result is None
    assert evidence == [("agentPoolProfiles", "<no node pools visible>")]


def test_unnamed_inline_pools_are_numbered() -> None:
    _, evidence = _run(_cluster([{"enableNodePublicIP": False}]))
    assert evidence[0][0] == "agentPools[#0].enableNodePublicIP"
