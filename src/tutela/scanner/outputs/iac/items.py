"""A report's failing findings as remediation items: one per (check, resource)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import Fix

# ARM-template reports (and plans without a literal subscription) place resources here.
PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


class FailingFinding(Protocol):
    """What the items read of a finding (a stored report's, or an ``InsightFinding``)."""

    check_id: Any
    resource: Any
    resource_name: Any
    resource_type: Any
    framework: Any
    control_id: Any
    # "<file>: <address or template path>" for IaC reports (absent on older stored findings)
    origin: Any


@dataclass
class RemediationItem:
    """A failing resource of a check, and the controls its fix remediates."""

    check_id: str
    resource: str  # the report's resource id
    resource_name: str
    resource_type: str
    controls: dict[str, None] = field(default_factory=dict)  # "framework control", ordered
    findings: int = 0  # the report's findings of this (check, resource)
    origin: str = ""  # where an IaC report read it: "<file>: <plan address or template path>"

    @property
    def address(self) -> str:
        """The plan address (or template path) of an IaC report's resource; "" for live ones."""
        _, sep, address = self.origin.rpartition(": ")
        return address if sep else ""


def remediation_items(findings: Iterable[FailingFinding]) -> list[RemediationItem]:
    """Failing findings grouped by (check, resource), in first-seen (report) order."""
    items: dict[tuple[str, str], RemediationItem] = {}
    for finding in findings:
        key = (str(finding.check_id), str(finding.resource))
        item = items.get(key)
        if item is None:
            item = items[key] = RemediationItem(
                check_id=key[0],
                resource=key[1],
                resource_name=str(finding.resource_name or ""),
                resource_type=str(finding.resource_type or ""),
                origin=str(getattr(finding, "origin", None) or ""),
            )
        item.controls.setdefault(f"{finding.framework} {finding.control_id}".strip())
        item.findings += 1
    return list(items.values())


def is_deployed(item: RemediationItem, source: str | None) -> bool:
    """Whether the item is a deployed resource a script may change in place.

    A plan's or a template's resources (``source`` "terraform" or "arm") are fixed in their
    source, even when a plan names a real subscription; and nothing is ever sent to the
    placeholder subscription.
    """
    if source in ("terraform", "arm"):
        return False
    lowered = item.resource.lower()
    return lowered.startswith("/subscriptions/") and not lowered.startswith(
        f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}"
    )


def in_source_reason(item: RemediationItem, source: str | None) -> str:
    """Why an item that :func:`is_deployed` refuses is fixed in its source, and where."""
    where = f" ({item.origin})" if item.origin else ""
    if source == "terraform":
        return f"A Terraform plan's resource{where}: set this in its configuration and apply."
    if source == "arm" or item.resource.lower().startswith(
        f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}"
    ):
        return f"An ARM template's resource{where}, not deployed yet: set this in the template."
    return f"Not an Azure resource id{where}: fix it in its source."


def configuration_fix(catalog: Catalog, check_id: str) -> Fix | None:
    """The check's fix when it changes configuration (not manual); None otherwise."""
    for check in catalog.checks:
        if check.id == check_id:
            return check.fix if check.fix is not None and not check.fix.manual else None
    return None
