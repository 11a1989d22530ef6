"""The default narrator: a paragraph assembled from the check, the control and the evidence."""

from __future__ import annotations

from typing import Any

from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.engine.assess import Finding

_RESOURCE_NOUNS = {
    "microsoft.cognitiveservices/accounts": "Azure AI Services account",
    "microsoft.cognitiveservices/accounts/deployments": "model deployment",
    "microsoft.cognitiveservices/accounts/raipolicies": "content-filter policy",
    "microsoft.machinelearningservices/workspaces": "Azure Machine Learning workspace",
    "microsoft.machinelearningservices/workspaces/computes": "Azure Machine Learning compute",
    "microsoft.machinelearningservices/workspaces/onlineendpoints": "online endpoint",
    "microsoft.machinelearningservices/registries": "Azure Machine Learning registry",
    "microsoft.search/searchservices": "AI Search service",
    "microsoft.containerregistry/registries": "container registry",
    "microsoft.containerservice/managedclusters": "AKS cluster",
    "microsoft.keyvault/vaults": "key vault",
    "microsoft.keyvault/vaults/keys": "Key Vault key",
    "microsoft.storage/storageaccounts": "storage account",
    "microsoft.storage/storageaccounts/blobservices": "blob service",
    "microsoft.authorization/roleassignments": "role assignment",
    "microsoft.authorization/roledefinitions": "role definition",
    "microsoft.authorization/policyassignments": "policy assignment",
    "microsoft.resources/subscriptions": "subscription",
}


def resource_noun(resource_type: str) -> str:
    return _RESOURCE_NOUNS.get(resource_type, resource_type.rsplit("/", 1)[-1])


def describe_evidence(evidence: tuple[tuple[str, Any], ...], limit: int = 3) -> str:
    """``properties.x is 'Enabled'; count(…) is 0`` — what the check saw, briefly."""
    parts = []
    for path, value in evidence[:limit]:
        shown = value if isinstance(value, str) and value.startswith("<") else repr(value)
        parts.append(f"{path} is {shown}")
    return "; ".join(parts)


class DeterministicNarrator:
    """Narratives that need no model: the same finding always reads the same."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog or load_catalog()
        self._frameworks = {f.id: f.name for f in self._catalog.frameworks}

    def narrative(self, finding: Finding) -> str:
        noun = resource_noun(finding.resource_type)
        framework = self._frameworks.get(finding.framework, finding.framework)
        seen = describe_evidence(finding.evidence)
        analogy = (
            " The mapping is by analogy: the guidance does not reach this kind of resource "
            "directly, but its principle applies."
            if finding.by_analogy
            else ""
        )
        return (
            f"The {noun} '{finding.resource_name}' fails {finding.check_id}: {finding.title}. "
            f"{finding.description.strip()} Tutela read: {seen or 'no value'}. "
            f"Under {framework} this is a {finding.severity}-severity gap against "
            f"{finding.control_id} ({finding.control_title}).{analogy} "
            f"To fix it: {finding.remediation.strip()}"
        )

    def narrate(self, findings: list[Finding]) -> None:
        for finding in findings:
            finding.narrative = self.narrative(finding)
