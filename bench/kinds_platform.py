"""Resource groups, storage, Key Vault, AI Search, registries and AKS: rendered as ARM and as
azurerm (see ``estate_model``)."""

from __future__ import annotations

from typing import Any

from estate_model import (
    LOG_ANALYTICS,
    Computed,
    Kind,
    Node,
    Ref,
    arm_id,
    enabled,
    identity_arm,
    identity_tf,
    key_url,
    shared_id,
    tf_common,
)

# --- resource groups ----------------------------------------------------------------------------


def _group_arm(node: Node, live: bool) -> dict[str, Any]:
    return {"properties": {"provisioningState": "Succeeded"}}


def _group_tf(node: Node) -> dict[str, Any]:
    tags = node.settings.get("tags", {})
    return {
        "name": node.name,
        "location": node.settings["location"],
        "tags": tags,
        "managed_by": None,
    }


# --- storage and key vault ----------------------------------------------------------------------


def _storage_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    encryption: dict[str, Any] = {
        "keySource": "Microsoft.Keyvault" if s["cmk"] else "Microsoft.Storage",
        "requireInfrastructureEncryption": s["infra_encryption"],
        "services": {"blob": {"enabled": True, "keyType": "Account"}},
    }
    if s["cmk"]:
        encryption["keyvaultproperties"] = {
            "keyvaulturi": f"https://{s['vault']}.vault.azure.net/",
            "keyname": "cmk",
            "keyversion": s["key_version"],
        }
    acls = {"bypass": "AzureServices", "defaultAction": "Deny" if s["acl_deny"] else "Allow"}
    properties = {
        "minimumTlsVersion": s["tls"],
        "supportsHttpsTrafficOnly": s["https"],
        "allowBlobPublicAccess": s["public_blob"],
        "allowSharedKeyAccess": s["shared_key"],
        "publicNetworkAccess": enabled(s["public"]),
        "allowCrossTenantReplication": s["cross_tenant"],
        "networkAcls": acls | {"ipRules": [], "virtualNetworkRules": []},
        "encryption": encryption,
    }
    if live:
        properties["provisioningState"] = "Succeeded"
    sku = {"name": "Standard_ZRS", "tier": "Standard"}
    return {"kind": "StorageV2", "sku": sku, "tags": s["tags"], "properties": properties}


def _storage_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    cmk = [{"key_vault_key_id": key_url(node), "user_assigned_identity_id": None}]
    rules = {"default_action": "Deny" if s["acl_deny"] else "Allow", "bypass": ["AzureServices"]}
    return tf_common(node) | {
        "account_kind": "StorageV2",
        "account_tier": "Standard",
        "account_replication_type": "ZRS",
        "min_tls_version": s["tls"],
        "https_traffic_only_enabled": s["https"],
        "allow_nested_items_to_be_public": s["public_blob"],
        "shared_access_key_enabled": s["shared_key"],
        "public_network_access_enabled": s["public"],
        "cross_tenant_replication_enabled": s["cross_tenant"],
        "infrastructure_encryption_enabled": s["infra_encryption"],
        "network_rules": [rules | {"ip_rules": [], "virtual_network_subnet_ids": []}],
        "customer_managed_key": cmk if s["cmk"] else [],
        "identity": [],
        "primary_blob_endpoint": Computed(f"https://{node.name}.blob.core.windows.net/"),
    }


def _blob_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    retention = {"enabled": s["soft_delete"], "days": 7}
    properties = {"deleteRetentionPolicy": retention, "isVersioningEnabled": s["versioning"]}
    return {"properties": properties}


def _blob_tf(node: Node) -> dict[str, Any]:
    """Not written: azurerm has no blob service resource; the account implies its service."""
    return {}


def _vault_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    properties: dict[str, Any] = {
        "tenantId": node.ctx.tenant,
        "sku": {"family": "A", "name": "standard"},
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": s["rbac"],
        "publicNetworkAccess": enabled(s["public"]),
        "networkAcls": {
            "bypass": "AzureServices",
            "defaultAction": "Deny" if s["acl_deny"] else "Allow",
            "ipRules": [],
            "virtualNetworkRules": [],
        },
        "accessPolicies": [],
    }
    if s["purge"]:
        properties["enablePurgeProtection"] = True
    if live:
        properties["vaultUri"] = f"https://{node.name}.vault.azure.net/"
    return {"tags": s["tags"], "properties": properties}


def _vault_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    acls = {"default_action": "Deny" if s["acl_deny"] else "Allow", "bypass": "AzureServices"}
    return tf_common(node) | {
        "tenant_id": node.ctx.tenant,
        "sku_name": "standard",
        "purge_protection_enabled": s["purge"],
        "soft_delete_retention_days": 90,
        "enable_rbac_authorization": s["rbac"],
        "public_network_access_enabled": s["public"],
        "network_acls": [acls | {"ip_rules": [], "virtual_network_subnet_ids": []}],
        "access_policy": [],
        "vault_uri": Computed(f"https://{node.name}.vault.azure.net/"),
    }


