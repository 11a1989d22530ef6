"""The same estate as a first deployment's plan, as ``terraform show -json plan.tfplan | jq .``
prints it.

Every resource is a ``create``: ``before`` null, its ids, every reference to another resource's id
and whatever else the provider computes unknown (absent from ``after``, ``true`` in
``after_unknown``); keys and connection strings are sensitive too. Names stay known: Terraform
knows what was configured. The marks take Terraform's own shape (``unknownAsBool`` and
``SensitiveAsBool`` in its jsonplan package): a known collection is marked ``[]``/``{}`` or
element by element, a known scalar is left out of an object and ``false`` in a list. Attribute
objects are sorted by key, as Terraform writes them, and the document is indented two spaces,
one value a line, as jq prints it; each record is written as it is made.
"""

from __future__ import annotations

from typing import IO, Any

import orjson
from estate_model import Estate, Node
from plan_writer import (
    TAIL,
    PlanShape,
    configured_record,
    planned_attributes,
    provider_config,
    record_head,
    split_attributes,
)

# What azurerm computes when it creates each kind (its docs' "Attributes Reference"), beyond what
# the kinds already render as computed: plausible, not exhaustive.
COMPUTED_AT_CREATE: dict[str, tuple[str, ...]] = {
    "azurerm_storage_account": (
        *(
            f"{side}_{service}_{part}"
            for side in ("primary", "secondary")
            for service in ("blob", "queue", "table", "file", "dfs", "web")
            for part in ("endpoint", "host")
        ),
        "primary_location",
        "secondary_location",
    ),
    "azurerm_key_vault_key": (
        "e",
        "n",
        "public_key_openssh",
        "public_key_pem",
        "resource_versionless_id",
        "version",
    ),
    "azurerm_machine_learning_workspace": ("discovery_url",),
    "azurerm_private_endpoint": (
        "custom_dns_configs",
        "network_interface",
        "private_dns_zone_configs",
    ),
    "azurerm_monitor_diagnostic_setting": ("log_analytics_destination_type",),
    "azurerm_role_assignment": ("skip_service_principal_aad_check",),
    "azurerm_role_definition": ("role_definition_id",),
    "azurerm_container_registry": ("admin_username",),
    "azurerm_kubernetes_cluster": (
        "current_kubernetes_version",
        "fqdn",
        "http_application_routing_zone_name",
        "kubelet_identity",
        "node_resource_group",
        "node_resource_group_id",
        "oidc_issuer_url",
        "portal_fqdn",
        "private_fqdn",
    ),
}
# A block's reference to a key the same plan creates, written by the kinds as its URL: on a first
# deployment the key's version, so its id, is not known yet.
KEY_REFERENCES: dict[str, tuple[str, str]] = {
    "azurerm_storage_account": ("customer_managed_key", "key_vault_key_id"),
    "azurerm_cognitive_account": ("customer_managed_key", "key_vault_key_id"),
    "azurerm_machine_learning_workspace": ("encryption", "key_id"),
}
SENSITIVE_AT_CREATE: dict[str, tuple[str, ...]] = {
    "azurerm_storage_account": (
        "primary_access_key",
        "primary_blob_connection_string",
        "primary_connection_string",
        "secondary_access_key",
        "secondary_blob_connection_string",
        "secondary_connection_string",
    ),
    "azurerm_cognitive_account": ("primary_access_key", "secondary_access_key"),
    "azurerm_search_service": ("primary_key", "query_keys", "secondary_key"),
    "azurerm_container_registry": ("admin_password",),
    "azurerm_kubernetes_cluster": (
        "kube_admin_config",
        "kube_admin_config_raw",
        "kube_config",
        "kube_config_raw",
    ),
}


def _sorted(value: Any) -> Any:
    """Objects sorted by key at every depth, as Terraform writes attribute values."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def unknown_as_bool(known: Any, mark: Any) -> Any:
    """Terraform's ``after_unknown`` of a value: ``known`` holds what is known, ``mark`` the
    compact marks (``True`` where unknown) of ``split_attributes``."""
    if mark is True:
        return True
    if isinstance(known, dict):
        marks = mark if isinstance(mark, dict) else {}
        result = {}
        for key in known.keys() | marks.keys():
            flag = unknown_as_bool(known.get(key), marks.get(key, False))
            if flag is not False:
                result[key] = flag
        return result
    if isinstance(known, list):
        given: list[Any] = mark if isinstance(mark, list) else []
        flags = given + [False] * (len(known) - len(given))
        return [unknown_as_bool(item, flag) for item, flag in zip(known, flags, strict=True)]
    return False


def sensitive_as_bool(value: Any) -> Any:
    """Terraform's ``after_sensitive`` of a value none of whose known parts is sensitive."""
    if isinstance(value, dict):
        return {key: flag for key, item in value.items() if (flag := sensitive_as_bool(item))
                is not False}  # fmt: skip
    if isinstance(value, list):
        return [sensitive_as_bool(item) for item in value]
    return False


