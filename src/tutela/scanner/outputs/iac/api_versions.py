"""The ARM API version each remediation format writes per resource type.

A template (ARM, Bicep), an ``azapi`` resource and an ``az rest`` URL each name one API version;
every type a catalogue fix changes or adds has one here, the newest stable version in the Azure
REST API specs (a preview only where no stable version exists). Every property a fix writes is
older than these versions, and ARM's breaking-change policy keeps a property in the stable
versions after the one that introduced it. ``az resource update`` picks its own version (the
provider's newest non-preview) and needs none.
"""

from __future__ import annotations

from typing import Final

# Each version was checked against the Azure REST API specs (Azure/azure-rest-api-specs, under
# specification/): the newest stable folder holding the type's spec, probed version by version
# (a newer date that is absent is noted where it was looked for). Paths below are under
# specification/<rp>/resource-manager/.
API_VERSIONS: Final[dict[str, str]] = {
    # types whose properties a fix sets
    # Microsoft.Authorization/stable/2025-03-01/policyAssignments.json (2025-11-01: none)
    "microsoft.authorization/policyassignments": "2025-03-01",
    # Microsoft.CognitiveServices/CognitiveServices/stable/2025-12-01 (its examples, e.g.
    # PauseDeployment.json, name api-version 2025-12-01; the newest spec file held is
    # stable/2025-09-01/cognitiveservices.json; 2026-01-01, 2026-03-01: none)
    "microsoft.cognitiveservices/accounts": "2025-12-01",
    "microsoft.cognitiveservices/accounts/deployments": "2025-12-01",
    # projects are in the same versions from stable/2025-06-01 on (Azure/bicep-types-az
    # generated/cognitiveservices 2025-06-01 and 2025-12-01 both declare accounts/projects)
    "microsoft.cognitiveservices/accounts/projects": "2025-12-01",
    # Microsoft.ContainerRegistry/stable/2025-04-01/containerregistry.json; its RegistryGet.json
    # example returns policies.quarantinePolicy/trustPolicy/retentionPolicy/exportPolicy
    # (2025-11-01, 2026-01-01: none)
    "microsoft.containerregistry/registries": "2025-04-01",
    # Microsoft.ContainerService/aks/stable/2026-10-01/managedClusters.json (2026-11-01: none)
    "microsoft.containerservice/managedclusters": "2026-10-01",
    # applicationinsights/Microsoft.Insights/stable/2020-02-02/components_API.json (the later
    # stable folders looked at, 2022-06-15 and 2023-06-01, hold web tests and workbooks only)
    "microsoft.insights/components": "2020-02-02",
    # databricks/resource-manager/Microsoft.Databricks/Databricks/stable/2026-01-01/databricks.json
    # (2026-04-01: none)
    "microsoft.databricks/workspaces": "2026-01-01",
    # cosmos-db/resource-manager/Microsoft.DocumentDB/DocumentDB/stable/2025-10-15/cosmos-db.json
    # (2025-11-15, 2026-01-15: none)
    "microsoft.documentdb/databaseaccounts": "2025-10-15",
    # Microsoft.KeyVault/stable/2025-05-01/keyvault.json (2026-02-01: none)
    "microsoft.keyvault/vaults": "2025-05-01",
    # Microsoft.MachineLearningServices/stable/2025-12-01/workspaceRP.json and mfe.json; its
    # Workspace/get.json example returns identity SystemAssigned,UserAssigned, managedNetwork and
    # publicNetworkAccess (2026-01-01, 2026-04-01: none)
    "microsoft.machinelearningservices/workspaces": "2025-12-01",
    "microsoft.machinelearningservices/workspaces/onlineendpoints": "2025-12-01",
    # Microsoft.Search/stable/2025-05-01/search.json (the readme's newest stable tag; newer
    # versions are previews)
    "microsoft.search/searchservices": "2025-05-01",
    # Microsoft.Storage/stable/2026-04-01/openapi.json (2026-06-01: none)
    "microsoft.storage/storageaccounts": "2026-04-01",
    # the same Storage API version holds blob services: its examples include
    # BlobServicesPutAllowPermanentDelete.json (stable/2026-04-01)
    "microsoft.storage/storageaccounts/blobservices": "2026-04-01",
    # types a fix adds
    # Microsoft.Insights/preview/2021-05-01-preview/diagnosticsSettings_API.json: diagnostic
    # settings have no stable version (stable/2021-05-01 holds metrics only)
    "microsoft.insights/diagnosticsettings": "2021-05-01-preview",
    # Microsoft.Security/stable/2024-01-01/pricings.json (stable/2025-01-01 holds no pricings)
    "microsoft.security/pricings": "2024-01-01",
    # Microsoft.Network/stable/2026-01-01/privateEndpoint.json (2026-03-01, 2026-05-01: none)
    "microsoft.network/privateendpoints": "2026-01-01",
}


def api_version(resource_type: str) -> str:
    """The API version for an ARM type (any casing); ValueError for a type no fix touches."""
    try:
        return API_VERSIONS[resource_type.lower()]
    except KeyError:
        raise ValueError(f"no API version chosen for {resource_type}") from None
