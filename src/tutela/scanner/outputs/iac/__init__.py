"""Infrastructure-as-code remediation of a report's failing findings, rendered from the
catalogue's ``fix:`` data (one description, one renderer per format)."""

from tutela.scanner.outputs.iac.azcli import render_azcli
from tutela.scanner.outputs.iac.items import (
    FORMATS,
    FORMATS_NOT_BUILT,
    RemediationItem,
    configuration_fix,
    remediation_items,
)

__all__ = [
    "FORMATS",
    "FORMATS_NOT_BUILT",
    "RemediationItem",
    "configuration_fix",
    "remediation_items",
    "render_azcli",
]