def _key_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    attributes: dict[str, Any] = {"enabled": True}
    if s["expires"]:
        attributes["exp"] = s["expires"]
    properties: dict[str, Any] = {"kty": "RSA", "keySize": 3072, "attributes": attributes}
    properties["keyOps"] = ["wrapKey", "unwrapKey"]
    if s["rotation"]:
        properties["rotationPolicy"] = {
            "attributes": {"expiryTime": "P90D"},
            "lifetimeActions": [
                {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "rotate"}},
                {"trigger": {"timeBeforeExpiry": "P29D"}, "action": {"type": "notify"}},
            ],
        }
    return {"properties": properties}


def _key_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    assert node.parent is not None
    version = s["key_version"]
    rotation = {
        "automatic": [{"time_before_expiry": "P30D", "time_after_creation": None}],
        "expire_after": "P90D",
        "notify_before_expiry": "P29D",
    }
    return {
        "name": node.name,
        "key_vault_id": Ref(node.parent),
        "key_type": "RSA",
        "key_size": 3072,
        "key_opts": ["unwrapKey", "wrapKey"],
        "expiration_date": s["expires_iso"],
        "rotation_policy": [rotation] if s["rotation"] else [],
        "tags": {},
        # a key's Terraform id is its data-plane URL; resource_id is the ARM id
        "id": Computed(f"https://{node.parent.name}.vault.azure.net/keys/{node.name}/{version}"),
        "versionless_id": Computed(f"https://{node.parent.name}.vault.azure.net/keys/{node.name}"),
        "resource_id": Computed(arm_id(node)),
    }


# --- search, registries, Kubernetes -------------------------------------------------------------


def _search_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    properties: dict[str, Any] = {
        "replicaCount": s["replicas"],
        "partitionCount": 1,
        "hostingMode": "default",
        "publicNetworkAccess": enabled(s["public"]),
        "disableLocalAuth": not s["local_auth"],
        "encryptionWithCmk": {"enforcement": "Enabled" if s["cmk"] else "Unspecified"},
        "networkRuleSet": {"ipRules": []},
    }
    if live:
        compliant = "Compliant" if s["cmk"] else "NonCompliant"
        properties["encryptionWithCmk"]["encryptionComplianceStatus"] = compliant
        properties["provisioningState"] = "succeeded"
    return {"sku": {"name": s["sku"]}, "tags": s["tags"], "properties": properties}


def _search_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    return tf_common(node) | {
        "sku": s["sku"],
        "replica_count": s["replicas"],
        "partition_count": 1,
        "hosting_mode": "default",
        "local_authentication_enabled": s["local_auth"],
        "public_network_access_enabled": s["public"],
        "customer_managed_key_enforcement_enabled": s["cmk"],
        "allowed_ips": [],
        "identity": [],
    }


def _registry_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    premium = s["sku"] == "Premium"
    properties: dict[str, Any] = {
        "adminUserEnabled": s["admin"],
        "publicNetworkAccess": enabled(s["public"]),
        "anonymousPullEnabled": s["anonymous_pull"],
        "policies": {
            "quarantinePolicy": {"status": "enabled" if s["quarantine"] else "disabled"},
            "trustPolicy": {"type": "Notary", "status": "enabled" if s["trust"] else "disabled"},
            "retentionPolicy": {"days": 7, "status": "enabled" if s["retention"] else "disabled"},
            "exportPolicy": {"status": "enabled" if s["export"] else "disabled"},
        },
        "encryption": {"status": "enabled" if s["cmk"] else "disabled"},
        "dataEndpointEnabled": False,
    }
    if premium:
        default_action = "Deny" if s["acl_deny"] else "Allow"
        properties["networkRuleSet"] = {"defaultAction": default_action, "ipRules": []}
    if live:
        properties["loginServer"] = f"{node.name}.azurecr.io"
    sku = {"name": s["sku"], "tier": s["sku"]}
    return {"sku": sku, "tags": s["tags"], "properties": properties}


def _registry_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    rules: list[dict[str, Any]] = [
        {"default_action": "Deny" if s["acl_deny"] else "Allow", "ip_rule": []}
    ]
    return tf_common(node) | {
        "sku": s["sku"],
        "admin_enabled": s["admin"],
        "public_network_access_enabled": s["public"],
        "anonymous_pull_enabled": s["anonymous_pull"],
        "quarantine_policy_enabled": s["quarantine"],
        "trust_policy_enabled": s["trust"],
        "retention_policy_in_days": 7 if s["retention"] else 0,
        "export_policy_enabled": s["export"],
        "network_rule_set": rules if s["sku"] == "Premium" else [],
        "encryption": [],
        "data_endpoint_enabled": False,
        "identity": [],
        "login_server": Computed(f"{node.name}.azurecr.io"),
    }


