# ruff: noqa: E501 -- the mapping table below keeps one attribute a line
"""Which azurerm attribute becomes which ARM property, and how: the Terraform source's table.

One ``Mapping`` per supported resource type; one ``Attr`` per attribute, read from the plan's
``change.after`` and written at an ARM path. A source path steps into a nested block (a list of
one object in the plan) by name: ``network_acls.default_action``; ``*`` is the whole resource. A
target path may index a list: ``properties.agentPoolProfiles.0.name``. ``aliases`` are older
spellings of the same attribute (azurerm v3 ``enable_*`` beside v4 ``*_enabled``); the first one
the plan sets wins. An attribute the plan leaves unset stays absent: the service's default is the
checks' business, never the source's. ``render_markdown`` turns the table into TERRAFORM.md (a
test keeps the two equal).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tutela.scanner.estate import UNKNOWN


class Refs(Protocol):
    """What a conversion may ask of the plan about the resource being converted."""

    @property
    def subscription(self) -> str: ...

    def resolve(self, steps: tuple[str | int, ...]) -> Any:
        """The id an attribute refers to (through the configuration when unknown at plan time)."""


Convert = Callable[[Any, Refs], Any]
Placement = Literal[
    "group", "resource_group", "child", "sibling", "extension", "subscription", "merge", "azapi"
]


@dataclass(frozen=True, slots=True)
class Attr:
    source: str
    target: str
    convert: Convert | None = None
    aliases: tuple[str, ...] = ()
    ref: bool = False  # an id of another resource: resolved through the configuration if unknown


@dataclass(frozen=True, slots=True)
class Mapping:
    arm_type: str  # "Microsoft.CognitiveServices/accounts"
    attrs: tuple[Attr, ...]
    placement: Placement = "group"
    parent: str | None = None  # the attribute naming the parent / scope / merge target
    merge_at: str | None = None  # for "merge": where in the parent (a list is appended to)
    name_attr: str = "name"
    guid_name: bool = False  # a name unknown at plan time is a GUID derived from the address
    id_attr: str | None = "id"  # the attribute holding the ARM id once known (None: no ARM id)
    constants: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def A(  # short on purpose, as M: the table below is read far more than written
    source: str, target: str, convert: Convert | None = None, *aliases: str, ref: bool = False
) -> Attr:
    return Attr(source, target, convert, aliases, ref)


def M(
    arm_type: str, placement: Placement, parent: str | None, attrs: tuple[Attr, ...], **options: Any
) -> Mapping:
    return Mapping(arm_type, attrs, placement, parent, **options)


# --- conversions: each docstring is its line in TERRAFORM.md -----------------------------------


def enabled(value: Any, _refs: Refs) -> Any:
    """`true` → `"Enabled"`, `false` → `"Disabled"`"""
    return "Enabled" if value is True else "Disabled" if value is False else value


def enabled_lower(value: Any, _refs: Refs) -> Any:
    """`true` → `"enabled"`, `false` → `"disabled"`"""
    return "enabled" if value is True else "disabled" if value is False else value


def negated(value: Any, _refs: Refs) -> Any:
    """negated: `true` → `false`"""
    return (not value) if isinstance(value, bool) else value


def enforcement(value: Any, _refs: Refs) -> Any:
    """`true` → `"Default"`, `false` → `"DoNotEnforce"`"""
    return "Default" if value is True else "DoNotEnforce" if value is False else value


def present(constant: Any) -> Convert:
    """A block that is present becomes ``constant``."""

    def convert(_value: Any, _refs: Refs) -> Any:
        return constant

    convert.__doc__ = f"block present → `{json.dumps(constant)}`"
    return convert


def ip_values(value: Any, _refs: Refs) -> Any:
    """`["1.2.3.4"]` → `[{"value": "1.2.3.4"}]`"""
    return [{"value": ip} for ip in _listed(value)]


def subnet_ids(value: Any, _refs: Refs) -> Any:
    """`["<subnet id>"]` → `[{"id": "<subnet id>"}]`"""
    return [{"id": subnet} for subnet in _listed(value)]


def vnet_rules(value: Any, _refs: Refs) -> Any:
    """blocks → `[{"id", "ignoreMissingVnetServiceEndpoint"}]`"""
    key = "ignore_missing_vnet_service_endpoint"
    return [
        {"id": r.get("subnet_id"), "ignoreMissingVnetServiceEndpoint": r.get(key)}
        for r in _blocks(value)
    ]


def acr_ip_rules(value: Any, _refs: Refs) -> Any:
    """blocks → `[{"action", "value": ip_range}]`"""
    return [{"action": r.get("action"), "value": r.get("ip_range")} for r in _blocks(value)]


def joined(value: Any, _refs: Refs) -> Any:
    """list → comma-separated string"""
    return ", ".join(str(v) for v in value) if isinstance(value, list) else value


def unix_time(value: Any, _refs: Refs) -> Any:
    """RFC 3339 date-time → Unix seconds"""
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def json_object(value: Any, _refs: Refs) -> Any:
    """JSON text → object"""
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value


def identity(value: Any, _refs: Refs) -> Any:
    """block → `{type, principalId, tenantId, userAssignedIdentities: {<id>: {}}}`"""
    block = _first(value)
    if not isinstance(block, dict):
        return block
    ids = block.get("identity_ids")
    user: Any = UNKNOWN
    if ids is not UNKNOWN and UNKNOWN not in _listed(ids):
        user = {i: {} for i in _listed(ids)}
    return {
        "type": block.get("type"),
        "principalId": block.get("principal_id"),
        "tenantId": block.get("tenant_id"),
        "userAssignedIdentities": user or None,
    }


def key_url(value: Any, _refs: Refs) -> Any:
    """`https://v.vault.azure.net/keys/k/ver` → `{keyVaultUri, keyName, keyVersion}`"""
    if not isinstance(value, str) or "/keys/" not in value:
        return value if value is UNKNOWN else None
    vault, _, rest = value.partition("/keys/")
    name, _, version = rest.partition("/")
    return {"keyVaultUri": vault + "/", "keyName": name, "keyVersion": version or None}


def storage_key_url(value: Any, refs: Refs) -> Any:
    """key URL → `{keyvaulturi, keyname, keyversion}` (Storage spells them in lower case)"""
    parts = key_url(value, refs)
    return {k.lower(): v for k, v in parts.items()} if isinstance(parts, dict) else parts


def acr_retention_days(value: Any, _refs: Refs) -> Any:
    """days > 0 → `{status: "enabled", days}`; 0 → `{status: "disabled"}`"""
    if not isinstance(value, int):
        return value
    return {"status": "enabled", "days": value} if value > 0 else {"status": "disabled"}


def content_filters(value: Any, _refs: Refs) -> Any:
    """blocks → `[{name, enabled, blocking, severityThreshold, source}]`"""
    return [
        {
            "name": f.get("name"),
            "enabled": f.get("filter_enabled"),
            "blocking": f.get("block_enabled"),
            "severityThreshold": f.get("severity_threshold"),
            "source": f.get("source"),
        }
        for f in _blocks(value)
    ]


def rotation_policy(value: Any, _refs: Refs) -> Any:
    """block → `{attributes: {expiryTime}, lifetimeActions: [rotate, notify]}`"""
    block = _first(value)
    if not isinstance(block, dict):
        return block
    actions: list[dict[str, Any]] = []
    for auto in _blocks(block.get("automatic")):
        trigger = {"timeAfterCreate": auto.get("time_after_creation")}
        trigger["timeBeforeExpiry"] = auto.get("time_before_expiry")
        actions.append({"trigger": trigger, "action": {"type": "rotate"}})
    if block.get("notify_before_expiry"):
        trigger = {"timeBeforeExpiry": block["notify_before_expiry"]}
        actions.append({"trigger": trigger, "action": {"type": "notify"}})
    return {"attributes": {"expiryTime": block.get("expire_after")}, "lifetimeActions": actions}


def log_entries(value: Any, _refs: Refs) -> Any:
    """blocks → `[{category | categoryGroup, enabled}]` (an `enabled_log` is enabled)"""
    return [
        {
            "category": b.get("category") or None,
            "categoryGroup": b.get("category_group") or None,
            "enabled": b.get("enabled", True),
        }
        for b in _blocks(value)
    ]


def metric_entries(value: Any, _refs: Refs) -> Any:
    """blocks → `[{category, enabled}]` (an `enabled_metric` is enabled)"""
    return [
        {"category": b.get("category"), "enabled": b.get("enabled", True)} for b in _blocks(value)
    ]


def pricing_extensions(value: Any, _refs: Refs) -> Any:
    """blocks → `[{name, isEnabled: "True", additionalExtensionProperties}]`"""
    return [
        {
            "name": e.get("name"),
            "isEnabled": "True",
            "additionalExtensionProperties": e.get("additional_extension_properties"),
        }
        for e in _blocks(value)
    ]


def role_permissions(value: Any, _refs: Refs) -> Any:
    """blocks → `[{actions, notActions, dataActions, notDataActions}]`"""
    names = {"actions": "actions", "not_actions": "notActions"}
    names |= {"data_actions": "dataActions", "not_data_actions": "notDataActions"}
    return [{arm: p.get(tf) or [] for tf, arm in names.items()} for p in _blocks(value)]


def builtin_role(value: Any, refs: Refs) -> Any:
    """built-in role name → `/subscriptions/<s>/providers/Microsoft.Authorization/roleDefinitions/<guid>`"""
    guid = BUILTIN_ROLES.get(value) if isinstance(value, str) else None
    if guid is None:
        return None  # a custom role's name: its id comes from role_definition_id
    prefix = f"/subscriptions/{refs.subscription}/providers/Microsoft.Authorization"
    return f"{prefix}/roleDefinitions/{guid}"


def _connections(*, manual: bool) -> Convert:
    """Private endpoint connection blocks of one kind (automatic or manual approval)."""

    def convert(value: Any, refs: Refs) -> Any:
        out = []
        for index, block in enumerate(_blocks(value)):
            if bool(block.get("is_manual_connection")) != manual:
                continue
            target = block.get("private_connection_resource_id")
            if target is UNKNOWN:
                steps = ("private_service_connection", index, "private_connection_resource_id")
                target = refs.resolve(steps)
            props = {"privateLinkServiceId": target, "groupIds": block.get("subresource_names")}
            out.append({"name": block.get("name"), "properties": props})
        return out or None

    flag = str(manual).lower()
    convert.__doc__ = f"blocks with `is_manual_connection = {flag}` → `[{{name, properties: {{privateLinkServiceId, groupIds}}}}]`"
    return convert


def storage_sku(values: Any, _refs: Refs) -> Any:
    """`account_tier` + `account_replication_type` → `"Standard_LRS"`"""
    tier, replication = values.get("account_tier"), values.get("account_replication_type")
    if tier is UNKNOWN or replication is UNKNOWN:
        return UNKNOWN
    return f"{tier}_{replication}" if tier and replication else None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [b for b in _listed(value) if isinstance(b, dict)]


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


# Roles azurerm lets a role assignment name instead of giving an id (role_definition_name).
BUILTIN_ROLES: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Cognitive Services Contributor": "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68",
    "Cognitive Services User": "a97b65f3-24c7-4388-baec-2e87135dc908",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "Cognitive Services OpenAI Contributor": "a001fd3d-188f-4b5d-821b-7da978bf7442",
    "Cognitive Services Usages Reader": "bba48692-92b0-4667-a9ad-c31c7b334ac2",
    "Azure AI Developer": "64702f94-c441-49e6-a78b-ef80e0188fee",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "Search Service Contributor": "7ca78c08-252a-4471-8644-bb5ff32d4ba0",
    "Search Index Data Contributor": "8ebe5a00-799e-43f5-93ac-243d3dce84a7",
    "Search Index Data Reader": "1407120a-92aa-4202-b7e9-c0e197c71c8f",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
}

# --- the table (one row per attribute; kept as a table, hence unformatted) -----------------------

# fmt: off
_PLACED = (A("location", "location"), A("tags", "tags"), A("identity", "identity", identity))
_COGNITIVE_NETWORK = (
    A("network_acls.default_action",          "properties.networkAcls.defaultAction"),
    A("network_acls.ip_rules",                "properties.networkAcls.ipRules", ip_values),
    A("network_acls.virtual_network_rules",   "properties.networkAcls.virtualNetworkRules", vnet_rules),
    A("network_acls.bypass",                  "properties.networkAcls.bypass"),
    A("customer_managed_key",                 "properties.encryption.keySource", present("Microsoft.KeyVault")),
    A("customer_managed_key.key_vault_key_id", "properties.encryption.keyVaultProperties", key_url, "customer_managed_key.managed_hsm_key_id"),
    A("customer_managed_key.identity_client_id", "properties.encryption.keyVaultProperties.identityClientId"),
    A("outbound_network_access_restricted",   "properties.restrictOutboundNetworkAccess"),
    A("fqdns",                                "properties.allowedFqdnList"),
    A("custom_subdomain_name",                "properties.customSubDomainName"),
)
_WORKSPACE_LINKS = (
    A("key_vault_id",                     "properties.keyVault", ref=True),
    A("storage_account_id",               "properties.storageAccount", ref=True),
    A("application_insights_id",          "properties.applicationInsights", ref=True),
    A("container_registry_id",            "properties.containerRegistry", ref=True),
    A("managed_network.isolation_mode",   "properties.managedNetwork.isolationMode"),
    A("encryption",                       "properties.encryption.status", present("Enabled")),
    A("encryption.key_vault_id",          "properties.encryption.keyVaultProperties.keyVaultArmId", ref=True),
    A("encryption.key_id",                "properties.encryption.keyVaultProperties.keyIdentifier"),
    A("encryption.user_assigned_identity_id", "properties.encryption.identity.userAssignedIdentity", ref=True),
    A("primary_user_assigned_identity",   "properties.primaryUserAssignedIdentity", ref=True),
    A("description",                      "properties.description"),
)
_COMPUTE = (
    A("local_auth_enabled",       "properties.disableLocalAuth", negated),
    A("node_public_ip_enabled",   "properties.properties.enableNodePublicIp"),
    A("subnet_resource_id",       "properties.properties.subnet.id", ref=True),
    A("description",              "properties.description"),
)
_POOL = "properties.agentPoolProfiles.0."
_STORAGE_RULES = (
    A("default_action",               "defaultAction"),
    A("bypass",                       "bypass", joined),
    A("ip_rules",                     "ipRules", ip_values),
    A("virtual_network_subnet_ids",   "virtualNetworkRules", subnet_ids),
)
_POLICY_ASSIGNMENT = (
    A("policy_definition_id",   "properties.policyDefinitionId", ref=True),
    A("enforce",                "properties.enforcementMode", enforcement),
    A("not_scopes",             "properties.notScopes"),
    A("display_name",           "properties.displayName"),
    A("description",            "properties.description"),
    A("parameters",             "properties.parameters", json_object),
    A("metadata",               "properties.metadata", json_object),
    A("location",               "location"),
    A("identity",               "identity", identity),
)

_ASSIGNMENT = "Microsoft.Authorization/policyAssignments"

MAPPINGS: dict[str, Mapping] = {
    "azurerm_resource_group": M("Microsoft.Resources/subscriptions/resourceGroups", "resource_group", None, _PLACED[:2]),
    "azurerm_cognitive_account": M("Microsoft.CognitiveServices/accounts", "group", None, (
        *_PLACED,
        A("kind",                             "kind"),
        A("sku_name",                         "sku.name"),
        A("local_auth_enabled",               "properties.disableLocalAuth", negated),
        A("public_network_access_enabled",    "properties.publicNetworkAccess", enabled),
        *_COGNITIVE_NETWORK,
        A("dynamic_throttling_enabled",       "properties.dynamicThrottlingEnabled"),
    )),
    "azurerm_ai_services": M("Microsoft.CognitiveServices/accounts", "group", None, (
        *_PLACED,
        A("sku_name",                         "sku.name"),
        A("local_authentication_enabled",     "properties.disableLocalAuth", negated),
        A("public_network_access",            "properties.publicNetworkAccess"),
        *_COGNITIVE_NETWORK,
    ), constants={"kind": "AIServices"}),
    "azurerm_cognitive_deployment": M("Microsoft.CognitiveServices/accounts/deployments", "child", "cognitive_account_id", (
        A("model.format",                     "properties.model.format"),
        A("model.name",                       "properties.model.name"),
        A("model.version",                    "properties.model.version"),
        A("sku.name",                         "sku.name", None, "scale.type"),
        A("sku.capacity",                     "sku.capacity", None, "scale.capacity"),
        A("rai_policy_name",                  "properties.raiPolicyName"),
        A("version_upgrade_option",           "properties.versionUpgradeOption"),
        A("dynamic_throttling_enabled",       "properties.dynamicThrottlingEnabled"),
    )),
    "azurerm_cognitive_account_rai_policy": M("Microsoft.CognitiveServices/accounts/raiPolicies", "child", "cognitive_account_id", (
        A("tags",                             "tags"),
        A("base_policy_name",                 "properties.basePolicyName"),
        A("mode",                             "properties.mode"),
        A("content_filter",                   "properties.contentFilters", content_filters),
    )),
    "azurerm_cognitive_account_customer_managed_key": M("Microsoft.CognitiveServices/accounts", "merge", "cognitive_account_id", (
        A("key_vault_key_id",                 "keyVaultProperties", key_url, "managed_hsm_key_id"),
        A("identity_client_id",               "keyVaultProperties.identityClientId"),
    ), merge_at="properties.encryption", constants={"keySource": "Microsoft.KeyVault"}),
    "azurerm_machine_learning_workspace": M("Microsoft.MachineLearningServices/workspaces", "group", None, (
        *_PLACED,
        A("kind",                             "kind"),
        A("sku_name",                         "sku.name"),
        A("public_network_access_enabled",    "properties.publicNetworkAccess", enabled),
        A("high_business_impact",             "properties.hbiWorkspace"),
        A("v1_legacy_mode_enabled",           "properties.v1LegacyMode"),
        A("image_build_compute_name",         "properties.imageBuildCompute"),
        *_WORKSPACE_LINKS,
    )),
    "azurerm_ai_foundry": M("Microsoft.MachineLearningServices/workspaces", "group", None, (
        *_PLACED,
        A("public_network_access",            "properties.publicNetworkAccess"),
        A("high_business_impact_enabled",     "properties.hbiWorkspace"),
        *_WORKSPACE_LINKS,
    ), constants={"kind": "Hub"}),
    "azurerm_ai_foundry_project": M("Microsoft.MachineLearningServices/workspaces", "sibling", "ai_services_hub_id", (
        *_PLACED,
        A("ai_services_hub_id",               "properties.hubResourceId", ref=True),
        A("high_business_impact_enabled",     "properties.hbiWorkspace"),
        A("primary_user_assigned_identity",   "properties.primaryUserAssignedIdentity", ref=True),
        A("description",                      "properties.description"),
    ), constants={"kind": "Project"}),
    "azurerm_machine_learning_compute_instance": M("Microsoft.MachineLearningServices/workspaces/computes", "child", "machine_learning_workspace_id", (
        *_PLACED,
        *_COMPUTE,
        A("ssh",                              "properties.properties.sshSettings.sshPublicAccess", present("Enabled")),
        A("ssh.public_key",                   "properties.properties.sshSettings.adminPublicKey"),
        A("virtual_machine_size",             "properties.properties.vmSize"),
        A("authorization_type",               "properties.properties.computeInstanceAuthorizationType"),
    ), constants={"properties.computeType": "ComputeInstance",
                  # azurerm sends "Disabled" when there is no ssh block
                  "properties.properties.sshSettings.sshPublicAccess": "Disabled",
                  # azurerm cannot set idle shutdown: a plan cannot tell, so it is unknown
                  "properties.properties.idleTimeBeforeShutdown": UNKNOWN}),
    "azurerm_machine_learning_compute_cluster": M("Microsoft.MachineLearningServices/workspaces/computes", "child", "machine_learning_workspace_id", (
        *_PLACED,
        *_COMPUTE,
        A("ssh_public_access_enabled",        "properties.properties.remoteLoginPortPublicAccess", enabled),
        A("vm_size",                          "properties.properties.vmSize"),
        A("vm_priority",                      "properties.properties.vmPriority"),
        A("scale_settings.min_node_count",    "properties.properties.scaleSettings.minNodeCount"),
        A("scale_settings.max_node_count",    "properties.properties.scaleSettings.maxNodeCount"),
    ), constants={"properties.computeType": "AmlCompute"}),
    "azurerm_search_service": M("Microsoft.Search/searchServices", "group", None, (
        *_PLACED,
        A("sku",                              "sku.name"),
        A("public_network_access_enabled",    "properties.publicNetworkAccess", enabled_lower),
        A("local_authentication_enabled",     "properties.disableLocalAuth", negated),
        A("authentication_failure_mode",      "properties.authOptions.aadOrApiKey.aadAuthFailureMode"),
        A("customer_managed_key_enforcement_enabled", "properties.encryptionWithCmk.enforcement", enabled),
        A("replica_count",                    "properties.replicaCount"),
        A("partition_count",                  "properties.partitionCount"),
        A("allowed_ips",                      "properties.networkRuleSet.ipRules", ip_values),
        A("network_rule_bypass_option",       "properties.networkRuleSet.bypass"),
        A("hosting_mode",                     "properties.hostingMode"),
        A("semantic_search_sku",              "properties.semanticSearch"),
    )),
    "azurerm_container_registry": M("Microsoft.ContainerRegistry/registries", "group", None, (
        *_PLACED,
        A("sku",                              "sku.name"),
        A("sku",                              "sku.tier"),
        A("admin_enabled",                    "properties.adminUserEnabled"),
        A("public_network_access_enabled",    "properties.publicNetworkAccess", enabled),
        A("network_rule_set.default_action",  "properties.networkRuleSet.defaultAction"),
        A("network_rule_set.ip_rule",         "properties.networkRuleSet.ipRules", acr_ip_rules),
        A("network_rule_bypass_option",       "properties.networkRuleBypassOptions"),
        A("anonymous_pull_enabled",           "properties.anonymousPullEnabled"),
        A("quarantine_policy_enabled",        "properties.policies.quarantinePolicy.status", enabled_lower),
        A("trust_policy_enabled",             "properties.policies.trustPolicy.status", enabled_lower, "trust_policy.enabled"),
        A("retention_policy_in_days",         "properties.policies.retentionPolicy", acr_retention_days),
        A("retention_policy.enabled",         "properties.policies.retentionPolicy.status", enabled_lower),
        A("retention_policy.days",            "properties.policies.retentionPolicy.days"),
        A("export_policy_enabled",            "properties.policies.exportPolicy.status", enabled_lower),
        A("encryption",                       "properties.encryption.status", present("enabled")),
        A("encryption.enabled",               "properties.encryption.status", enabled_lower),
        A("encryption.key_vault_key_id",      "properties.encryption.keyVaultProperties.keyIdentifier"),
        A("encryption.identity_client_id",    "properties.encryption.keyVaultProperties.identity"),
        A("zone_redundancy_enabled",          "properties.zoneRedundancy", enabled),
        A("data_endpoint_enabled",            "properties.dataEndpointEnabled"),
    )),
    "azurerm_kubernetes_cluster": M("Microsoft.ContainerService/managedClusters", "group", None, (
        *_PLACED,
        A("sku_tier",                         "sku.tier"),
        A("kubernetes_version",               "properties.kubernetesVersion"),
        A("dns_prefix",                       "properties.dnsPrefix"),
        A("role_based_access_control_enabled", "properties.enableRBAC"),
        A("azure_active_directory_role_based_access_control", "properties.aadProfile.managed", present(True)),
        A("azure_active_directory_role_based_access_control.managed", "properties.aadProfile.managed"),
        A("azure_active_directory_role_based_access_control.azure_rbac_enabled", "properties.aadProfile.enableAzureRBAC"),
        A("azure_active_directory_role_based_access_control.admin_group_object_ids", "properties.aadProfile.adminGroupObjectIDs"),
        A("azure_active_directory_role_based_access_control.tenant_id", "properties.aadProfile.tenantID"),
        A("local_account_disabled",           "properties.disableLocalAccounts"),
        A("network_profile.network_plugin",   "properties.networkProfile.networkPlugin"),
        A("network_profile.network_plugin_mode", "properties.networkProfile.networkPluginMode"),
        A("network_profile.network_policy",   "properties.networkProfile.networkPolicy"),
        A("network_profile.network_data_plane", "properties.networkProfile.networkDataplane"),
        A("network_profile.outbound_type",    "properties.networkProfile.outboundType"),
        A("private_cluster_enabled",          "properties.apiServerAccessProfile.enablePrivateCluster"),
        A("api_server_access_profile.authorized_ip_ranges", "properties.apiServerAccessProfile.authorizedIPRanges", None, "api_server_authorized_ip_ranges"),
        A("run_command_enabled",              "properties.apiServerAccessProfile.disableRunCommand", negated),
        A("azure_policy_enabled",             "properties.addonProfiles.azurepolicy.enabled"),
        A("oms_agent",                        "properties.addonProfiles.omsagent.enabled", present(True)),
        A("oms_agent.log_analytics_workspace_id", "properties.addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID", ref=True),
        A("microsoft_defender",               "properties.securityProfile.defender.securityMonitoring.enabled", present(True)),
        A("microsoft_defender.log_analytics_workspace_id", "properties.securityProfile.defender.logAnalyticsWorkspaceResourceId", ref=True),
        A("workload_identity_enabled",        "properties.securityProfile.workloadIdentity.enabled"),
        A("image_cleaner_enabled",            "properties.securityProfile.imageCleaner.enabled"),
        A("oidc_issuer_enabled",              "properties.oidcIssuerProfile.enabled"),
        A("automatic_upgrade_channel",        "properties.autoUpgradeProfile.upgradeChannel", None, "automatic_channel_upgrade"),
        A("node_os_upgrade_channel",          "properties.autoUpgradeProfile.nodeOSUpgradeChannel", None, "node_os_channel_upgrade"),
        A("default_node_pool.name",           _POOL + "name"),
        A("default_node_pool.vm_size",        _POOL + "vmSize"),
        A("default_node_pool.node_count",     _POOL + "count"),
        A("default_node_pool.node_public_ip_enabled",  _POOL + "enableNodePublicIP", None, "default_node_pool.enable_node_public_ip"),
        A("default_node_pool.host_encryption_enabled", _POOL + "enableEncryptionAtHost", None, "default_node_pool.enable_host_encryption"),
        A("default_node_pool.vnet_subnet_id", _POOL + "vnetSubnetID", ref=True),
    ), constants={_POOL + "mode": "System"}),
    "azurerm_kubernetes_cluster_node_pool": M("Microsoft.ContainerService/managedClusters", "merge", "kubernetes_cluster_id", (
        A("name",                             "name"),
        A("mode",                             "mode"),
        A("vm_size",                          "vmSize"),
        A("node_count",                       "count"),
        A("os_type",                          "osType"),
        A("node_public_ip_enabled",           "enableNodePublicIP", None, "enable_node_public_ip"),
        A("host_encryption_enabled",          "enableEncryptionAtHost", None, "enable_host_encryption"),
        A("vnet_subnet_id",                   "vnetSubnetID", ref=True),
    ), merge_at="properties.agentPoolProfiles"),
    "azurerm_key_vault": M("Microsoft.KeyVault/vaults", "group", None, (
        *_PLACED[:2],
        A("tenant_id",                        "properties.tenantId"),
        A("sku_name",                         "properties.sku.name"),
        A("soft_delete_enabled",              "properties.enableSoftDelete"),
        A("soft_delete_retention_days",       "properties.softDeleteRetentionInDays"),
        A("purge_protection_enabled",         "properties.enablePurgeProtection"),
        A("rbac_authorization_enabled",       "properties.enableRbacAuthorization", None, "enable_rbac_authorization"),
        A("public_network_access_enabled",    "properties.publicNetworkAccess", enabled),
        A("network_acls.default_action",      "properties.networkAcls.defaultAction"),
        A("network_acls.bypass",              "properties.networkAcls.bypass"),
        A("network_acls.ip_rules",            "properties.networkAcls.ipRules", ip_values),
        A("network_acls.virtual_network_subnet_ids", "properties.networkAcls.virtualNetworkRules", subnet_ids),
        A("enabled_for_deployment",           "properties.enabledForDeployment"),
        A("enabled_for_disk_encryption",      "properties.enabledForDiskEncryption"),
        A("enabled_for_template_deployment",  "properties.enabledForTemplateDeployment"),
    ), constants={"properties.sku.family": "A",
                  # azurerm v3+ always creates vaults with soft delete on (Azure no longer allows off)
                  "properties.enableSoftDelete": True}),
    "azurerm_key_vault_key": M("Microsoft.KeyVault/vaults/keys", "child", "key_vault_id", (
        A("tags",                             "tags"),
        A("key_type",                         "properties.kty"),
        A("key_size",                         "properties.keySize"),
        A("curve",                            "properties.curveName"),
        A("key_opts",                         "properties.keyOps"),
        A("expiration_date",                  "properties.attributes.exp", unix_time),
        A("not_before_date",                  "properties.attributes.nbf", unix_time),
        A("rotation_policy",                  "properties.rotationPolicy", rotation_policy),
        A("versionless_id",                   "properties.keyUri"),
    ), id_attr="resource_id",
       # azurerm has no attribute to create a disabled key
       constants={"properties.attributes.enabled": True}),
    "azurerm_storage_account": M("Microsoft.Storage/storageAccounts", "group", None, (
        *_PLACED,
        A("account_kind",                     "kind"),
        A("*",                                "sku.name", storage_sku),
        A("account_tier",                     "sku.tier"),
        A("access_tier",                      "properties.accessTier"),
        A("allow_nested_items_to_be_public",  "properties.allowBlobPublicAccess", None, "allow_blob_public_access"),
        A("shared_access_key_enabled",        "properties.allowSharedKeyAccess"),
        A("min_tls_version",                  "properties.minimumTlsVersion"),
        A("https_traffic_only_enabled",       "properties.supportsHttpsTrafficOnly", None, "enable_https_traffic_only"),
        A("public_network_access_enabled",    "properties.publicNetworkAccess", enabled),
        *(A("network_rules." + a.source, "properties.networkAcls." + a.target, a.convert) for a in _STORAGE_RULES),
        A("customer_managed_key",             "properties.encryption.keySource", present("Microsoft.Keyvault")),
        A("customer_managed_key.key_vault_key_id", "properties.encryption.keyvaultproperties", storage_key_url, "customer_managed_key.managed_hsm_key_id"),
        A("customer_managed_key.user_assigned_identity_id", "properties.encryption.identity.userAssignedIdentity", ref=True),
        A("infrastructure_encryption_enabled", "properties.encryption.requireInfrastructureEncryption"),
        A("cross_tenant_replication_enabled", "properties.allowCrossTenantReplication"),
        A("default_to_oauth_authentication",  "properties.defaultToOAuthAuthentication"),
        A("is_hns_enabled",                   "properties.isHnsEnabled"),
        A("local_user_enabled",               "properties.isLocalUserEnabled"),
        A("sftp_enabled",                     "properties.isSftpEnabled"),
    ), note="Each account also gets its blob service `<account id>/blobServices/default` "
            "(`Microsoft.Storage/storageAccounts/blobServices`), where blob diagnostic settings go."),
    "azurerm_storage_account_network_rules": M("Microsoft.Storage/storageAccounts", "merge", "storage_account_id",
        _STORAGE_RULES, merge_at="properties.networkAcls"),
    "azurerm_storage_account_customer_managed_key": M("Microsoft.Storage/storageAccounts", "merge", "storage_account_id", (
        A("key_vault_uri",                    "keyvaultproperties.keyvaulturi"),
        A("key_name",                         "keyvaultproperties.keyname"),
        A("key_version",                      "keyvaultproperties.keyversion"),
        A("user_assigned_identity_id",        "identity.userAssignedIdentity", ref=True),
    ), merge_at="properties.encryption", constants={"keySource": "Microsoft.Keyvault"}),
    "azurerm_log_analytics_workspace": M("Microsoft.OperationalInsights/workspaces", "group", None, (
        *_PLACED,
        A("sku",                              "properties.sku.name"),
        A("retention_in_days",                "properties.retentionInDays"),
        A("local_authentication_disabled",    "properties.features.disableLocalAuth"),
        A("local_authentication_enabled",     "properties.features.disableLocalAuth", negated),
        A("internet_ingestion_enabled",       "properties.publicNetworkAccessForIngestion", enabled),
        A("internet_query_enabled",           "properties.publicNetworkAccessForQuery", enabled),
    )),
    "azurerm_user_assigned_identity": M("Microsoft.ManagedIdentity/userAssignedIdentities", "group", None, (
        *_PLACED[:2],
        A("principal_id",                     "properties.principalId"),
        A("client_id",                        "properties.clientId"),
    )),
    "azurerm_private_endpoint": M("Microsoft.Network/privateEndpoints", "group", None, (
        *_PLACED[:2],
        A("subnet_id",                        "properties.subnet.id", ref=True),
        A("private_service_connection",       "properties.privateLinkServiceConnections", _connections(manual=False)),
        A("private_service_connection",       "properties.manualPrivateLinkServiceConnections", _connections(manual=True)),
        A("custom_network_interface_name",    "properties.customNetworkInterfaceName"),
    )),
    "azurerm_monitor_diagnostic_setting": M("Microsoft.Insights/diagnosticSettings", "extension", "target_resource_id", (
        A("log_analytics_workspace_id",       "properties.workspaceId", ref=True),
        A("storage_account_id",               "properties.storageAccountId", ref=True),
        A("eventhub_authorization_rule_id",   "properties.eventHubAuthorizationRuleId", ref=True),
        A("eventhub_name",                    "properties.eventHubName"),
        A("partner_solution_id",              "properties.marketplacePartnerId", ref=True),
        A("log_analytics_destination_type",   "properties.logAnalyticsDestinationType"),
        A("enabled_log",                      "properties.logs", log_entries),
        A("log",                              "properties.logs", log_entries),
        A("enabled_metric",                   "properties.metrics", metric_entries),
        A("metric",                           "properties.metrics", metric_entries),
    ), id_attr=None,  # azurerm's id is "<target>|<name>"
       note="Joins the target's diagnostic settings; not a resource of its own."),
    "azurerm_role_assignment": M("Microsoft.Authorization/roleAssignments", "extension", "scope", (
        A("scope",                            "properties.scope", ref=True),
        A("role_definition_name",             "properties.roleDefinitionId", builtin_role),
        A("role_definition_id",               "properties.roleDefinitionId", ref=True),
        A("principal_id",                     "properties.principalId"),
        A("principal_type",                   "properties.principalType"),
        A("condition",                        "properties.condition"),
        A("condition_version",                "properties.conditionVersion"),
        A("description",                      "properties.description"),
        A("delegated_managed_identity_resource_id", "properties.delegatedManagedIdentityResourceId"),
    ), guid_name=True, note="Also joins the role assignments of the resource at its scope."),
    "azurerm_role_definition": M("Microsoft.Authorization/roleDefinitions", "extension", "scope", (
        A("name",                             "properties.roleName"),
        A("description",                      "properties.description"),
        A("permissions",                      "properties.permissions", role_permissions),
        A("assignable_scopes",                "properties.assignableScopes"),
    ), name_attr="role_definition_id", guid_name=True, id_attr="role_definition_resource_id",
       constants={"properties.type": "CustomRole"}),
    "azurerm_security_center_subscription_pricing": M("Microsoft.Security/pricings", "subscription", None, (
        A("tier",                             "properties.pricingTier"),
        A("subplan",                          "properties.subPlan"),
        A("extension",                        "properties.extensions", pricing_extensions),
    ), name_attr="resource_type", note="Also joins the subscription's security pricings."),
    "azurerm_subscription_policy_assignment": M(_ASSIGNMENT, "extension", "subscription_id", (
        A("subscription_id",                  "properties.scope", ref=True),
        *_POLICY_ASSIGNMENT,
    ), note="Also joins the subscription's policy assignments."),
    "azurerm_resource_group_policy_assignment": M(_ASSIGNMENT, "extension", "resource_group_id", (
        A("resource_group_id",                "properties.scope", ref=True),
        *_POLICY_ASSIGNMENT,
    )),
    "azurerm_management_group_policy_assignment": M(_ASSIGNMENT, "extension", "management_group_id", (
        A("management_group_id",              "properties.scope", ref=True),
        *_POLICY_ASSIGNMENT,
    )),
    "azapi_resource": M("<type before @>", "azapi", "parent_id", (
        *_PLACED,
        A("body",                             "properties, sku, kind, identity, tags: the body as written"),
    ), note="`type` `Microsoft.X/y@version` gives the ARM type; `body` (an object, or JSON text) "
            "is the ARM resource body. A resource whose body is known only after apply is skipped."),
}
# fmt: on

_PLACEMENT = {
    "group": "id `/subscriptions/<subscription>/resourceGroups/<resource_group_name>/providers/{type}/<{name}>`",
    "resource_group": "id `/subscriptions/<subscription>/resourceGroups/<name>`",
    "child": "child of the resource `{parent}` names: id `<parent id>/{segment}/<{name}>`",
    "sibling": "in the resource group of `{parent}`: id `/subscriptions/…/resourceGroups/…/providers/{type}/<{name}>`",
    "extension": "extension of `{parent}`: id `<{parent}>/providers/{type}/<{name}>`",
    "subscription": "id `/subscriptions/<subscription>/providers/{type}/<{name}>`",
    "merge": "merged into the `{type}` that `{parent}` names, at `{merge_at}`",
    "azapi": "id `<{parent}>/providers/<type>/<name>` (child types: `<{parent}>/<segment>/<name>`)",
}


def render_markdown() -> str:
    """The table as Markdown: the committed TERRAFORM.md is this text."""
    lines = [
        "# Terraform → ARM mapping",
        "",
        "Generated by `terraform_map.render_markdown()`; edit `terraform_map.py`, not this file.",
        "An attribute the plan leaves unset stays absent (the checks apply the service default);",
        "one known only after apply is unknown. `a.b` steps into block `a`; older spellings follow",
        "the attribute in brackets. The subscription is the azurerm provider's literal",
        "`subscription_id`, else `data.azurerm_client_config`/`data.azurerm_subscription`, else",
        "`00000000-0000-0000-0000-000000000000`; names known only after apply are `<address>`",
        "(role assignments and definitions: a GUID derived from the address).",
    ]
    for tf_type, mapping in MAPPINGS.items():
        placement = _PLACEMENT[mapping.placement].format(
            type=mapping.arm_type,
            name=mapping.name_attr,
            parent=mapping.parent,
            segment=mapping.arm_type.rsplit("/", 1)[-1],
            merge_at=mapping.merge_at,
        )
        lines += ["", f"## {tf_type} → `{mapping.arm_type}`", "", placement + "."]
        if mapping.note:
            lines += ["", mapping.note]
        lines += ["", "| Terraform | ARM | conversion |", "|---|---|---|"]
        for path, value in mapping.constants.items():
            shown = "unknown (not settable from azurerm)" if value is UNKNOWN else json.dumps(value)
            lines.append(f"| (always) | `{path}` | `{shown}` |")
        for attr in mapping.attrs:
            names = f"`{attr.source}`" + "".join(f" (`{a}`)" for a in attr.aliases)
            note = (attr.convert.__doc__ or "") if attr.convert else ""
            note = "the id it refers to" if attr.ref and not note else note
            lines.append(f"| {names} | `{attr.target}` | {_cell(note)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
