"""The ARM API version each remediation format writes per resource type.

A template (ARM, Bicep), an ``azapi`` resource and an ``az rest`` URL each name one API version;
every type a catalogue fix changes or adds has one here, the newest stable version in the Azure
REST API specs that carries every property the fixes write (a preview only where no stable
version exists). ``az resource update`` picks its own and needs none.
"""

from __future__ import annotations

from typing import Final

API_VERSIONS: Final[dict[str, str]] = {
    # types whose properties a fix sets
    "microsoft.authorization/policyassignments": "2022-06-01",
    "microsoft.cognitiveservices/accounts": "2024-10-01",
    "microsoft.cognitiveservices/accounts/deployments": "2024-10-01",
    "microsoft.containerregistry/registries": "2023-07-01",
    "microsoft.containerservice/managedclusters": "2024-09-01",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.machinelearningservices/workspaces": "2024-04-01",
    "microsoft.machinelearningservices/workspaces/onlineendpoints": "2024-04-01",
    "microsoft.search/searchservices": "2023-11-01",
    "microsoft.storage/storageaccounts": "2023-05-01",
    # types a fix adds
    "microsoft.insights/diagnosticsettings": "2021-05-01-preview",
    "microsoft.security/pricings": "2024-01-01",
    "microsoft.network/privateendpoints": "2023-09-01",
}


def api_version(resource_type: str) -> str:
    """The API version for an ARM type (any casing); ValueError for a type no fix touches."""
    try:
        return API_VERSIONS[resource_type.lower()]
    except KeyError:
        raise ValueError(f"no API version chosen for {resource_type}") from None
