"""The default narrator: what is specific to one finding, assembled from its result and control.

A finding already carries its check's ``title``, ``description`` and ``remediation`` and its
control's ``control_title``: the narrative does not repeat them (at 10,000 resources that
repetition was 0.9 KB of each 2.1 KB finding). It says which resource failed, what Tutela read
on it, and what that means under the control: framework, control id, severity, and how strongly
the check evidences the control (a supporting mapping is worded as contributing evidence, an
analogy as such).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.catalog.checks import CheckSpec, Strength
from tutela.scanner.engine.assess import Assessment, MappedControl
from tutela.scanner.engine.evaluate import CheckResult, evidence_key

_RESOURCE_NOUNS = {
    "microsoft.cognitiveservices/accounts": "Azure AI Services account",
    "microsoft.cognitiveservices/accounts/deployments": "model deployment",
    "microsoft.cognitiveservices/accounts/raipolicies": "content-filter policy",
    "microsoft.cognitiveservices/accounts/projects": "AI Foundry project",
    "microsoft.cognitiveservices/accounts/connections": "AI Foundry connection",
    "microsoft.cognitiveservices/accounts/projects/connections": "AI Foundry project connection",
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
    noun = _RESOURCE_NOUNS.get(resource_type)  # (not a default: it would be made every time)
    return resource_type.rsplit("/", 1)[-1] if noun is None else noun


def describe_evidence(evidence: tuple[tuple[str, Any], ...], limit: int = 3) -> str:
    """``properties.x is 'Enabled'; count(…) is 0`` — what the check saw, briefly."""
    parts = []
    for path, value in evidence[:limit]:
        shown = value if isinstance(value, str) and value.startswith("<") else repr(value)
        parts.append(f"{path} is {shown}")
    return "; ".join(parts)


class DeterministicNarrator:
    """Narratives that need no model: the same finding always reads the same."""

    closing_per_control = True  # the closing names the framework, control and severity only

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog or load_catalog()
        self._frameworks = {f.id: f.name for f in self._catalog.frameworks}
        self._closings: dict[tuple[str, MappedControl, str], str] = {}
        # What the check saw, by evidence_key: a large scan repeats a few hundred evidence tuples.
        self._seen: dict[Hashable, str] = {}

    def prepare(self, assessment: Assessment) -> None:
        """Nothing to prepare: every part is written from the finding alone."""

    def opening(self, result: CheckResult) -> str:
        resource = result.resource
        seen = self._described(result.evidence)
        return (
            f"The {resource_noun(resource.type)} '{resource.name}' fails {result.check.id}: "
            f"Tutela read {seen}. "
        )

    def _described(self, evidence: tuple[tuple[str, Any], ...]) -> str:
        key = evidence_key(evidence)
        seen = self._seen.get(key) if key is not None else None
        if seen is None:
            seen = describe_evidence(evidence) or "no value"
            if key is not None:
                self._seen[key] = seen
        return seen

    def closing(self, result: CheckResult, control: MappedControl, mapping: Strength) -> str:
        key = (result.check.id, control, mapping)
        text = self._closings.get(key)
        if text is None:
            text = self._closings[key] = self._closing(result.check, control, mapping)
        return text

    def _closing(self, check: CheckSpec, control: MappedControl, mapping: Strength) -> str:
        framework = self._frameworks.get(control.framework, control.framework)
        if mapping == "supporting":
            return (
                f"Under {framework} this {check.severity}-severity failure is supporting evidence "
                f"for {control.control_id}: it contributes to a gap against the control but does "
                "not by itself show one."
            )
        analogy = (
            ", by analogy (the guidance does not name this kind of resource)"
            if mapping == "by analogy"
            else ""
        )
        return (
            f"Under {framework} this is a {check.severity}-severity gap against "
            f"{control.control_id}{analogy}."
        )
