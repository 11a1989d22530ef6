"""STG-BLOB-SOFT-DELETE per source: the blob service where a source shows it, nothing where not.

A Resource Graph export holds no blob services (they are not in its ``resources`` table), so the
check has nothing to run on there and no result, never a pass; that is why the recall estate
(recall/part_b.json, a Resource Graph export) leaves this check out and these tests cover it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import CheckResult, evaluate_estate
from tutela.scanner.estate import UNKNOWN, Estate, Resource
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.arm import resources_from_arm
from tutela.scanner.sources.terraform import resources_from_terraform

SUB = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"
ACCOUNT = (
    f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.Storage/storageAccounts/stml"
)
BLOB = "microsoft.storage/storageaccounts/blobservices"


def _results(resources: list[Resource]) -> list[CheckResult]:
    check = load_catalog().check("STG-BLOB-SOFT-DELETE")
    return evaluate_estate(Estate(resources), [check], as_of=dt.date(2026, 12, 1))


def _only(resources: list[Resource]) -> CheckResult:
    (result,) = _results(resources)
    assert result.resource.type == BLOB
    return result


# --- ARM templates ----------------------------------------------------------------------------


def _template(*children: dict[str, Any]) -> list[Resource]:
    account = {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": "2023-05-01",
        "name": "stml",
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": "Standard_ZRS"},
        "properties": {},
    }
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [account, *children],
    }
    return resources_from_arm(template, "main.json")


def _blob_service(**properties: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.Storage/storageAccounts/blobServices",
        "apiVersion": "2023-05-01",
        "name": "stml/default",
        "dependsOn": ["[resourceId('Microsoft.Storage/storageAccounts', 'stml')]"],
        "properties": properties,
    }


def test_an_arm_blob_service_with_both_soft_deletes_passes() -> None:
    result = _only(
        _template(
            _blob_service(
                deleteRetentionPolicy={"enabled": True, "days": 14},
                containerDeleteRetentionPolicy={"enabled": True, "days": 14},
            )
        )
    )
    assert result.status == "pass", result.evidence
    assert result.resource.id.endswith("/storageAccounts/stml/blobServices/default")


def test_an_arm_blob_service_without_container_soft_delete_fails() -> None:
    result = _only(_template(_blob_service(deleteRetentionPolicy={"enabled": True, "days": 7})))
    assert result.status == "fail"
    assert dict(result.evidence)["properties.containerDeleteRetentionPolicy.enabled"] == (
        "<absent; service default False>"
    )


def test_an_arm_template_without_a_blob_service_gives_no_result() -> None:
    assert _results(_template()) == []


# --- Terraform plans ---------------------------------------------------------------------------


def _plan(after: dict[str, Any], after_unknown: dict[str, Any] | None = None) -> list[Resource]:
    values = {
        "name": "stml",
        "resource_group_name": "rg-ai",
        "location": "westeurope",
        "account_tier": "Standard",
        "account_replication_type": "ZRS",
        "id": ACCOUNT,
        **after,
    }
    change = {
        "address": "azurerm_storage_account.ml",
        "mode": "managed",
        "type": "azurerm_storage_account",
        "name": "ml",
        "change": {
            "actions": ["create"],
            "before": None,
            "after": values,
            "after_unknown": after_unknown or {},
        },
    }
    plan = {"format_version": "1.2", "terraform_version": "1.9.5", "resource_changes": [change]}
    return resources_from_terraform(plan, "plan.json")


def test_terraform_blob_properties_reach_the_blob_service() -> None:
    result = _only(
        _plan(
            {
                "blob_properties": [
                    {
                        "delete_retention_policy": [
                            {"days": 14, "permanent_delete_enabled": False}
                        ],
                        "container_delete_retention_policy": [{"days": 7}],
                        "versioning_enabled": True,
                    }
                ]
            }
        )
    )
    assert result.status == "pass", result.evidence
    assert result.resource.id == f"{ACCOUNT}/blobServices/default"
    assert result.resource.properties == {
        "deleteRetentionPolicy": {"enabled": True, "days": 14},
        "containerDeleteRetentionPolicy": {"enabled": True, "days": 7},
        "isVersioningEnabled": True,
    }


def test_terraform_without_blob_properties_fails() -> None:
    result = _only(_plan({"blob_properties": []}))
    assert result.status == "fail"
    assert result.resource.properties == {}


def test_terraform_blob_properties_known_only_after_apply_are_unknown() -> None:
    result = _only(_plan({}, {"blob_properties": True}))
    assert result.status == "unknown"
    assert result.resource.properties["deleteRetentionPolicy"]["enabled"] is UNKNOWN


# --- Resource Graph exports ---------------------------------------------------------------------


def test_a_resource_graph_export_has_no_blob_service_and_no_result() -> None:
    export = {
        "data": [
            {
                "id": ACCOUNT,
                "type": "Microsoft.Storage/storageAccounts",
                "name": "stml",
                "kind": "StorageV2",
                "sku": {"name": "Standard_ZRS"},
                "subscriptionId": SUB,
                "resourceGroup": "rg-ai",
                "properties": {},
            }
        ]
    }
    assert _results(resources_from_arg(export, "export.json")) == []
