"""The declared fixes of the Defender plan and policy checks make their failing resources pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scanner.fixes.harness import assert_fix_passes
from tutela.scanner.estate import SUBSCRIPTION_TYPE, Resource

SUB_ID = "00000000-0000-0000-0000-000000000001"
SUB = f"/subscriptions/{SUB_ID}"
ASSIGNMENT = f"{SUB}/providers/Microsoft.Authorization/policyAssignments/eu-ai-act"
MCSB = (
    "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
)


def pricing(name: str, tier: str, **properties: Any) -> dict[str, Any]:
    return {
        "id": f"{SUB}/providers/Microsoft.Security/pricings/{name}",
        "name": name,
        "type": "Microsoft.Security/pricings",
        "properties": {"pricingTier": tier, **properties},
    }


def subscription(
    pricings: list[dict[str, Any]] | None = None,
    assignments: list[dict[str, Any]] | None = None,
) -> Resource:
    return Resource(
        id=SUB,
        type=SUBSCRIPTION_TYPE,
        name=SUB_ID,
        subscription_id=SUB_ID,
        security_pricings=[] if pricings is None else pricings,
        policy_assignments=[] if assignments is None else assignments,
    )


def plan_of(resource: Resource | None, name: str) -> dict[str, Any]:
    assert resource is not None
    [plan] = [p for p in resource.security_pricings or [] if p["name"] == name]
    return dict(plan["properties"])


@pytest.mark.parametrize(
    ("check_id", "plan"),
    [
        ("DEF-AI-PLAN", "AI"),
        ("DEF-CONTAINERS-PLAN", "Containers"),
        ("DEF-KEYVAULTS-PLAN", "KeyVaults"),
        ("DEF-STORAGE-PLAN", "StorageAccounts"),
        ("DEF-CSPM-AI-SPM", "CloudPosture"),
    ],
)
def test_a_plan_on_the_free_tier_is_set_to_standard(check_id: str, plan: str) -> None:
    # A Free pricing of the plan is replaced, not duplicated, as a PUT of the pricing does.
    failing = subscription([pricing(plan, "Free"), pricing("VirtualMachines", "Standard")])
    fixed = assert_fix_passes(check_id, [failing], SUB).get(SUB)
    assert plan_of(fixed, plan)["pricingTier"] == "Standard"
    assert plan_of(fixed, "VirtualMachines")["pricingTier"] == "Standard"


def test_a_missing_plan_is_added_on_the_standard_tier() -> None:
    fixed = assert_fix_passes("DEF-AI-PLAN", [subscription([])], SUB).get(SUB)
    assert plan_of(fixed, "AI") == {"pricingTier": "Standard"}


def test_storage_plan_gets_the_v2_sub_plan_with_malware_scanning() -> None:
    fixed = assert_fix_passes("DEF-STORAGE-PLAN", [subscription([])], SUB).get(SUB)
    properties = plan_of(fixed, "StorageAccounts")
    assert properties["subPlan"] == "DefenderForStorageV2"
    extensions = {e["name"]: e for e in properties["extensions"]}
    assert extensions["OnUploadMalwareScanning"]["isEnabled"] == "True"
    assert extensions["SensitiveDataDiscovery"]["isEnabled"] == "True"


def test_prompt_evidence_is_turned_on_and_the_plan_stays_on() -> None:
    failing = subscription(
        [pricing("AI", "Standard", extensions=[{"name": "AIPromptEvidence", "isEnabled": "False"}])]
    )
    fixed = assert_fix_passes("DEF-AI-PROMPT-EVIDENCE", [failing], SUB).get(SUB)
    properties = plan_of(fixed, "AI")
    assert properties["pricingTier"] == "Standard"
    assert properties["extensions"] == [{"name": "AIPromptEvidence", "isEnabled": "True"}]


def test_the_benchmark_initiative_is_assigned_beside_unrelated_assignments() -> None:
    other = {
        "id": f"{SUB}/providers/Microsoft.Authorization/policyAssignments/allowed-locations",
        "name": "allowed-locations",
        "properties": {
            "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/"
            "e56962a6-4747-49cd-b67b-bf8b01975c4c"
        },
    }
    fixed = assert_fix_passes("POL-AI-INITIATIVE", [subscription(assignments=[other])], SUB)
    resource = fixed.get(SUB)
    assert resource is not None
    by_name = {a["name"]: a for a in resource.policy_assignments or []}
    assert set(by_name) == {"allowed-locations", "microsoft-cloud-security-benchmark"}
    assert by_name["microsoft-cloud-security-benchmark"]["properties"]["policyDefinitionId"] == MCSB


def test_a_do_not_enforce_assignment_is_enforced() -> None:
    assignment = Resource(
        id=ASSIGNMENT,
        type="microsoft.authorization/policyassignments",
        name="eu-ai-act",
        subscription_id=SUB_ID,
        properties={"enforcementMode": "DoNotEnforce"},
    )
    fixed = assert_fix_passes("POL-ENFORCEMENT-MODE", [assignment], ASSIGNMENT).get(ASSIGNMENT)
    assert fixed is not None
    assert fixed.properties["enforcementMode"] == "Default"
