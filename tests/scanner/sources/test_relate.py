"""Relating settings, role and policy assignments, pricings and endpoints to resources."""

from __future__ import annotations

from typing import Any

from tutela.scanner.estate import SUBSCRIPTION_TYPE, Resource
from tutela.scanner.sources.relate import relate

SUB = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"
OTHER_SUB = "b7d9e0c2-41f3-4a8e-8d26-5c1f7a3e9b04"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod"
ACCOUNT = f"{RG}/providers/Microsoft.CognitiveServices/accounts/oai-prod"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-prod"
ENDPOINT = f"{RG}/providers/Microsoft.Network/privateEndpoints/pe-oai"


def _resource(
    resource_id: str, resource_type: str, sub: str | None = SUB, **properties: Any
) -> Resource:
    return Resource(
        id=resource_id,
        type=resource_type,
        name=resource_id.rsplit("/", 1)[-1],
        subscription_id=sub,
        properties=properties,
    )


def _account() -> Resource:
    return _resource(ACCOUNT, "microsoft.cognitiveservices/accounts")


def _relate(resources: list[Resource], **sees: bool) -> dict[str, Resource]:
    flags = {"sees_diagnostics": False, "sees_access": False, "sees_security": False}
    flags |= {"sees_policy": False} | sees
    related = relate(resources, source="export.json", **flags)
    return {resource.id.lower(): resource for resource in related}


def _setting(target: str, name: str) -> Resource:
    return _resource(
        f"{target}/providers/microsoft.insights/diagnosticSettings/{name}",
        "microsoft.insights/diagnosticsettings",
        workspaceId="/subscriptions/x/resourceGroups/m/providers/microsoft.operationalinsights/workspaces/law",
        logs=[{"categoryGroup": "audit", "enabled": True}],
    )


def _role_assignment(guid: str, scope: str | None) -> Resource:
    base = scope or ACCOUNT
    props = {"scope": scope} if scope else {}
    return _resource(
        f"{base}/providers/Microsoft.Authorization/roleAssignments/{guid}",
        "microsoft.authorization/roleassignments",
        principalType="User",
        **props,
    )


def _policy_assignment(name: str, scope: str) -> Resource:
    return _resource(
        f"{scope}/providers/Microsoft.Authorization/policyAssignments/{name}",
        "microsoft.authorization/policyassignments",
        scope=scope,
        enforcementMode="Default",
    )


def _endpoint(target: str, kind: str = "privateLinkServiceConnections", **state: str) -> Resource:
    link: dict[str, Any] = {"privateLinkServiceId": target, "groupIds": ["account"]}
    if state:
        link["privateLinkServiceConnectionState"] = state
    endpoint = _resource(ENDPOINT, "microsoft.network/privateendpoints")
    endpoint.properties[kind] = [{"properties": link}]
    return endpoint


def test_diagnostic_settings_join_their_resource_and_are_not_returned() -> None:
    vault = _resource(VAULT, "microsoft.keyvault/vaults")
    resources = [_account(), vault, _setting(ACCOUNT.lower(), "to-law"), _setting(RG, "orphan")]
    resources.append(_setting(f"/subscriptions/{SUB}", "activity-log"))
    related = _relate(resources, sees_diagnostics=True)

    assert not any(r.type == "microsoft.insights/diagnosticsettings" for r in related.values())
    settings = related[ACCOUNT.lower()].diagnostic_settings
    assert settings is not None
    assert [s["name"] for s in settings] == ["to-law"]
    assert settings[0]["properties"]["logs"] == [{"categoryGroup": "audit", "enabled": True}]
    assert related[VAULT.lower()].diagnostic_settings == []
    subscription = related[f"/subscriptions/{SUB}"]
    assert [s["name"] for s in subscription.diagnostic_settings or []] == ["activity-log"]


def test_unseen_facts_stay_unknown() -> None:
    related = _relate([_account(), _setting(ACCOUNT, "to-law"), _role_assignment("a", ACCOUNT)])
    account = related[ACCOUNT.lower()]
    assert account.diagnostic_settings is None
    assert account.role_assignments is None
    subscription = related[f"/subscriptions/{SUB}"]
    assert subscription.security_pricings is None
    assert subscription.policy_assignments is None


