"""Edge cases of the Azure AI evaluators that the YAML check cases do not reach."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tutela.scanner.engine.conditions import Context, Tri
from tutela.scanner.engine.evaluators import EVALUATORS
from tutela.scanner.estate import UNKNOWN, Estate, Resource
from tutela.scanner.sources.relate import relate

AS_OF = dt.date(2026, 11, 23)
RG = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
ACCOUNT = f"{RG}/providers/Microsoft.CognitiveServices/accounts/oai"
DEPLOYMENT_TYPE = "microsoft.cognitiveservices/accounts/deployments"
ALL_BLOCKING = [
    {"name": name, "enabled": True, "blocking": True, "source": source}
    for name in ("hate", "sexual", "violence", "selfharm")
    for source in ("Prompt", "Completion")
] + [{"name": "jailbreak", "enabled": True, "blocking": True, "source": "Prompt"}]


def _run(name: str, target: Resource, *others: Resource, **params: Any) -> tuple[Tri, Context]:
    ctx = Context(target, Estate([target, *others]), [])
    return EVALUATORS[name](ctx, params, AS_OF), ctx


def _deployment(policy_name: Any) -> Resource:
    return Resource(
        id=f"{ACCOUNT}/deployments/gpt",
        type=DEPLOYMENT_TYPE,
        name="gpt",
        properties={"raiPolicyName": policy_name},
    )


def _policy(**properties: Any) -> Resource:
    return Resource(
        id=f"{ACCOUNT}/raiPolicies/custom",
        type="microsoft.cognitiveservices/accounts/raipolicies",
        name="custom",
        properties=properties,
    )


def _filters(**changes: Any) -> list[dict[str, Any]]:
    """Every required filter blocking, with ``hate`` on prompts changed as given."""
    filters = [dict(f) for f in ALL_BLOCKING]
    filters[0].update(changes)
    return filters


def test_filter_names_match_without_case_or_separators() -> None:
    renamed = [{**f, "name": "Self_Harm"} if f["name"] == "selfharm" else f for f in ALL_BLOCKING]
    policy = _policy(basePolicyName="Microsoft.Default", contentFilters=renamed)
    result, _ = _run("rai_content_filters", _deployment("custom"), policy)
    assert result is True


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"enabled": "false"}, False),
        ({"blocking": False}, False),
        ({"blocking": UNKNOWN}, None),
        ({"enabled": None}, None),
    ],
)
def test_one_filter_decides_the_policy(changes: dict[str, Any], expected: Tri) -> None:
    policy = _policy(basePolicyName="Microsoft.Default", contentFilters=_filters(**changes))
    result, _ = _run("rai_content_filters", _deployment("custom"), policy)
    assert result is expected


def test_a_failing_filter_outweighs_an_unknown_mode() -> None:
    filters = _filters(enabled=False)
    policy = _policy(mode=UNKNOWN, basePolicyName="Microsoft.Default", contentFilters=filters)
    result, _ = _run("rai_content_filters", _deployment("custom"), policy)
    assert result is False


def test_deferred_mode_fails_even_with_every_filter_blocking() -> None:
    policy = _policy(mode="Deferred", basePolicyName="Microsoft.Default", contentFilters=_filters())
    result, ctx = _run("rai_content_filters", _deployment("custom"), policy)
    assert result is False
    assert ("raiPolicies/custom.mode", "Deferred") in ctx.evidence


def test_a_left_out_filter_is_unknown_without_a_default_base_policy() -> None:
    policy = _policy(contentFilters=[f for f in ALL_BLOCKING if f["name"] != "jailbreak"])
    result, ctx = _run("rai_content_filters", _deployment("custom"), policy)
    assert result is None
    assert any("jailbreak/Prompt" in path for path, _ in ctx.evidence)


def test_params_choose_the_required_filters() -> None:
    policy = _policy(basePolicyName="Microsoft.Default", contentFilters=_filters(enabled=False))
    result, _ = _run(
        "rai_content_filters", _deployment("custom"), policy, harm_filters=["violence"]
    )
    assert result is True


def test_policy_names_compare_without_case() -> None:
    assert _run("rai_content_filters", _deployment("microsoft.nil"))[0] is False
    assert _run("rai_content_filters", _deployment("MICROSOFT.DEFAULT"))[0] is True


def _workspace(**properties: Any) -> Resource:
    return Resource(
        id=f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/ws",
        type="microsoft.machinelearningservices/workspaces",
        name="ws",
        properties=properties,
    )


def _endpoint(kind: str, *connections: dict[str, Any]) -> Resource:
    return Resource(
        id=f"{RG}/providers/Microsoft.Network/privateEndpoints/pe",
        type="microsoft.network/privateendpoints",
        name="pe",
        properties={kind: list(connections)},
    )


def _to_workspace(status: Any = None) -> dict[str, Any]:
    props: dict[str, Any] = {"privateLinkServiceId": _workspace().id.upper()}
    if status is not None:
        props["privateLinkServiceConnectionState"] = {"status": status}
    return {"name": "c", "properties": props}


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("privateLinkServiceConnections", None, True),
        ("privateLinkServiceConnections", "Rejected", False),
        ("manualPrivateLinkServiceConnections", None, False),
        ("manualPrivateLinkServiceConnections", UNKNOWN, None),
    ],
)
def test_declared_private_endpoints(kind: str, status: Any, expected: Tri) -> None:
    """Endpoints a template or plan declares reach the check through the sources' relating."""
    related = relate(
        [_workspace(), _endpoint(kind, _to_workspace(status))],
        sees_diagnostics=True,
        sees_access=True,
        sees_security=False,
        sees_policy=False,
    )
    workspace = next(r for r in related if r.type == "microsoft.machinelearningservices/workspaces")
    result, ctx = _run("approved_private_endpoint", workspace)
    assert result is expected
    assert any(path.startswith("properties.privateEndpointConnections") for path, _ in ctx.evidence)


def test_flattened_connections_count() -> None:
    flat = {"privateLinkServiceConnectionState": {"status": "Approved"}}
    result, _ = _run("approved_private_endpoint", _workspace(privateEndpointConnections=[flat]))
    assert result is True


def test_an_approved_connection_wins_over_an_unknown_endpoint() -> None:
    unknown_endpoint = _endpoint("privateLinkServiceConnections", {"properties": UNKNOWN})
    approved = {"properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}
    workspace = _workspace(privateEndpointConnections=[approved])
    result, _ = _run("approved_private_endpoint", workspace, unknown_endpoint)
    assert result is True
