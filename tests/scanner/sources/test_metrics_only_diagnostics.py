"""A diagnostic setting that sends metrics only is "no logs" on its resource, in every source.

The same key vault, with one setting that sends AllMetrics to a Log Analytics workspace and no
log category, read from a Resource Graph export, an ARM template and a Terraform plan: each
source hangs the setting on the vault, and KV-DIAG-LOGS fails there saying why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import CheckResult, evaluate_estate
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.arm import resources_from_arm
from tutela.scanner.sources.terraform import resources_from_terraform

SUB = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod"
VAULT = f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv-ai-prod"
OPS = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers"
LAW = f"{OPS}/Microsoft.OperationalInsights/workspaces/law"
METRICS = [{"category": "AllMetrics", "enabled": True}]


def _vault_result(resources: list[Resource]) -> CheckResult:
    check = load_catalog().check("KV-DIAG-LOGS")
    results = evaluate_estate(Estate(resources), [check], as_of=dt.date(2026, 12, 1))
    (result,) = [r for r in results if r.resource.type == "microsoft.keyvault/vaults"]
    return result


def _resource_graph() -> list[Resource]:
    export = {
        "data": [
            {
                "id": VAULT,
                "type": "Microsoft.KeyVault/vaults",
                "name": "kv-ai-prod",
                "location": "westeurope",
                "subscriptionId": SUB,
                "resourceGroup": "rg-ai-prod",
                "properties": {"enableSoftDelete": True},
            },
            {
                "id": f"{VAULT}/providers/microsoft.insights/diagnosticSettings/metrics-only",
                "type": "Microsoft.Insights/diagnosticSettings",
                "name": "metrics-only",
                "properties": {
                    "workspaceId": LAW,
                    "storageAccountId": None,
                    "logs": [],
                    "metrics": [{"timeGrain": None, **METRICS[0]}],
                },
            },
        ]
    }
    return resources_from_arg(export, "export.json")


def _arm_template() -> list[Resource]:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.KeyVault/vaults",
                "apiVersion": "2023-07-01",
                "name": "kv-ai-prod",
                "location": "westeurope",
                "properties": {"tenantId": "t", "sku": {"family": "A", "name": "standard"}},
            },
            {
                "type": "Microsoft.Insights/diagnosticSettings",
                "apiVersion": "2021-05-01-preview",
                "scope": "[format('Microsoft.KeyVault/vaults/{0}', 'kv-ai-prod')]",
                "name": "metrics-only",
                "properties": {"workspaceId": LAW, "metrics": METRICS},
            },
        ],
    }
    return resources_from_arm(template, "main.json")


def _change(address: str, after: dict[str, Any]) -> dict[str, Any]:
    kind, name = address.split(".")
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/azurerm",
        "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": {}},
    }


def _terraform_plan(metric_block: str) -> list[Resource]:
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "resource_changes": [
            _change(
                "azurerm_key_vault.main",
                {
                    "name": "kv-ai-prod",
                    "resource_group_name": "rg-ai-prod",
                    "location": "westeurope",
                    "sku_name": "standard",
                    "tenant_id": "t",
                    "soft_delete_retention_days": 90,
                    "id": VAULT,
                },
            ),
            _change(
                "azurerm_monitor_diagnostic_setting.kv",
                {
                    "name": "metrics-only",
                    "target_resource_id": VAULT,
                    "log_analytics_workspace_id": LAW,
                    metric_block: [{"category": "AllMetrics", "enabled": True}],
                },
            ),
        ],
    }
    return resources_from_terraform(plan, "plan.json")


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(_resource_graph, id="resource-graph"),
        pytest.param(_arm_template, id="arm-template"),
        pytest.param(lambda: _terraform_plan("enabled_metric"), id="terraform-enabled_metric"),
        pytest.param(lambda: _terraform_plan("metric"), id="terraform-metric"),
    ],
)
def test_a_metrics_only_setting_is_no_logs_on_its_vault(read: Any) -> None:
    result = _vault_result(read())
    assert result.status == "fail", result.evidence
    evidence = dict(result.evidence)
    assert evidence["diagnosticSettings[metrics-only]"] == "metrics only, no logs"
    assert evidence["diagnosticSettings"] == "1 setting(s), none qualifying"


def test_the_same_setting_with_an_audit_log_passes() -> None:
    """The control case: the setting is found and read; only its missing logs fail it."""
    resources = _resource_graph()
    vault = next(r for r in resources if r.type == "microsoft.keyvault/vaults")
    assert vault.diagnostic_settings is not None
    (only,) = vault.diagnostic_settings
    only["properties"]["logs"] = [{"categoryGroup": "audit", "enabled": True}]
    assert _vault_result(resources).status == "pass"
