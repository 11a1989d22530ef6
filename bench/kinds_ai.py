"""Azure OpenAI accounts, their content-filter policies and model deployments; Azure ML
workspaces and their computes: rendered as ARM and as azurerm (see ``estate_model``)."""

from __future__ import annotations

from typing import Any

from estate_model import (
    APP_INSIGHTS,
    Computed,
    Kind,
    Node,
    Ref,
    enabled,
    identity_arm,
    identity_tf,
    key_url,
    shared_id,
    subnet_id,
    tf_common,
)

HARM_FILTERS = ("Hate", "Sexual", "Violence", "Selfharm")
_CS, _ML = "Microsoft.CognitiveServices/accounts", "Microsoft.MachineLearningServices/workspaces"


# --- Azure OpenAI / AI Services -----------------------------------------------------------------


def _account_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    properties: dict[str, Any] = {
        "disableLocalAuth": not s["local_auth"],
        "publicNetworkAccess": enabled(s["public"]),
        "networkAcls": {
            "defaultAction": "Deny" if s["acl_deny"] else "Allow",
            "ipRules": [{"value": ip} for ip in s["ip_rules"]],
            "virtualNetworkRules": [],
        },
        "restrictOutboundNetworkAccess": s["outbound_restricted"],
    }
    if s["subdomain"]:
        properties["customSubDomainName"] = node.name
    if s["outbound_restricted"]:
        properties["allowedFqdnList"] = [f"{s['vault']}.vault.azure.net"]
    if s["cmk"]:
        key = {"keyVaultUri": f"https://{s['vault']}.vault.azure.net/", "keyName": "cmk"}
        key["keyVersion"] = s["key_version"]
        properties["encryption"] = {"keySource": "Microsoft.KeyVault", "keyVaultProperties": key}
    if live:
        properties["provisioningState"] = "Succeeded"
        properties["endpoint"] = f"https://{node.name}.openai.azure.com/"
    return {
        "kind": s["kind"],
        "sku": {"name": "S0"},
        "identity": identity_arm(s["identity"], live, node),
        "tags": s["tags"],
        "properties": properties,
    }


def _account_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    cmk = [{"key_vault_key_id": key_url(node), "identity_client_id": None}] if s["cmk"] else []
    acls = {"default_action": "Deny" if s["acl_deny"] else "Allow", "ip_rules": s["ip_rules"]}
    return tf_common(node) | {
        "kind": s["kind"],
        "sku_name": "S0",
        "custom_subdomain_name": node.name if s["subdomain"] else None,
        "local_auth_enabled": s["local_auth"],
        "public_network_access_enabled": s["public"],
        "outbound_network_access_restricted": s["outbound_restricted"],
        "fqdns": [f"{s['vault']}.vault.azure.net"] if s["outbound_restricted"] else [],
        "network_acls": [acls | {"virtual_network_rules": []}],
        "identity": identity_tf(s["identity"], node),
        "customer_managed_key": cmk,
        "dynamic_throttling_enabled": False,
        "endpoint": Computed(f"https://{node.name}.openai.azure.com/"),
    }


def _content_filters(node: Node) -> list[dict[str, Any]]:
    s, filters = node.settings, []
    for source in ("Prompt", "Completion"):
        for name in HARM_FILTERS:
            blocking = not (name == s["weak_filter"] and source == "Completion")
            filters.append({"name": name, "enabled": True, "blocking": blocking, "source": source})
    filters.append({"name": "Jailbreak", "enabled": True, "blocking": True, "source": "Prompt"})
    return filters


def _rai_arm(node: Node, live: bool) -> dict[str, Any]:
    filters = [f | {"severityThreshold": "Medium"} for f in _content_filters(node)]
    for f in filters:
        if f["name"] == "Jailbreak":
            del f["severityThreshold"]
    properties = {"basePolicyName": "Microsoft.DefaultV2", "mode": node.settings["mode"]}
    return {"properties": properties | {"contentFilters": filters}}


def _rai_tf(node: Node) -> dict[str, Any]:
    assert node.parent is not None
    blocks = [
        {
            "name": f["name"],
            "filter_enabled": f["enabled"],
            "block_enabled": f["blocking"],
            "severity_threshold": "Medium" if f["name"] != "Jailbreak" else None,
            "source": f["source"],
        }
        for f in _content_filters(node)
    ]
    return {
        "name": node.name,
        "cognitive_account_id": Ref(node.parent),
        "base_policy_name": "Microsoft.DefaultV2",
        "mode": node.settings["mode"],
        "content_filter": blocks,
        "tags": {},
    }


def _deployment_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    model = {"format": "OpenAI", "name": s["model"], "version": s["version"]}
    properties: dict[str, Any] = {"model": model, "versionUpgradeOption": s["upgrade"]}
    if s["rai"]:
        properties["raiPolicyName"] = s["rai"]
    if live:
        properties["provisioningState"] = "Succeeded"
    return {"sku": {"name": s["sku"], "capacity": s["capacity"]}, "properties": properties}


def _deployment_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    assert node.parent is not None
    return {
        "name": node.name,
        "cognitive_account_id": Ref(node.parent),
        "model": [{"format": "OpenAI", "name": s["model"], "version": s["version"]}],
        "sku": [{"name": s["sku"], "capacity": s["capacity"], "tier": None, "size": None}],
        "rai_policy_name": s["rai"],
        "version_upgrade_option": s["upgrade"],
        "dynamic_throttling_enabled": False,
    }


# --- Azure Machine Learning ---------------------------------------------------------------------