def _forget(known: dict[str, Any], marks: dict[str, Any], block: str, attribute: str) -> None:
    """Make ``block[*].attribute`` unknown where it is given."""
    items = known.get(block) or []
    given = marks.get(block) or [False] * len(items)
    block_marks = [mark if isinstance(mark, dict) else {} for mark in given]
    for item, mark in zip(items, block_marks, strict=True):
        if item.get(attribute) is not None:
            del item[attribute]
            mark[attribute] = True
    if any(block_marks):
        marks[block] = block_marks


def first_deploy_change(node: Node) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(``after``, ``after_unknown``, ``after_sensitive``) of a node created by the plan."""
    known, marks = split_attributes(planned_attributes(node), True, first_deploy=True)
    known["timeouts"] = None  # every azurerm resource has the block; unset, it is null
    tf_type = node.kind.tf_type
    if tf_type in KEY_REFERENCES:
        _forget(known, marks, *KEY_REFERENCES[tf_type])
    for name in (*COMPUTED_AT_CREATE.get(tf_type, ()), *SENSITIVE_AT_CREATE.get(tf_type, ())):
        if name not in known:
            marks[name] = True
    unknown = unknown_as_bool(known, marks)
    sensitive = sensitive_as_bool(known)
    for name in SENSITIVE_AT_CREATE.get(tf_type, ()):
        sensitive[name] = True
    return _sorted(known), _sorted(unknown), _sorted(sensitive)


def _planned(node: Node) -> dict[str, Any]:
    after, _, sensitive = first_deploy_change(node)
    return record_head(node) | {
        "schema_version": 0,
        "values": after,
        "sensitive_values": sensitive,
    }


def _change(node: Node, shape: PlanShape) -> dict[str, Any]:
    after, unknown, sensitive = first_deploy_change(node)
    change = {
        "actions": ["create"],
        "before": None,
        "after": after,
        "after_unknown": unknown,
        "before_sensitive": False,
        "after_sensitive": sensitive,
    }
    shape.count(change)
    return record_head(node) | {"change": change}


def _configured(node: Node) -> dict[str, Any]:
    configured = configured_record(node)
    configured["expressions"] = _sorted(configured["expressions"])
    return configured


_SLOTS = ("@planned@", "@changes@", "@configured@")


def _skeleton(estate: Estate) -> list[tuple[bytes, int]]:
    """The document around its three lists, jq's layout: (text before each list's records, the
    records' indentation), then the text after the last list."""
    document = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": [_SLOTS[0]]}},
        "resource_changes": [_SLOTS[1]],
        "configuration": {
            "provider_config": provider_config(estate),
            "root_module": {"resources": [_SLOTS[2]]},
        },
        **TAIL,
    }
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    parts = []
    for slot in _SLOTS:
        before, text = text.split(b'"%s"' % slot.encode(), 1)
        indent = len(before) - len(before.rstrip(b" "))
        parts.append((before[:-indent], indent))
    parts.append((text, 0))
    return parts


def write_first_deploy_plan(estate: Estate, out: IO[bytes]) -> PlanShape:
    """Write the plan of deploying the whole estate into an empty subscription, one record at a
    time: each record dumped two-space indented, then shifted to its depth in the document."""
    nodes = [node for node in estate.nodes if node.kind.tf_type]
    shape = PlanShape()
    parts = _skeleton(estate)
    renders = (_planned, lambda node: _change(node, shape), _configured)
    dump, indented = orjson.dumps, orjson.OPT_INDENT_2
    for (text, depth), render in zip(parts, renders, strict=False):
        out.write(text)
        indent = b" " * depth
        newline = b"\n" + indent
        for number, node in enumerate(nodes):
            if number:
                out.write(b",\n")
            out.write(indent + dump(render(node), option=indented).replace(b"\n", newline))
    out.write(parts[-1][0])
    return shape
