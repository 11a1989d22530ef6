"""languageVersion 2.0 symbolic names: existing resources referred to, parent and scope."""

from __future__ import annotations

from typing import Any

from tutela.scanner.estate import UNKNOWN, Resource
from tutela.scanner.sources.arm import PLACEHOLDER_SUBSCRIPTION_ID, resources_from_arm
from tutela.scanner.sources.arm_expressions import Deployment, Evaluator

SUB = PLACEHOLDER_SUBSCRIPTION_ID
RG = f"/subscriptions/{SUB}/resourceGroups/rg-template"
SHARED = f"/subscriptions/{SUB}/resourceGroups/rg-shared"
VAULT = f"{SHARED}/providers/Microsoft.KeyVault/vaults/kv-shared"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def _template(resources: dict[str, Any], **parameters: Any) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "languageVersion": "2.0",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "vaultName": {"type": "string", "defaultValue": "kv-shared"},
            "sharedGroup": {"type": "string", "defaultValue": "rg-shared"},
            **parameters,
        },
        "resources": {
            "kv": {
                "existing": True,
                "type": "Microsoft.KeyVault/vaults",
                "apiVersion": "2023-07-01",
                "name": "[parameters('vaultName')]",
                "resourceGroup": "[parameters('sharedGroup')]",
            },
            **resources,
        },
    }


def _workspace(**properties: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.MachineLearningServices/workspaces",
        "apiVersion": "2024-04-01",
        "name": "mlw-risk",
        "properties": properties,
    }


def _by_type(resources: list[Resource]) -> dict[str, Resource]:
    return {resource.type: resource for resource in resources}


def test_an_existing_resource_s_symbolic_name_resolves_to_its_id_name_type_and_version() -> None:
    workspace = _workspace(
        keyVault="[resourceInfo('kv').id]",
        friendlyName="[resourceInfo('kv').name]",
        description="[resourceInfo('kv').type]",
        imageBuildCompute="[resourceInfo('kv').apiVersion]",
        hbiWorkspace="[reference('kv', '2023-07-01', 'Full').id]",
    )
    resources = _by_type(resources_from_arm(_template({"ws": workspace}), "ws.json"))
    properties = resources["microsoft.machinelearningservices/workspaces"].properties
    assert properties["keyVault"] == VAULT  # in its own resource group
    assert properties["friendlyName"] == "kv-shared"
    assert properties["description"] == "Microsoft.KeyVault/vaults"
    assert properties["imageBuildCompute"] == "2023-07-01"
    assert properties["hbiWorkspace"] == VAULT
    assert "microsoft.keyvault/vaults" not in resources  # referred to, not deployed


def test_an_existing_resource_s_properties_and_keys_are_unknown() -> None:
    workspace = _workspace(
        description="[reference('kv').vaultUri]",
        friendlyName="[reference('kv', '2023-07-01', 'Full').location]",
        imageBuildCompute="[listKeys('kv', '2023-07-01').keys[0].value]",
    )
    resources = _by_type(resources_from_arm(_template({"ws": workspace}), "ws.json"))
    properties = resources["microsoft.machinelearningservices/workspaces"].properties
    assert properties["description"] is UNKNOWN
    assert properties["friendlyName"] is UNKNOWN
    assert properties["imageBuildCompute"] is UNKNOWN


def test_a_parameter_without_a_value_still_names_the_existing_resource_for_links() -> None:
    template = _template({"ws": _workspace(keyVault="[resourceInfo('kv').id]")})
    del template["parameters"]["vaultName"]["defaultValue"]
    [workspace] = [
        r
        for r in resources_from_arm(template, "ws.json")
        if r.type == "microsoft.machinelearningservices/workspaces"
    ]
    assert (
        workspace.properties["keyVault"]
        == f"{SHARED}/providers/Microsoft.KeyVault/vaults/{{vaultName}}"
    )
    ev = Evaluator(template, Deployment(SUB, "rg-template"))
    assert ev.resolve("[resourceInfo('kv').name]") is UNKNOWN  # outside naming: unknown


def test_parent_and_scope_given_as_symbolic_names_place_the_declaration() -> None:
    secret = {
        "type": "Microsoft.KeyVault/vaults/secrets",
        "apiVersion": "2023-07-01",
        "parent": "kv",
        "name": "openai-key",
        "properties": {"attributes": {"enabled": True}},
    }
    lock = {
        "type": "Microsoft.Authorization/locks",
        "apiVersion": "2020-05-01",
        "scope": "kv",
        "name": "no-delete",
        "properties": {"level": "CanNotDelete"},
    }
    resources = _by_type(resources_from_arm(_template({"s": secret, "l": lock}), "kv.json"))
    assert resources["microsoft.keyvault/vaults/secrets"].id == f"{VAULT}/secrets/openai-key"
    assert resources["microsoft.keyvault/vaults/secrets"].resource_group == "rg-shared"
    assert (
        resources["microsoft.authorization/locks"].id
        == f"{VAULT}/providers/Microsoft.Authorization/locks/no-delete"
    )


def test_a_deployed_resource_and_a_copy_loop_member_resolve_by_symbolic_name() -> None:
    accounts = {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": "2023-05-01",
        "name": "[format('st{0}', copyIndex())]",
        "copy": {"name": "accounts", "count": 2},
        "properties": {},
    }
    workspace = _workspace(
        storageAccount="[resourceInfo('accounts[1]').id]",
        friendlyName="[reference('ws2').friendlyName]",
    )
    template = _template({"accounts": accounts, "ws": workspace})
    resources = resources_from_arm(template, "ws.json")
    [ws] = [r for r in resources if r.type == "microsoft.machinelearningservices/workspaces"]
    assert (
        ws.properties["storageAccount"] == f"{RG}/providers/Microsoft.Storage/storageAccounts/st1"
    )
    assert ws.properties["friendlyName"] is UNKNOWN  # not a symbol of this template
    ev = Evaluator(template, Deployment(SUB, "rg-template"))
    assert ev.resolve("[resourceInfo('ws').resourceGroup]") == "rg-template"


def test_a_parent_that_is_not_a_symbol_leaves_the_declaration_out_with_a_note() -> None:
    from tutela.scanner.sources import reading_notes

    secret = {
        "type": "Microsoft.KeyVault/vaults/secrets",
        "apiVersion": "2023-07-01",
        "parent": "nothere",
        "name": "x",
    }
    resources = resources_from_arm(_template({"s": secret}), "orphan.json")
    assert not any(r.type == "microsoft.keyvault/vaults/secrets" for r in resources)
    assert any("parent" in n for n in reading_notes("orphan.json"))
