"""Declared fixes of the AI Foundry checks make the failing resource pass."""

from __future__ import annotations

from tests.scanner.fixes.harness import assert_fix_passes
from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import Resource

SUB = "00000000-0000-0000-0000-000000000001"
ACCOUNT = (
    f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/aif1"
)
PROJECT = f"{ACCOUNT}/projects/risk"


def project() -> Resource:
    """A Foundry project without a managed identity."""
    return Resource(
        id=PROJECT,
        type="microsoft.cognitiveservices/accounts/projects",
        name="risk",
        subscription_id=SUB,
        resource_group="rg-ai",
        location="swedencentral",
        properties={"displayName": "Risk"},
    )


def test_the_project_identity_fix_turns_on_a_system_assigned_identity() -> None:
    fixed = assert_fix_passes("AIF-PROJECT-IDENTITY", [project()], PROJECT)
    fixed_project = fixed.get(PROJECT)
    assert fixed_project is not None
    assert fixed_project.identity == {"type": "SystemAssigned"}


def test_a_connection_s_secret_is_fixed_by_hand_at_its_target() -> None:
    fix = load_catalog().check("AIF-CONNECTION-SECRET").fix
    assert fix is not None
    assert fix.manual
    assert "rotated" in fix.manual
