"""The declared fixes of the blob soft-delete, search identity and ML workspace v1-mode checks.

STG-GEO-REDUNDANCY and AML-COMPUTE-MIN-NODES declare manual fixes (see their catalogue entries).
"""

from __future__ import annotations

from typing import Any

from tests.scanner.fixes.harness import assert_fix_passes
from tutela.scanner.estate import Resource

SUB_ID = "00000000-0000-0000-0000-000000000001"
GROUP = f"/subscriptions/{SUB_ID}/resourceGroups/rg"
BLOB_SERVICE = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/st1/blobServices/default"
SEARCH = f"{GROUP}/providers/Microsoft.Search/searchServices/srch1"
WORKSPACE = f"{GROUP}/providers/Microsoft.MachineLearningServices/workspaces/mlw1"


def resource(resource_id: str, resource_type: str, **fields: Any) -> Resource:
    return Resource(
        id=resource_id,
        type=resource_type,
        name=resource_id.rsplit("/", 1)[-1],
        subscription_id=SUB_ID,
        resource_group="rg",
        location="westeurope",
        **fields,
    )


def test_blob_soft_delete_fix_turns_on_blob_and_container_soft_delete() -> None:
    service = resource(
        BLOB_SERVICE,
        "microsoft.storage/storageaccounts/blobservices",
        properties={"deleteRetentionPolicy": {"enabled": True, "days": 7}},
    )
    fixed = assert_fix_passes("STG-BLOB-SOFT-DELETE", [service], BLOB_SERVICE).get(BLOB_SERVICE)
    assert fixed is not None
    assert fixed.properties["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert fixed.properties["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 7}


def test_search_identity_fix_adds_a_system_assigned_identity() -> None:
    service = resource(SEARCH, "microsoft.search/searchservices", sku={"name": "standard"})
    fixed = assert_fix_passes("SRCH-MANAGED-IDENTITY", [service], SEARCH).get(SEARCH)
    assert fixed is not None
    assert fixed.identity == {"type": "SystemAssigned"}


def test_v1_legacy_fix_turns_the_mode_off() -> None:
    workspace = resource(
        WORKSPACE,
        "microsoft.machinelearningservices/workspaces",
        properties={"v1LegacyMode": True, "publicNetworkAccess": "Disabled"},
    )
    fixed = assert_fix_passes("AML-WS-V1-LEGACY", [workspace], WORKSPACE).get(WORKSPACE)
    assert fixed is not None
    assert fixed.properties == {"v1LegacyMode": False, "publicNetworkAccess": "Disabled"}
