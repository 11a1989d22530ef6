"""Relating facts to the resources they are about: shared by every source.

A source first turns its input into flat resources, the fact-bearing records among them
(diagnostic settings, role assignments, Defender pricings, policy assignments, private endpoints)
included with their ARM ids and lower-cased types; ``relate`` then hangs each fact on its resource
and adds the subscriptions the resources imply. Everything is matched by id without case, through
dict indexes: one pass over the resources, whatever their number.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any, Final

from tutela.scanner.estate import SUBSCRIPTION_TYPE, UNKNOWN, Resource, member, member_key

DIAGNOSTIC_SETTING_TYPE: Final = "microsoft.insights/diagnosticsettings"
ROLE_ASSIGNMENT_TYPE: Final = "microsoft.authorization/roleassignments"
ROLE_DEFINITION_TYPE: Final = "microsoft.authorization/roledefinitions"
PRICING_TYPE: Final = "microsoft.security/pricings"
POLICY_ASSIGNMENT_TYPE: Final = "microsoft.authorization/policyassignments"
PRIVATE_ENDPOINT_TYPE: Final = "microsoft.network/privateendpoints"
RESOURCE_GROUP_TYPE: Final = "microsoft.resources/subscriptions/resourcegroups"

_DIAGNOSTIC_MARKER: Final = "/providers/microsoft.insights/diagnosticsettings/"
_ROLE_ASSIGNMENT_MARKER: Final = "/providers/microsoft.authorization/roleassignments/"
_POLICY_ASSIGNMENT_MARKER: Final = "/providers/microsoft.authorization/policyassignments/"
_MANAGEMENT_GROUP_PREFIX: Final = "/providers/microsoft.management/managementgroups/"
# A private endpoint's connection kind → the state its target shows when the input says none.
_CONNECTION_STATUS: Final = (
    ("privateLinkServiceConnections", "Approved"),
    ("manualPrivateLinkServiceConnections", "Pending"),
)


def relate(
    resources: list[Resource],
    *,
    sees_diagnostics: bool,
    sees_access: bool,
    sees_security: bool,
    sees_policy: bool,
    source: str | None = None,
) -> list[Resource]:
    """Relate facts to resources in place; return the resources, plus subscriptions, minus settings.

    Each ``sees_*`` flag says whether the input could show that kind of fact. When it is true, every
    resource gets a list (possibly empty) for it; when false, the field is left as it is (``None``:
    unknown). A list a source already filled in is kept and extended.

    - ``sees_diagnostics``: a ``microsoft.insights/diagnosticsettings`` resource with id
      ``<resource id>/providers/microsoft.insights/diagnosticSettings/<name>`` joins that resource's
      ``diagnostic_settings`` (a subscription's activity-log settings join the subscription).
      Diagnostic settings are facts, not resources: they are never returned, flag or not.
    - ``sees_access``: a ``microsoft.authorization/roleassignments`` resource joins the
      ``role_assignments`` of the resource whose id equals its ``properties.scope`` (or, without a
      scope, the id before ``/providers/Microsoft.Authorization/roleAssignments/``).
    - ``sees_security``: a ``microsoft.security/pricings`` resource joins its subscription's
      ``security_pricings``.
    - ``sees_policy``: a ``microsoft.authorization/policyassignments`` resource joins the
      ``policy_assignments`` of the subscription it applies to: one scoped at the subscription, or
      at a management group named in the subscription's ``properties.managementGroupAncestorsChain``
      (``[{"name": …}]``, as Resource Graph's ``resourcecontainers`` table has it). Assignments at
      resource-group or resource scope apply to less than the subscription and join nothing. When
      the input holds management-group assignments but a subscription's ancestry is unknown, that
      subscription's ``policy_assignments`` stays ``None``: what applies to it cannot be told.

    Role assignments, role definitions, pricings and policy assignments stay resources of their own
    as well; a related fact is the ARM object ``{id, name, type, properties}`` sharing the
    resource's ``properties`` (no copy). Facts whose resource is not in the input join nothing.

    Every subscription a resource lives in gets a ``microsoft.resources/subscriptions`` resource
    (id ``/subscriptions/<guid>``, name and ``subscription_id`` the guid), synthesised at the end of
    the list if the input has none (marked ``implied``); ``source`` names the input in a synthesised
    one's ``origin``. An implied subscription left with neither pricings nor policy assignments
    seen is ``undescribed_subscription``: subscription-level checks skip it. A subscription record's
    display name (Resource Graph puts it in ``name``) moves to ``properties.displayName``.

    A ``microsoft.network/privateendpoints`` resource whose ``privateLinkServiceConnections[*]`` (or
    ``manualPrivateLinkServiceConnections[*]``) ``.properties.privateLinkServiceId`` is a resource
    of the input gives that resource, unless it already lists the endpoint, an entry in
    ``properties.privateEndpointConnections``: ``{id, properties: {privateEndpoint: {id},
    privateLinkServiceConnectionState: {status}}}``, the status being the endpoint's own record of
    it or else "Approved" ("Pending" for a manual connection). The target gets a new ``properties``
    dict; the input's is not changed.
    """
    kept: list[Resource] = []
    index: dict[str, Resource] = {}
    settings: list[Resource] = []
    routed: dict[str, list[Resource]] = {
        ROLE_ASSIGNMENT_TYPE: [],
        PRICING_TYPE: [],
        POLICY_ASSIGNMENT_TYPE: [],
        PRIVATE_ENDPOINT_TYPE: [],
    }
    for resource in resources:
        if resource.type == DIAGNOSTIC_SETTING_TYPE:
            settings.append(resource)
            continue
        kept.append(resource)
        index.setdefault(resource.id.lower(), resource)
        bucket = routed.get(resource.type)
        if bucket is not None:
            bucket.append(resource)

    subscriptions = _subscriptions(kept, index, source)
    _open_lists(kept, diagnostics=sees_diagnostics, access=sees_access)
    if sees_diagnostics:
        _attach("diagnostic_settings", settings, index, _diagnostic_target)
    if sees_access:
        _attach("role_assignments", routed[ROLE_ASSIGNMENT_TYPE], index, _assignment_scope)
    if sees_security:
        for subscription in subscriptions:
            if subscription.security_pricings is None:
                subscription.security_pricings = []
        _attach("security_pricings", routed[PRICING_TYPE], index, _subscription_key)
    if sees_policy:
        _attach_policies(subscriptions, routed[POLICY_ASSIGNMENT_TYPE])
    for endpoint in routed[PRIVATE_ENDPOINT_TYPE]:
        connect_endpoint(endpoint, index)
    return kept


def _with(properties: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A shallow copy with one key set: the input stays as it was, a dict subclass stays one."""
    # (dict.copy for a plain dict: copy.copy's generic dispatch costs more than the copy)
    updated = properties.copy() if type(properties) is dict else copy.copy(properties)
    updated[key] = value
    return updated


def _fact(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "name": resource.name,
        "type": resource.type,
        "properties": resource.properties,
    }


def _subscription_of(resource_id: str) -> str | None:
    parts = resource_id.split("/", 3)
    if len(parts) >= 3 and parts[0] == "" and parts[1].lower() == "subscriptions" and parts[2]:
        return parts[2]
    return None


def _subscription_key(resource: Resource) -> str | None:
    subscription_id = resource.subscription_id or _subscription_of(resource.id)
    return f"/subscriptions/{subscription_id.lower()}" if subscription_id else None


def _subscriptions(
    kept: list[Resource], index: dict[str, Resource], source: str | None
) -> list[Resource]:
    """The subscription resources, normalised; those the resources imply are synthesised."""
    found = [resource for resource in index.values() if resource.type == SUBSCRIPTION_TYPE]
    for subscription in found:
        guid = subscription.subscription_id or _subscription_of(subscription.id)
        if guid and subscription.name != guid:
            if "displayName" not in subscription.properties:
                subscription.properties = _with(
                    subscription.properties, "displayName", subscription.name
                )
            subscription.name = guid
        subscription.subscription_id = guid
    # dict.fromkeys: distinct, in first-seen order and spelling.
    for guid in dict.fromkeys(r.subscription_id for r in kept if r.subscription_id):
        key = f"/subscriptions/{guid.lower()}"
        if key in index:
            continue
        subscription = Resource(
            id=f"/subscriptions/{guid}",
            type=SUBSCRIPTION_TYPE,
            name=guid,
            subscription_id=guid,
            origin=f"{source}: implied by its resources" if source else None,
            implied=True,
        )
        index[key] = subscription
        kept.append(subscription)
        found.append(subscription)
    return found


def _open_lists(resources: list[Resource], *, diagnostics: bool, access: bool) -> None:
    """An empty list for each fact the input could show, on every resource that has none yet."""
    # Spelled out rather than through getattr/setattr: this runs once per resource.
    for resource in resources:
        if diagnostics and resource.diagnostic_settings is None:
            resource.diagnostic_settings = []
        if access and resource.role_assignments is None:
            resource.role_assignments = []


def _attach(
    field: str,
    facts: list[Resource],
    index: dict[str, Resource],
    key_of: Callable[[Resource], str | None],
) -> None:
    """Add each fact to the ``field`` list of the resource ``key_of`` names, if it has one."""
    for fact in facts:
        key = key_of(fact)
        target = index.get(key) if key else None
        related = getattr(target, field) if target is not None else None
        if related is not None:
            related.append(_fact(fact))


def _diagnostic_target(setting: Resource) -> str | None:
    lowered = setting.id.lower()
    marker = lowered.rfind(_DIAGNOSTIC_MARKER)
    return lowered[:marker] if marker > 0 else None


def _scope(resource: Resource, marker: str) -> str | None:
    """``properties.scope``, or else the id before the extension marker; lower-cased."""
    scope = member(resource.properties, "scope")
    if isinstance(scope, str) and scope:
        scope = scope.lower()
        return scope.rstrip("/") if len(scope) > 1 else scope
    lowered = resource.id.lower()
    at = lowered.rfind(marker)
    return lowered[:at] if at > 0 else None


def _assignment_scope(assignment: Resource) -> str | None:
    return _scope(assignment, _ROLE_ASSIGNMENT_MARKER)


def _attach_policies(subscriptions: list[Resource], assignments: list[Resource]) -> None:
    by_management_group: dict[str, list[dict[str, Any]]] = {}
    direct: dict[str, list[dict[str, Any]]] = {}
    for assignment in assignments:
        scope = _scope(assignment, _POLICY_ASSIGNMENT_MARKER)
        if not scope:
            continue
        if scope.startswith(_MANAGEMENT_GROUP_PREFIX):
            group = scope[len(_MANAGEMENT_GROUP_PREFIX) :]
            by_management_group.setdefault(group, []).append(_fact(assignment))
        elif scope.count("/") == 2 and scope.startswith("/subscriptions/"):
            direct.setdefault(scope, []).append(_fact(assignment))
    for subscription in subscriptions:
        applying = direct.get(subscription.id.lower(), [])
        if by_management_group:
            ancestors = _ancestors(subscription)
            if ancestors is None:
                continue  # what applies from above cannot be told: stays unknown
            for group in ancestors:
                applying = applying + by_management_group.get(group, [])
        subscription.policy_assignments = [*(subscription.policy_assignments or []), *applying]


def _ancestors(subscription: Resource) -> list[str] | None:
    chain = member(subscription.properties, "managementGroupAncestorsChain")
    if not isinstance(chain, list):
        return None
    return [member(link, "name").lower() for link in chain if isinstance(member(link, "name"), str)]


def connect_endpoint(endpoint: Resource, index: dict[str, Resource]) -> None:
    """List a private endpoint on each resource of ``index`` it connects to (as ARM lists it)."""
    for target_id, status in _endpoint_links(endpoint):
        target = index.get(target_id.lower())
        if target is None or _lists_endpoint(target, endpoint.id):
            continue
        key = member_key(target.properties, "privateEndpointConnections")
        existing = target.properties.get(key)
        entry = {
            "id": f"{target.id}/privateEndpointConnections/{endpoint.name}",
            "properties": {
                "privateEndpoint": {"id": endpoint.id},
                "privateLinkServiceConnectionState": {"status": status},
            },
        }
        listed = existing if isinstance(existing, list) else []
        target.properties = _with(target.properties, key, [*listed, entry])


def _endpoint_links(endpoint: Resource) -> Iterator[tuple[str, Any]]:
    """(target id, connection status) for each connection of the endpoint that names a target."""
    for connections_key, default_status in _CONNECTION_STATUS:
        connections = member(endpoint.properties, connections_key)
        if not isinstance(connections, list):
            continue
        for connection in connections:
            props = member(connection, "properties")
            if not isinstance(props, dict):
                continue
            target_id = member(props, "privateLinkServiceId")
            state = member(props, "privateLinkServiceConnectionState")
            status = member(state, "status")
            if isinstance(target_id, str):
                # A state the source could not resolve stays unknown; no state yet is the default.
                known = isinstance(status, str) or status is UNKNOWN
                yield target_id, status if known else default_status


def _lists_endpoint(target: Resource, endpoint_id: str) -> bool:
    existing = member(target.properties, "privateEndpointConnections")
    if not isinstance(existing, list):
        return False
    wanted = endpoint_id.lower()
    for connection in existing:
        listed = member(member(member(connection, "properties"), "privateEndpoint"), "id")
        if isinstance(listed, str) and listed.lower() == wanted:
            return True
    return False


def mark_live_visibility(
    resources: list[Resource], document_types: set[str], diagnosed: dict[str, bool]
) -> None:
    """What a live read looked for is seen even where it found none; what it could not read is not.

    The visibility rule of an export (``arg``) counts a kind of fact as seen only when the input
    holds one; a live read (``azure``, and an export written by ``tutela export``) knows what it
    queried. ``document_types`` are the lower-cased types of the records read; ``diagnosed``
    maps each lower-cased resource id whose diagnostic settings were asked for to whether they
    could be read. Role assignments, Defender pricings and policy assignments were always
    queried: none found is an empty list.
    """
    no_roles = ROLE_ASSIGNMENT_TYPE not in document_types
    no_pricings = PRICING_TYPE not in document_types
    no_policies = POLICY_ASSIGNMENT_TYPE not in document_types
    for resource in resources:
        if diagnosed.get(resource.key):
            if resource.diagnostic_settings is None:
                resource.diagnostic_settings = []
        else:
            resource.diagnostic_settings = None
        if no_roles and resource.role_assignments is None:
            resource.role_assignments = []
        if resource.type == SUBSCRIPTION_TYPE:
            if no_pricings and resource.security_pricings is None:
                resource.security_pricings = []
            if no_policies and resource.policy_assignments is None:
                resource.policy_assignments = []
