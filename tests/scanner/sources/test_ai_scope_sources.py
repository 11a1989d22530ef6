"""AI scope is the same from every source: links arrive as ids equal to their targets' ids.

One small estate (an ML workspace linked to a storage account, a key vault and a container
registry, plus a storage account nothing links) is written as a Resource Graph export (what a
snapshot holds), an ARM template and a Terraform plan; each must give the same reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.scanner.sources.replay import ReplayTransport
from tutela.scanner.ai_scope import ai_scope
from tutela.scanner.estate import Estate
from tutela.scanner.sources import parse_document
from tutela.scanner.sources.azure import read_live_estate

SUB = "5c0f9a3e-1d2b-4c6a-8e7f-0a1b2c3d4e5f"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-ml/providers"
NAMES = {
    "storage": ("Microsoft.Storage/storageAccounts", "stmlrisk"),
    "unlinked": ("Microsoft.Storage/storageAccounts", "stbackups"),
    "vault": ("Microsoft.KeyVault/vaults", "kv-ml-risk"),
    "registry": ("Microsoft.ContainerRegistry/registries", "crmlrisk"),
    "workspace": ("Microsoft.MachineLearningServices/workspaces", "mlw-risk"),
}
EXPECTED = {
    ("microsoft.storage/storageaccounts", "stmlrisk"): (
        "default storage account of Azure ML workspace 'mlw-risk'"
    ),
    ("microsoft.storage/storageaccounts", "stbackups"): None,
    ("microsoft.keyvault/vaults", "kv-ml-risk"): "key vault of Azure ML workspace 'mlw-risk'",
    ("microsoft.containerregistry/registries", "crmlrisk"): (
        "container registry of Azure ML workspace 'mlw-risk'"
    ),
    ("microsoft.resources/subscriptions", None): (
        "the subscription holds Azure ML workspace 'mlw-risk'"
    ),
}


def scoped(document: Any, source: str) -> dict[tuple[str, str | None], str | None]:
    """(type, name) → reason, for the general-purpose resources the expectation names."""
    estate = Estate(parse_document(document, source))
    scope = ai_scope(estate)
    found: dict[tuple[str, str | None], str | None] = {}
    for resource in estate:
        name = None if resource.type == "microsoft.resources/subscriptions" else resource.name
        if (resource.type, name) in EXPECTED:
            found[(resource.type, name)] = scope.reason(resource)
    return found


def _id(part: str) -> str:
    arm_type, name = NAMES[part]
    return f"{RG}/{arm_type}/{name}"


def resource_graph_export() -> dict[str, Any]:
    def row(part: str, **properties: Any) -> dict[str, Any]:
        arm_type, name = NAMES[part]
        return {
            "id": _id(part),
            "name": name,
            "type": arm_type.lower(),
            "subscriptionId": SUB,
            "resourceGroup": "rg-ml",
            "properties": properties,
        }

    rows = [
        row("storage"),
        row("unlinked"),
        row("vault", vaultUri="https://kv-ml-risk.vault.azure.net/"),
        row("registry"),
        # ARM returns the associated ids in its own spelling; Resource Graph passes them on.
        row(
            "workspace",
            storageAccount=_id("storage").replace("/resourceGroups/", "/resourcegroups/"),
            keyVault=_id("vault"),
            containerRegistry=_id("registry").lower(),
        ),
    ]
    return {"count": len(rows), "data": rows, "skip_token": None}


def arm_template(storage_name: Any = "stmlrisk") -> dict[str, Any]:
    parameters: dict[str, Any] = {"storageName": {"type": "string"}}
    if storage_name is not None:
        parameters["storageName"]["defaultValue"] = storage_name

    def declared(part: str, **properties: Any) -> dict[str, Any]:
        arm_type, name = NAMES[part]
        if part == "storage":
            name = "[parameters('storageName')]"
        return {
            "type": arm_type,
            "apiVersion": "2024-01-01",
            "name": name,
            "properties": properties,
        }

    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": parameters,
        "resources": [
            declared("storage"),
            declared("unlinked"),
            declared("vault"),
            declared("registry"),
            declared(
                "workspace",
                storageAccount=f"[resourceId('{NAMES['storage'][0]}', parameters('storageName'))]",
                keyVault=f"[resourceId('{NAMES['vault'][0]}', 'kv-ml-risk')]",
                containerRegistry=f"[resourceId('{NAMES['registry'][0]}', 'crmlrisk')]",
            ),
        ],
    }


def terraform_plan() -> dict[str, Any]:
    """A plan creating everything: no id is known before apply, so links resolve by reference."""

    def change(address: str, after: dict[str, Any], *unknown: str) -> dict[str, Any]:
        tf_type, name = address.split(".")
        flags = {"id": True} | dict.fromkeys(unknown, True)
        return {
            "address": address,
            "mode": "managed",
            "type": tf_type,
            "name": name,
            "change": {"actions": ["create"], "after": after, "after_unknown": flags},
        }

    def placed(name: str, **values: Any) -> dict[str, Any]:
        return {"name": name, "resource_group_name": "rg-ml", "location": "westeurope"} | values

    links = {
        "storage_account_id": "azurerm_storage_account.ml",
        "key_vault_id": "azurerm_key_vault.ml",
        "container_registry_id": "azurerm_container_registry.ml",
    }
    return {
        "format_version": "1.2",
        "resource_changes": [
            change("azurerm_storage_account.ml", placed("stmlrisk", account_tier="Standard")),
            change("azurerm_storage_account.backups", placed("stbackups")),
            change("azurerm_key_vault.ml", placed("kv-ml-risk", sku_name="standard")),
            change("azurerm_container_registry.ml", placed("crmlrisk", sku="Premium")),
            change("azurerm_machine_learning_workspace.ml", placed("mlw-risk"), *links),
        ],
        "configuration": {
            "provider_config": {
                "azurerm": {
                    "name": "azurerm",
                    "expressions": {"subscription_id": {"constant_value": SUB}},
                }
            },
            "root_module": {
                "resources": [
                    {
                        "address": "azurerm_machine_learning_workspace.ml",
                        "expressions": {
                            attribute: {"references": [f"{target}.id", target]}
                            for attribute, target in links.items()
                        },
                    }
                ]
            },
        },
    }


@pytest.mark.parametrize(
    ("document", "source"),
    [
        (resource_graph_export(), "snapshot.json"),
        (arm_template(), "template.json"),
        (terraform_plan(), "plan.json"),
    ],
    ids=["resource-graph", "arm", "terraform"],
)
def test_the_same_estate_gives_the_same_reasons_from_every_source(
    document: dict[str, Any], source: str
) -> None:
    assert scoped(document, source) == EXPECTED


def test_a_template_storage_account_named_by_a_parameter_without_value_stays_linked() -> None:
    template = arm_template(storage_name=None)
    estate = Estate(parse_document(template, "template.json"))
    (account,) = (r for r in estate if r.name == "{storageName}")
    assert ai_scope(estate).reason(account) == (
        "default storage account of Azure ML workspace 'mlw-risk'"
    )


def test_a_template_link_built_by_reference_is_unknown_and_widens_the_scope() -> None:
    template = arm_template()
    workspace = template["resources"][-1]
    workspace["properties"]["keyVault"] = (
        "[reference(resourceId('Microsoft.Resources/deployments', 'kv')).outputs.id.value]"
    )
    found = scoped(template, "template.json")
    assert found[("microsoft.keyvault/vaults", "kv-ml-risk")] == (
        "the key vault of Azure ML workspace 'mlw-risk' cannot be resolved from the input, so "
        "every key vault is considered in scope"
    )
    assert found[("microsoft.storage/storageaccounts", "stbackups")] is None


def test_a_plan_link_without_a_reference_to_follow_is_unknown() -> None:
    plan = terraform_plan()
    del plan["configuration"]["root_module"]["resources"][0]["expressions"]["storage_account_id"]
    found = scoped(plan, "plan.json")
    assert found[("microsoft.storage/storageaccounts", "stbackups")] == (
        "the default storage account of Azure ML workspace 'mlw-risk' cannot be resolved from "
        "the input, so every storage account is considered in scope"
    )


# --- links only Terraform had to learn ----------------------------------------------------------


def test_plan_cognitive_storage_blocks_and_inference_clusters_link_their_resources() -> None:
    plan = terraform_plan()
    changes = plan["resource_changes"]
    account = {
        "name": "oai-risk",
        "resource_group_name": "rg-ml",
        "kind": "OpenAI",
        "storage": [{"identity_client_id": "0f6d1c2b-8a4e-4f3d-9b7a-6c5e4d3c2b1a"}],
    }
    unknown = {"id": True, "storage": [{"storage_account_id": True}]}
    changes.append(
        {
            "address": "azurerm_cognitive_account.oai",
            "mode": "managed",
            "type": "azurerm_cognitive_account",
            "name": "oai",
            "change": {"actions": ["create"], "after": account, "after_unknown": unknown},
        }
    )
    cluster = {"name": "aks-serving", "resource_group_name": "rg-ml", "location": "westeurope"}
    attach = {"name": "inference", "location": "westeurope", "cluster_purpose": "FastProd"}
    for address, after, flags in (
        ("azurerm_kubernetes_cluster.serving", cluster, {"id": True}),
        (
            "azurerm_machine_learning_inference_cluster.inference",
            attach,
            {"id": True, "kubernetes_cluster_id": True, "machine_learning_workspace_id": True},
        ),
    ):
        tf_type, name = address.split(".")
        change = {"actions": ["create"], "after": after, "after_unknown": flags}
        changes.append(
            {"address": address, "mode": "managed", "type": tf_type, "name": name, "change": change}
        )
    configured = plan["configuration"]["root_module"]["resources"]
    configured.append(
        {
            "address": "azurerm_cognitive_account.oai",
            "expressions": {
                "storage": [
                    {"storage_account_id": {"references": ["azurerm_storage_account.backups.id"]}}
                ]
            },
        }
    )
    configured.append(
        {
            "address": "azurerm_machine_learning_inference_cluster.inference",
            "expressions": {
                "kubernetes_cluster_id": {"references": ["azurerm_kubernetes_cluster.serving.id"]},
                "machine_learning_workspace_id": {
                    "references": ["azurerm_machine_learning_workspace.ml.id"]
                },
            },
        }
    )
    estate = Estate(parse_document(plan, "plan.json"))
    by_name = {r.name: r for r in estate}
    compute = by_name["inference"]
    assert compute.id == f"{_id('workspace')}/computes/inference"
    assert compute.properties == {
        "computeType": "AKS",
        "resourceId": f"{RG}/Microsoft.ContainerService/managedClusters/aks-serving",
        "properties": {"clusterPurpose": "FastProd"},
    }
    assert by_name["oai-risk"].properties["userOwnedStorage"] == [
        {
            "resourceId": _id("unlinked"),
            "identityClientId": "0f6d1c2b-8a4e-4f3d-9b7a-6c5e4d3c2b1a",
        }
    ]
    scope = ai_scope(estate)
    assert scope.reason(by_name["aks-serving"]) == (
        "cluster attached as compute 'inference' of Azure ML workspace 'mlw-risk'"
    )
    assert scope.reason(by_name["stbackups"]) == (
        "user-owned storage account of Azure OpenAI account 'oai-risk'"
    )


# --- a live scan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Principal:
    """The service principal of the recorded answers (tests/scanner/sources/recordings)."""

    tenant_id: str = "9b1f3c2d-4e5a-4f60-8a7b-6c5d4e3f2a10"
    client_id: str = "5e7d9c1b-2a3f-4e6d-8b9c-0f1e2d3c4b5a"
    client_secret: str = "Qx8~kTn3.Vb_q2RzW7yHc-9LmPdF4sJe"


def test_a_live_scan_links_as_its_resource_graph_export_does() -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json")
    subscription = "3f2b8c1e-5d4a-4b7e-9c6f-2a1d0e8b7c54"
    estate = read_live_estate(_Principal(), [subscription], transport=transport).estate
    scope = ai_scope(estate)
    by_name = {r.name: scope.reason(r) for r in estate if scope.is_general_purpose(r.type)}
    assert by_name["stcontosoaitrain"] == (
        "default storage account of Azure ML workspace 'mlw-contoso-prod'"
    )
    assert by_name["kv-contoso-ai"] == "key vault of Azure ML workspace 'mlw-contoso-prod'"
    assert by_name["cmk-oai"] == (
        "its key vault 'kv-contoso-ai' is in scope: key vault of Azure ML workspace "
        "'mlw-contoso-prod'"
    )
