"""Infrastructure-as-code remediation of a report's failing findings, rendered from the
catalogue's ``fix:`` data (one description, one renderer per format)."""

from tutela.scanner.outputs.iac.arm import render_arm
from tutela.scanner.outputs.iac.azcli import render_azcli
from tutela.scanner.outputs.iac.bicep import render_bicep
from tutela.scanner.outputs.iac.items import (
    PLACEHOLDER_SUBSCRIPTION,
    RemediationItem,
    configuration_fix,
    is_deployed,
    remediation_items,
)
from tutela.scanner.outputs.iac.terraform import render_terraform, split_files

__all__ = [
    "PLACEHOLDER_SUBSCRIPTION",
    "RemediationItem",
    "configuration_fix",
    "is_deployed",
    "remediation_items",
    "render_arm",
    "render_azcli",
    "render_bicep",
    "render_terraform",
    "split_files",
]