def _aks_arm(node: Node, live: bool) -> dict[str, Any]:
    s = node.settings
    pool = {
        "name": "system",
        "count": 3,
        "vmSize": "Standard_D4ds_v5",
        "mode": "System",
        "osType": "Linux",
        "enableNodePublicIP": s["node_public_ip"],
        "enableEncryptionAtHost": s["host_encryption"],
    }
    api: dict[str, Any] = {"enablePrivateCluster": s["private"]}
    if s["authorized_ips"]:
        api["authorizedIPRanges"] = s["authorized_ips"]
    properties: dict[str, Any] = {
        "kubernetesVersion": "1.30.6",
        "dnsPrefix": node.name,
        "enableRBAC": s["rbac"],
        "disableLocalAccounts": not s["local_accounts"],
        "networkProfile": {"networkPlugin": "azure"},
        "apiServerAccessProfile": api,
        "addonProfiles": {"azurepolicy": {"enabled": s["policy_addon"]}},
        "autoUpgradeProfile": {
            "upgradeChannel": "stable" if s["auto_upgrade"] else "none",
            "nodeOSUpgradeChannel": "NodeImage" if s["auto_upgrade"] else "None",
        },
        "agentPoolProfiles": [pool],
    }
    if s["network_policy"]:
        properties["networkProfile"]["networkPolicy"] = s["network_policy"]
    if s["aad"]:
        properties["aadProfile"] = {"managed": True, "enableAzureRBAC": True}
    if s["defender"]:
        workspace = shared_id(node, LOG_ANALYTICS)
        defender: dict[str, Any] = {"logAnalyticsWorkspaceResourceId": workspace}
        defender["securityMonitoring"] = {"enabled": True}
        properties["securityProfile"] = {"defender": defender}
    return {
        "sku": {"name": "Base", "tier": "Standard"},
        "identity": identity_arm(True, live, node),
        "tags": s["tags"],
        "properties": properties,
    }


def _aks_tf(node: Node) -> dict[str, Any]:
    s = node.settings
    workspace = shared_id(node, LOG_ANALYTICS)
    pool = {
        "name": "system",
        "vm_size": "Standard_D4ds_v5",
        "node_count": 3,
        "node_public_ip_enabled": s["node_public_ip"],
        "host_encryption_enabled": s["host_encryption"],
    }
    aad = [{"azure_rbac_enabled": True, "tenant_id": node.ctx.tenant}]
    api = [{"authorized_ip_ranges": s["authorized_ips"]}] if s["authorized_ips"] else []
    return tf_common(node) | {
        "dns_prefix": node.name,
        "kubernetes_version": "1.30.6",
        "sku_tier": "Standard",
        "role_based_access_control_enabled": s["rbac"],
        "azure_active_directory_role_based_access_control": aad if s["aad"] else [],
        "local_account_disabled": not s["local_accounts"],
        "network_profile": [{"network_plugin": "azure", "network_policy": s["network_policy"]}],
        "api_server_access_profile": api,
        "private_cluster_enabled": s["private"],
        "azure_policy_enabled": s["policy_addon"],
        "microsoft_defender": [{"log_analytics_workspace_id": workspace}] if s["defender"] else [],
        "automatic_upgrade_channel": "stable" if s["auto_upgrade"] else None,
        "node_os_upgrade_channel": "NodeImage" if s["auto_upgrade"] else "None",
        "default_node_pool": [pool],
        "identity": identity_tf(True, node),
    }


PLATFORM_KINDS = (
    Kind(
        "blob",
        "Microsoft.Storage/storageAccounts/blobServices",
        "",  # written only to the Resource Graph export and the template
        "2023-05-01",
        _blob_arm,
        _blob_tf,
        "child",
    ),
    Kind(
        "group",
        "Microsoft.Resources/resourceGroups",
        "azurerm_resource_group",
        "2024-03-01",
        _group_arm,
        _group_tf,
        "container",
    ),
    Kind(
        "storage",
        "Microsoft.Storage/storageAccounts",
        "azurerm_storage_account",
        "2023-05-01",
        _storage_arm,
        _storage_tf,
    ),
    Kind(
        "vault",
        "Microsoft.KeyVault/vaults",
        "azurerm_key_vault",
        "2023-07-01",
        _vault_arm,
        _vault_tf,
    ),
    Kind(
        "key",
        "Microsoft.KeyVault/vaults/keys",
        "azurerm_key_vault_key",
        "2023-07-01",
        _key_arm,
        _key_tf,
        "child",
    ),
    Kind(
        "search",
        "Microsoft.Search/searchServices",
        "azurerm_search_service",
        "2024-06-01-preview",
        _search_arm,
        _search_tf,
    ),
    Kind(
        "registry",
        "Microsoft.ContainerRegistry/registries",
        "azurerm_container_registry",
        "2023-07-01",
        _registry_arm,
        _registry_tf,
    ),
    Kind(
        "aks",
        "Microsoft.ContainerService/managedClusters",
        "azurerm_kubernetes_cluster",
        "2024-09-01",
        _aks_arm,
        _aks_tf,
    ),
)