def test_role_assignments_join_the_resource_that_is_exactly_their_scope() -> None:
    group = _resource(RG, "microsoft.resources/subscriptions/resourcegroups")
    deployment = _resource(
        f"{ACCOUNT}/deployments/gpt-4o", "microsoft.cognitiveservices/accounts/deployments"
    )
    resources = [_account(), deployment, group]
    resources += [
        _role_assignment("on-account", ACCOUNT.upper()),
        _role_assignment("on-group", RG),
        _role_assignment("on-subscription", f"/subscriptions/{SUB}"),
        _role_assignment("scope-from-id", None),
    ]
    related = _relate(resources, sees_access=True)

    def names(resource_id: str) -> list[str]:
        return [a["name"] for a in related[resource_id.lower()].role_assignments or []]

    assert names(ACCOUNT) == ["on-account", "scope-from-id"]
    assert names(RG) == ["on-group"]
    assert names(f"/subscriptions/{SUB}") == ["on-subscription"]
    assert names(f"{ACCOUNT}/deployments/gpt-4o") == []
    # The assignment is a resource of its own too, and the related fact shares its properties.
    own = related[f"{ACCOUNT}/providers/Microsoft.Authorization/roleAssignments/on-account".lower()]
    assert (related[ACCOUNT.lower()].role_assignments or [{}])[0]["properties"] is own.properties


def test_pricings_join_their_subscription_only() -> None:
    pricing = _resource(
        f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/AI",
        "microsoft.security/pricings",
        sub=None,  # derived from the id
        pricingTier="Standard",
    )
    stray = _resource("/subscriptions/x/resourceGroups/r/providers/A.B/c/d", "a.b/c", sub=OTHER_SUB)
    related = _relate([_account(), pricing, stray], sees_security=True)

    subscription = related[f"/subscriptions/{SUB}"]
    assert subscription.security_pricings == [
        {
            "id": pricing.id,
            "name": "AI",
            "type": "microsoft.security/pricings",
            "properties": pricing.properties,
        }
    ]
    assert related[f"/subscriptions/{OTHER_SUB}"].security_pricings == []
    assert related[ACCOUNT.lower()].security_pricings is None


def test_policy_assignments_apply_from_the_subscription_and_its_ancestor_groups() -> None:
    subscription = _resource(
        f"/subscriptions/{SUB}",
        SUBSCRIPTION_TYPE,
        managementGroupAncestorsChain=[{"name": "Landing-Zones"}, {"name": "tenant-root"}],
    )
    resources = [
        subscription,
        _account(),
        _resource(
            f"/subscriptions/{OTHER_SUB}/resourceGroups/r/providers/A.B/c/d", "a.b/c", sub=OTHER_SUB
        ),
        _policy_assignment("at-sub", f"/subscriptions/{SUB}"),
        _policy_assignment("at-group", RG),
        _policy_assignment(
            "at-lz", "/providers/Microsoft.Management/managementGroups/landing-zones"
        ),
        _policy_assignment(
            "at-sandbox", "/providers/Microsoft.Management/managementGroups/sandbox"
        ),
    ]
    related = _relate(resources, sees_policy=True)

    assert [a["name"] for a in subscription.policy_assignments or []] == ["at-sub", "at-lz"]
    # Synthesised, so its ancestry is unknown while group assignments exist: cannot be told.
    assert related[f"/subscriptions/{OTHER_SUB}"].policy_assignments is None


def test_without_group_assignments_ancestry_is_not_needed() -> None:
    related = _relate([_account(), _policy_assignment("at-group", RG)], sees_policy=True)
    assert related[f"/subscriptions/{SUB}"].policy_assignments == []


