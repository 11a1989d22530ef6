"""What a scan never looked at: the entries of a report's ``not_evaluated`` (docs/outputs.md).

An entry reads ``{"reason", "type", "count", "resources", "detail"}``: why the resources were
not evaluated, their type (lower-cased ARM, or Terraform for a plan's), how many there are, at
most ``LISTED`` of them (ids, or where they are declared: ``<input>: <path or address>``), and
one line saying what was left. Reading records its entries (``linked_template``,
``template_expression``, ``condition_false``, ``plan_skipped``) per input (``from_reading``);
the scan adds the ``no_check`` ones: resources read in full whose type no check of the scan
applies to (``unchecked``). Types that are facts the checks read from other resources
(diagnostic settings, role assignments, private endpoints, pricings, policy assignments,
subscriptions, resource groups; children their parent's checks read: content filter policies,
registry replications, node pools) are never listed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final, Literal

from tutela.scanner.estate import SUBSCRIPTION_TYPE, Estate
from tutela.scanner.sources.relate import (
    DIAGNOSTIC_SETTING_TYPE,
    POLICY_ASSIGNMENT_TYPE,
    PRICING_TYPE,
    PRIVATE_ENDPOINT_TYPE,
    RESOURCE_GROUP_TYPE,
    ROLE_ASSIGNMENT_TYPE,
    ROLE_DEFINITION_TYPE,
)

Reason = Literal[
    "linked_template", "template_expression", "condition_false", "plan_skipped", "no_check"
]

# Reasons whose resources reading also notes (``outputs.report.input_notes``): a text format
# that shows the notes need not say them twice.
NOTED: Final = frozenset({"linked_template", "template_expression", "plan_skipped"})
LISTED: Final = 20  # resources an entry lists; its count keeps the number
NO_CHECK: Final = "no check of this scan applies to this type"
PLAN_SKIPPED: Final = "a Terraform type the scan does not map"
CONDITION_FALSE: Final = "not deployed with the parameters given: its condition is false"
# Facts ``relate`` hangs on the resources they are about, and children the evaluators of their
# parent's checks read (a deployment's content filter policy, a registry's replications, a
# cluster's node pools): evaluated, though no check names their type.
FACT_TYPES: Final = frozenset(
    {
        "microsoft.cognitiveservices/accounts/raipolicies",
        "microsoft.containerregistry/registries/replications",
        "microsoft.containerservice/managedclusters/agentpools",
        DIAGNOSTIC_SETTING_TYPE,
        ROLE_ASSIGNMENT_TYPE,
        ROLE_DEFINITION_TYPE,
        PRICING_TYPE,
        POLICY_ASSIGNMENT_TYPE,
        PRIVATE_ENDPOINT_TYPE,
        RESOURCE_GROUP_TYPE,
        SUBSCRIPTION_TYPE,
    }
)


def entry(
    reason: Reason,
    resource_type: str,
    resources: Sequence[str],
    detail: str,
    *,
    count: int | None = None,
) -> dict[str, Any]:
    """One entry; ``count`` defaults to the number of ``resources``, of which ``LISTED`` stay."""
    return {
        "reason": reason,
        "type": resource_type,
        "count": len(resources) if count is None else count,
        "resources": list(resources[:LISTED]),
        "detail": detail,
    }


def unchecked(estate: Estate, checked_types: Collection[str]) -> list[dict[str, Any]]:
    """The ``no_check`` entries, by type: resources whose type no check in ``checked_types``
    (the types the scan's checks apply to) reads, facts aside."""
    return [
        entry("no_check", kind, [resource.id for resource in estate.of_type(kind)], NO_CHECK)
        for kind in sorted(estate.types)
        if kind not in checked_types and kind not in FACT_TYPES
    ]


def from_reading(source: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The entries the last reading of ``source`` recorded, then a plan's skipped types.

    ``kind``, when known, is what the source was read as (as ``outputs.report.input_notes``).
    """
    from tutela.scanner.sources import left_unevaluated
    from tutela.scanner.sources.plan_skips import skipped_addresses, unsupported_types

    entries = left_unevaluated(source)
    if kind not in (None, "terraform"):
        return entries
    addresses = skipped_addresses(source)
    for tf_type, count in sorted(unsupported_types(source).items()):
        listed = [f"{source}: {address}" for address in addresses.get(tf_type, ())]
        entries.append(entry("plan_skipped", tf_type, listed, PLAN_SKIPPED, count=count))
    return entries


def unnoted(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries the report's ``notes`` do not already say, for the formats that show both
    as text (table, HTML, JUnit, SARIF's notifications): the ``no_check`` ones."""
    return [entry for entry in entries if entry.get("reason") not in NOTED]


def one_line(entry: Mapping[str, Any]) -> str:
    """An entry as a line of text: where its one resource is declared, or how many of a type."""
    resources = entry.get("resources") or []
    if entry.get("count") == 1 and resources and entry.get("reason") != "no_check":
        return f"{resources[0]}: {entry.get('detail')}"
    return f"{entry.get('count')} {entry.get('type')}: {entry.get('detail')}"
