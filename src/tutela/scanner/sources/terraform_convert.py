"""The records the azurerm → ARM table is made of (``Mapping``, ``Attr``) and its conversions.

One ``Mapping`` per supported resource type; one ``Attr`` per attribute, read from the plan's
``change.after`` and written at an ARM path. A source path steps into a nested block (a list of
one object in the plan) by name: ``network_acls.default_action``; ``*`` is the whole resource. A
target path may index a list: ``properties.agentPoolProfiles.0.name``. ``aliases`` are older
spellings of the same attribute (azurerm v3 ``enable_*`` beside v4 ``*_enabled``); the first one
the plan sets wins. An attribute the plan leaves unset stays absent: the service's default is the
checks' business, never the source's.
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


def credential(kind: str) -> Convert:
    """A secret the plan sets, even one known only after apply, becomes its credential ``kind``:
    the value itself is never kept."""

    def convert(_value: Any, _refs: Refs) -> Any:
        return kind

    convert.__doc__ = f"secret set (its value dropped, known or not) → `{json.dumps(kind)}`"
    convert.on_unknown = True  # type: ignore[attr-defined]  # sources/terraform.py: run on UNKNOWN
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
    """built-in role name → `/subscriptions/<s>/providers/Microsoft.Authorization/roleDefinitions/<guid>`"""  # noqa: E501
    guid = BUILTIN_ROLES.get(value) if isinstance(value, str) else None
    if guid is None:
        return None  # a custom role's name: its id comes from role_definition_id
    prefix = f"/subscriptions/{refs.subscription}/providers/Microsoft.Authorization"
    return f"{prefix}/roleDefinitions/{guid}"


def connections(*, manual: bool) -> Convert:
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
    convert.__doc__ = f"blocks with `is_manual_connection = {flag}` → `[{{name, properties: {{privateLinkServiceId, groupIds}}}}]`"  # noqa: E501
    return convert


def user_owned_storage(value: Any, refs: Refs) -> Any:
    """blocks → `[{resourceId: storage_account_id, identityClientId}]`"""
    out = []
    for index, block in enumerate(_blocks(value)):
        target = block.get("storage_account_id")
        if target is UNKNOWN:  # an account created in the same plan: the id it refers to
            target = refs.resolve(("storage", index, "storage_account_id"))
        out.append({"resourceId": target, "identityClientId": block.get("identity_client_id")})
    return out or None


def storage_sku(values: Any, _refs: Refs) -> Any:
    """`account_tier` + `account_replication_type` → `"Standard_LRS"`"""
    tier, replication = values.get("account_tier"), values.get("account_replication_type")
    if tier is UNKNOWN or replication is UNKNOWN:
        return UNKNOWN
    return f"{tier}_{replication}" if tier and replication else None


def cmk_entity(value: Any, refs: Refs) -> Any:
    """key id → `{keySource: "Microsoft.Keyvault", keyVaultProperties: {keyVaultUri, keyName, keyVersion}}`"""  # noqa: E501
    # A key created in the same plan has no id yet: the key source is known all the same.
    properties = UNKNOWN if value is UNKNOWN else key_url(value, refs)
    return {"keySource": "Microsoft.Keyvault", "keyVaultProperties": properties}


cmk_entity.on_unknown = True  # type: ignore[attr-defined]  # sources/terraform.py: run on UNKNOWN


def cosmos_ip_rules(value: Any, _refs: Refs) -> Any:
    """`["1.2.3.4", …]` (or v3's `"1.2.3.4,…"`) → `[{"ipAddressOrRange": "1.2.3.4"}]`"""
    ranges = value.split(",") if isinstance(value, str) else _listed(value)
    return [
        {"ipAddressOrRange": ip.strip() if isinstance(ip, str) else ip}
        for ip in ranges
        if ip is UNKNOWN or (isinstance(ip, str) and ip.strip())
    ]


def cosmos_vnet_rules(value: Any, _refs: Refs) -> Any:
    """blocks → `[{"id", "ignoreMissingVNetServiceEndpoint"}]`"""
    key = "ignore_missing_vnet_service_endpoint"
    return [
        {"id": r.get("id"), "ignoreMissingVNetServiceEndpoint": r.get(key)} for r in _blocks(value)
    ]


def capability_names(value: Any, _refs: Refs) -> Any:
    """blocks → `[{"name"}]`"""
    return [{"name": c.get("name")} for c in _blocks(value)]


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
