"""Private endpoints, diagnostic settings, role assignments and custom role definitions: the
facts checks relate to resources, rendered as ARM and as azurerm (see ``estate_model``)."""

from __future__ import annotations

from typing import Any

from estate_model import (
    LOG_ANALYTICS,
    Computed,
    Kind,
    Node,
    Ref,
    arm_id,
    shared_id,
    subnet_id,
    tf_common,
)

ROLE_GUIDS = {  # built-in role definition GUIDs (the same in every tenant)
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Cognitive Services User": "a97b65f3-24c7-4388-baec-2e87135dc908",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
}


# --- network, monitoring, access ----------------------------------------------------------------


def _endpoint_arm(node: Node, live: bool) -> dict[str, Any]:
    target = node.settings["target"]
    connection = {"privateLinkServiceId": Ref(target), "groupIds": [node.settings["group_id"]]}
    if live:
        connection["privateLinkServiceConnectionState"] = {"status": "Approved"}
    links = [{"name": node.name, "properties": connection}]
    properties = {"subnet": {"id": subnet_id(node)}, "privateLinkServiceConnections": links}
    return {"tags": node.settings["tags"], "properties": properties}


def _endpoint_tf(node: Node) -> dict[str, Any]:
    connection = {
        "name": node.name,
        "private_connection_resource_id": Ref(node.settings["target"]),
        "subresource_names": [node.settings["group_id"]],
        "is_manual_connection": False,
    }
    return tf_common(node) | {
        "subnet_id": subnet_id(node),
        "private_service_connection": [connection],
        "private_dns_zone_group": [],
    }


def _diagnostic_arm(node: Node, live: bool) -> dict[str, Any]:
    group = node.settings["category_group"]
    logs = [{"categoryGroup": group, "enabled": True}] if group else []
    workspace = shared_id(node, LOG_ANALYTICS)
    metrics = [{"category": "AllMetrics", "enabled": True}]
    return {"properties": {"workspaceId": workspace, "logs": logs, "metrics": metrics}}


def _diagnostic_tf(node: Node) -> dict[str, Any]:
    assert node.parent is not None
    group = node.settings["category_group"]
    return {
        "name": node.name,
        "target_resource_id": Ref(node.parent),
        "log_analytics_workspace_id": shared_id(node, LOG_ANALYTICS),
        "enabled_log": [{"category": None, "category_group": group}] if group else [],
        "metric": [{"category": "AllMetrics", "enabled": True}],
        "id": Computed(f"{arm_id(node.parent)}|{node.name}"),
    }


def role_definition_id(node: Node, guid: str, literal: bool = True) -> str:
    """A built-in role's id: literal, or as a template writes it (its subscription is unknown)."""
    if not literal:
        return f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{guid}')]"
    return f"{node.ctx.sub_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _assignment_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    properties: dict[str, Any] = {
        "roleDefinitionId": role_definition_id(node, ROLE_GUIDS[s["role"]], live),
        "principalId": s["principal"],
        "principalType": s["principal_type"],
    }
    if live:
        assert node.parent is not None
        properties["scope"] = Ref(node.parent)
        properties["createdOn"] = "2025-03-01T09:00:00.0000000Z"
    return {"properties": properties}


def _assignment_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    assert node.parent is not None
    return {
        "name": node.name,
        "scope": Ref(node.parent),
        "role_definition_name": s["role"],
        "role_definition_id": Computed(role_definition_id(node, ROLE_GUIDS[s["role"]])),
        "principal_id": s["principal"],
        "principal_type": s["principal_type"],
        "condition": None,
    }


def _role_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    permissions = {
        "actions": s["actions"],
        "notActions": [],
        "dataActions": [],
        "notDataActions": [],
    }
    properties = {
        "roleName": s["role_name"],
        "description": "Custom role for the AI platform team",
        "type": "CustomRole",
        "permissions": [permissions],
        "assignableScopes": [node.ctx.sub_id if live else "[subscription().id]"],
    }
    return {"properties": properties}


def _role_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    permissions = {
        "actions": s["actions"],
        "not_actions": [],
        "data_actions": [],
        "not_data_actions": [],
    }
    return {
        "name": s["role_name"],
        "role_definition_id": node.name,
        "scope": node.ctx.sub_id,
        "description": "Custom role for the AI platform team",
        "permissions": [permissions],
        "assignable_scopes": [node.ctx.sub_id],
        "id": Computed(f"{arm_id(node)}|{node.ctx.sub_id}"),
        "role_definition_resource_id": Computed(arm_id(node)),
    }


ACCESS_KINDS = (
    Kind(
        "endpoint",
        "Microsoft.Network/privateEndpoints",
        "azurerm_private_endpoint",
        "2024-05-01",
        _endpoint_arm,
        _endpoint_tf,
    ),
    Kind(
        "diagnostic",
        "Microsoft.Insights/diagnosticSettings",
        "azurerm_monitor_diagnostic_setting",
        "2021-05-01-preview",
        _diagnostic_arm,
        _diagnostic_tf,
        "extension",
    ),
    Kind(
        "assignment",
        "Microsoft.Authorization/roleAssignments",
        "azurerm_role_assignment",
        "2022-04-01",
        _assignment_arm,
        _assignment_tf,
        "extension",
    ),
    Kind(
        "role",
        "Microsoft.Authorization/roleDefinitions",
        "azurerm_role_definition",
        "2022-04-01",
        _role_arm,
        _role_tf,
        "subscription",
    ),
)