def test_every_subscription_gets_one_resource() -> None:
    other = _resource(
        f"/subscriptions/{OTHER_SUB}/resourceGroups/r/providers/A.B/c/d", "a.b/c", sub=OTHER_SUB
    )
    upper = _resource(VAULT, "microsoft.keyvault/vaults", sub=SUB.upper())
    related = relate(
        [_account(), upper, other],
        sees_diagnostics=False,
        sees_access=False,
        sees_security=False,
        sees_policy=False,
        source="export.json",
    )

    subscriptions = [r for r in related if r.type == SUBSCRIPTION_TYPE]
    assert [(s.id, s.name, s.subscription_id) for s in subscriptions] == [
        (f"/subscriptions/{SUB}", SUB, SUB),
        (f"/subscriptions/{OTHER_SUB}", OTHER_SUB, OTHER_SUB),
    ]
    assert subscriptions[0].origin == "export.json: implied by its resources"


def test_a_subscription_record_is_named_by_its_guid() -> None:
    record = Resource(
        id=f"/subscriptions/{SUB}",
        type=SUBSCRIPTION_TYPE,
        name="Contoso AI Production",
        subscription_id=SUB,
        properties={"state": "Enabled"},
    )
    related = relate(
        [record, _account()],
        sees_diagnostics=False,
        sees_access=False,
        sees_security=False,
        sees_policy=False,
    )

    assert [r for r in related if r.type == SUBSCRIPTION_TYPE] == [record]
    assert record.name == SUB
    assert record.properties == {"state": "Enabled", "displayName": "Contoso AI Production"}


def test_a_private_endpoint_connects_its_target_without_changing_the_input() -> None:
    account = _account()
    original = account.properties
    related = _relate([account, _endpoint(ACCOUNT.lower())])

    assert original == {}
    assert related[ACCOUNT.lower()].properties["privateEndpointConnections"] == [
        {
            "id": f"{ACCOUNT}/privateEndpointConnections/pe-oai",
            "properties": {
                "privateEndpoint": {"id": ENDPOINT},
                "privateLinkServiceConnectionState": {"status": "Approved"},
            },
        }
    ]


def test_connection_status_is_the_endpoints_own_or_pending_when_manual() -> None:
    manual = _relate([_account(), _endpoint(ACCOUNT, "manualPrivateLinkServiceConnections")])
    rejected = _relate([_account(), _endpoint(ACCOUNT, status="Rejected")])

    def status(related: dict[str, Resource]) -> str:
        connection = related[ACCOUNT.lower()].properties["privateEndpointConnections"][0]
        return str(connection["properties"]["privateLinkServiceConnectionState"]["status"])

    assert status(manual) == "Pending"
    assert status(rejected) == "Rejected"


def test_an_endpoint_already_listed_is_not_added_again() -> None:
    listed = {"id": "c1", "properties": {"privateEndpoint": {"id": ENDPOINT.upper()}}}
    account = _resource(
        ACCOUNT, "microsoft.cognitiveservices/accounts", privateEndpointConnections=[listed]
    )
    related = _relate([account, _endpoint(ACCOUNT)])
    assert related[ACCOUNT.lower()].properties["privateEndpointConnections"] == [listed]


def test_an_endpoint_to_a_resource_outside_the_input_changes_nothing() -> None:
    related = _relate(
        [
            _account(),
            _endpoint(VAULT),
            _resource(
                ENDPOINT + "2",
                "microsoft.network/privateendpoints",
                privateLinkServiceConnections=["odd", {"properties": 5}],
            ),
        ]
    )
    assert "privateEndpointConnections" not in related[ACCOUNT.lower()].properties


def test_lists_a_source_filled_in_are_kept_and_extended() -> None:
    account = _account()
    account.role_assignments = [{"id": "from-elsewhere"}]
    related = _relate([account, _role_assignment("a", ACCOUNT)], sees_access=True)
    assert [a.get("name") for a in related[ACCOUNT.lower()].role_assignments or []] == [None, "a"]


class _Unresolved(dict[str, Any]):
    """Stands for a source's own properties class (the ARM source's unresolvable object)."""


def test_a_connected_target_keeps_its_properties_class() -> None:
    account = _account()
    account.properties = _Unresolved(kind="x")
    related = _relate([account, _endpoint(ACCOUNT)])
    properties = related[ACCOUNT.lower()].properties
    assert type(properties) is _Unresolved
    assert properties["kind"] == "x"
    assert len(properties["privateEndpointConnections"]) == 1