def _workspace_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    storage, vault = s["storage"], s["vault_node"]
    properties: dict[str, Any] = {
        "friendlyName": node.name,
        "storageAccount": Ref(storage),
        "keyVault": Ref(vault),
        "applicationInsights": shared_id(node, APP_INSIGHTS),
        "publicNetworkAccess": enabled(s["public"]),
        "hbiWorkspace": s["hbi"],
        "managedNetwork": {"isolationMode": s["isolation"]},
        "v1LegacyMode": False,
    }
    if s["cmk"]:
        key = {"keyVaultArmId": Ref(vault), "keyIdentifier": key_url(node)}
        properties["encryption"] = {"status": "Enabled", "keyVaultProperties": key}
    if live:
        properties["provisioningState"] = "Succeeded"
        properties["workspaceId"] = s["principal"]
    return {
        "kind": "Default",
        "sku": {"name": "Basic", "tier": "Basic"},
        "identity": identity_arm(True, live, node),
        "tags": s["tags"],
        "properties": properties,
    }


def _workspace_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    vault = s["vault_node"]
    encryption = {"key_vault_id": Ref(vault), "key_id": key_url(node)}
    return tf_common(node) | {
        "kind": "Default",
        "sku_name": "Basic",
        "application_insights_id": shared_id(node, APP_INSIGHTS),
        "key_vault_id": Ref(vault),
        "storage_account_id": Ref(s["storage"]),
        "public_network_access_enabled": s["public"],
        "high_business_impact": s["hbi"],
        "managed_network": [{"isolation_mode": s["isolation"]}],
        "encryption": [encryption | {"user_assigned_identity_id": None}] if s["cmk"] else [],
        "identity": identity_tf(True, node),
        "primary_user_assigned_identity": None,
        "v1_legacy_mode_enabled": False,
        "workspace_id": Computed(s["principal"]),
    }


def _instance_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    inner: dict[str, Any] = {
        "vmSize": s["vm_size"],
        "enableNodePublicIp": s["public_ip"],
        "sshSettings": {"sshPublicAccess": enabled(s["ssh"])},
    }
    if s["subnet"]:
        inner["subnet"] = {"id": subnet_id(node)}
    # No idleTimeBeforeShutdown: azurerm cannot set it, and the files describe one estate.
    properties = {"computeType": "ComputeInstance", "disableLocalAuth": not s["local_auth"]}
    return {"properties": properties | {"properties": inner}}


def _instance_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    assert node.parent is not None
    return {
        "name": node.name,
        "machine_learning_workspace_id": Ref(node.parent),
        "virtual_machine_size": s["vm_size"],
        "local_auth_enabled": s["local_auth"],
        "node_public_ip_enabled": s["public_ip"],
        "subnet_resource_id": subnet_id(node) if s["subnet"] else None,
        "ssh": [{"public_key": "ssh-rsa AAAAB3NzaC1yc2E bench@tutela"}] if s["ssh"] else [],
        "description": None,
        "identity": [],
        "assign_to_user": [],
        "tags": {},
    }


def _cluster_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    inner: dict[str, Any] = {
        "vmSize": s["vm_size"],
        "vmPriority": "Dedicated",
        "scaleSettings": {
            "minNodeCount": s["min_nodes"],
            "maxNodeCount": 4,
            "nodeIdleTimeBeforeScaleDown": "PT120S",
        },
        "enableNodePublicIp": s["public_ip"],
        "remoteLoginPortPublicAccess": enabled(s["ssh"]),
    }
    if s["subnet"]:
        inner["subnet"] = {"id": subnet_id(node)}
    properties = {"computeType": "AmlCompute", "disableLocalAuth": not s["local_auth"]}
    return {"properties": properties | {"properties": inner}}


def _cluster_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    assert node.parent is not None
    scale = {"min_node_count": s["min_nodes"], "max_node_count": 4}
    return {
        "name": node.name,
        "location": s["location"],
        "machine_learning_workspace_id": Ref(node.parent),
        "vm_size": s["vm_size"],
        "vm_priority": "Dedicated",
        "scale_settings": [scale | {"scale_down_nodes_after_idle_duration": "PT120S"}],
        "local_auth_enabled": s["local_auth"],
        "node_public_ip_enabled": s["public_ip"],
        "ssh_public_access_enabled": s["ssh"],
        "subnet_resource_id": subnet_id(node) if s["subnet"] else None,
        "identity": [],
        "tags": {},
    }


AI_KINDS = (
    Kind("account", _CS, "azurerm_cognitive_account", "2024-10-01", _account_arm, _account_tf),
    Kind(
        "rai",
        f"{_CS}/raiPolicies",
        "azurerm_cognitive_account_rai_policy",
        "2024-10-01",
        _rai_arm,
        _rai_tf,
        "child",
    ),
    Kind(
        "deployment",
        f"{_CS}/deployments",
        "azurerm_cognitive_deployment",
        "2024-10-01",
        _deployment_arm,
        _deployment_tf,
        "child",
    ),
    Kind(
        "workspace",
        _ML,
        "azurerm_machine_learning_workspace",
        "2024-10-01",
        _workspace_arm,
        _workspace_tf,
    ),
    Kind(
        "instance",
        f"{_ML}/computes",
        "azurerm_machine_learning_compute_instance",
        "2024-10-01",
        _instance_arm,
        _instance_tf,
        "child",
    ),
    Kind(
        "cluster",
        f"{_ML}/computes",
        "azurerm_machine_learning_compute_cluster",
        "2024-10-01",
        _cluster_arm,
        _cluster_tf,
        "child",
    ),
)
