"""The ARM remediation template of a report: one subscription-scope deployment template, deployed
with ``az deployment sub create --location <region> --template-file <file> --parameters …``.

A deployment PUTs each resource it declares, and a PUT of some properties resets the rest
("properties aren't incrementally added": learn.microsoft.com/azure/azure-resource-manager/
templates/deployment-modes). So an existing resource is never declared bare: each changed one is
redeclared in its own nested ``Microsoft.Resources/deployments`` (``subscriptionId`` /
``resourceGroup`` place it, inner expression scope) that receives the resource's current state as
a parameter, ``reference(<id>, <api>, 'Full')`` evaluated in the outer scope, and merges the
fix in: ``properties: union(current.properties, changes.properties)``; location, sku, kind,
identity and tags are carried from the current state when it has them, merged with the fix's
changes to them. This is Microsoft's "update a resource" pattern (learn.microsoft.com/azure/
architecture/guide/azure-resource-manager/advanced-templates/update-resource); ``union`` merges
nested objects recursively and replaces nested arrays (template-functions-array, union), and
``if`` evaluates only the branch its condition picks (template-functions-logical), so a field the
resource lacks is never read. A null in a fix (SRCH-LOCAL-AUTH's ``authOptions``) stays null in
the union, and "Resource Manager templates treat it as if the property isn't present"
(template-expressions, Null values): the PUT leaves it out, which clears it.

Added resources: diagnostic settings as extension resources (``scope``) on their resource,
private endpoints in its group at its current location, Defender pricings and policy assignments
in a subscription-scope nested deployment. Fix params are template parameters without a default.
Items the template cannot deploy (an IaC report's resources, manual fixes, checks without a fix)
are listed in the template's ``metadata`` with what to set or the portal steps.

Report text (ids, names, controls) is data: literal strings that would read as an expression
(``[…]``) are escaped as ``[[…]``, and inside expressions quotes are doubled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from tutela.scanner.catalog import Catalog
from tutela.scanner.outputs.iac.items import RemediationItem
from tutela.scanner.outputs.iac.plan import (
    DEPLOYMENTS_API_VERSION,
    TOP_LEVEL,
    Change,
    Listed,
    Plan,
    Remedy,
    build_plan,
    identifier,
    param_type,
)

SUBSCRIPTION_SCHEMA: Final = (
    "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
)
GROUP_SCHEMA: Final = (
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
)
NULL_NOTE: Final = (
    "A null in a change removes the property: ARM treats a null property as not present "
    "(learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions"
    "#null-values), so the PUT of the merged resource leaves it out."
)


class Expr(str):
    """A template expression the renderer wrote (never escaped); any other string is data."""


def render_arm(
    items: Sequence[RemediationItem],
    catalog: Catalog,
    *,
    report_id: str | None = None,
    source: str | None = None,
) -> str:
    """The subscription-scope deployment template that applies the report's fixes."""
    return json.dumps(arm_template(build_plan(items, catalog, source=source), report_id), indent=2)


def arm_template(plan: Plan, report_id: str | None = None) -> dict[str, Any]:
    """The plan as a deployment template (a JSON object), report text escaped."""
    template = {
        "$schema": SUBSCRIPTION_SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": _metadata(plan, report_id),
        "parameters": {
            identifier(name): {"type": param_type(name), "metadata": {"description": about}}
            for name, about in plan.params.items()
        },
        "resources": [_deployment(change, n) for n, change in enumerate(plan.changes, 1)],
    }
    escaped: dict[str, Any] = _escaped(template)
    return escaped


def deployment_name(number: int) -> str:
    """The nested deployment's name: unique in the template, no report text in it."""
    return f"tutela-fix-{number:03d}"


def _remedy_metadata(remedy: Remedy) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "check": remedy.check_id,
        "title": remedy.title,
        "resource": remedy.resource,
        "controls": remedy.controls,
    }
    if remedy.note:
        entry["note"] = remedy.note
    return entry


def _listed_metadata(listed: Listed) -> dict[str, Any]:
    entry = {**_remedy_metadata(listed.remedy), "reason": listed.reason}
    if listed.origin:
        entry["origin"] = listed.origin
    if listed.settings:
        entry["set"] = listed.settings
    if listed.portal_steps:
        entry["portalSteps"] = listed.portal_steps
    return entry


def _metadata(plan: Plan, report_id: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "generator": "Tutela remediation (ARM), rendered from the catalogue's fixes",
        "deploy": "az deployment sub create --location <region> --template-file <this file> "
        "--parameters <name>=<value> …",
        "pattern": "Each changed resource is redeclared in a nested deployment as "
        "union(its current state, the fix): nothing is recreated or reset.",
        "nullValues": NULL_NOTE,
    }
    if report_id is not None:
        metadata["report"] = report_id
    if plan.in_source:
        metadata["fixInSource"] = [_listed_metadata(listed) for listed in plan.in_source]
    if plan.manual:
        metadata["manual"] = [_listed_metadata(listed) for listed in plan.manual]
    if plan.unscripted:
        metadata["notScripted"] = plan.unscripted
    return metadata


def _deployment(change: Change, number: int) -> dict[str, Any]:
    inner_params: dict[str, Any] = {}
    passed: dict[str, Any] = {}
    if change.reads_current:
        inner_params["current"] = {"type": "object"}
        passed["current"] = {
            "value": Expr(
                f"[reference({_quote(change.resource_id)}, {_quote(change.api_version)}, 'Full')]"
            )
        }
    for name in sorted(_params_used(change)):
        inner_params[name] = {"type": param_type(name)}
        passed[name] = {"value": Expr(f"[parameters({_quote(name)})]")}
    inner: dict[str, Any] = {
        "$schema": GROUP_SCHEMA if change.resource_group else SUBSCRIPTION_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": inner_params,
    }
    if change.redeclares:
        inner["variables"] = {"changes": _values(change.changes)}
    inner["resources"] = _inner_resources(change)
    deployment: dict[str, Any] = {
        "type": "Microsoft.Resources/deployments",
        "apiVersion": DEPLOYMENTS_API_VERSION,
        "name": deployment_name(number),
        "subscriptionId": change.subscription_id,
    }
    if change.resource_group:
        deployment["resourceGroup"] = change.resource_group
    else:  # a subscription-scope deployment needs a location for its own record
        deployment["location"] = Expr("[deployment().location]")
    deployment["metadata"] = {
        "resource": change.resource_id,
        "remediates": [_remedy_metadata(remedy) for remedy in change.remedies],
    }
    deployment["properties"] = {
        "mode": "Incremental",
        "expressionEvaluationOptions": {"scope": "inner"},
        "parameters": passed,
        "template": inner,
    }
    return deployment


def _inner_resources(change: Change) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    if change.redeclares:
        resource: dict[str, Any] = {
            "type": change.type,
            "apiVersion": change.api_version,
            "name": "/".join(change.names),
        }
        for key in TOP_LEVEL:
            resource[key] = _carried(key, key in change.changes)
        resource["properties"] = Expr(
            "[union(parameters('current').properties, variables('changes').properties)]"
            if "properties" in change.changes
            else "[parameters('current').properties]"
        )
        resources.append(resource)
    for added in change.additions:
        declared: dict[str, Any] = {
            "type": added.type,
            "apiVersion": added.api_version,
            "name": added.name,
        }
        if added.scope == "resource":
            declared["scope"] = "/".join(
                [change.type.split("/")[0], *_pairs(change.type, change.names)]
            )
        elif added.scope == "resource_group":
            declared["location"] = Expr("[parameters('current').location]")
        declared["properties"] = _values(added.properties)
        resources.append(declared)
    return resources


def _carried(key: str, changed: bool) -> Expr:
    """The current value of a top-level field (absent stays absent), merged with a change."""
    has = f"contains(parameters('current'), '{key}')"
    current = f"parameters('current').{key}"
    if not changed:
        return Expr(f"[if({has}, {current}, null())]")
    if key in ("kind", "location"):  # strings: the change replaces
        return Expr(f"[variables('changes').{key}]")
    return Expr(f"[union(if({has}, {current}, createObject()), variables('changes').{key})]")


def _pairs(resource_type: str, names: list[str]) -> list[str]:
    types = resource_type.split("/")[1:]
    return [part for pair in zip(types, names, strict=True) for part in pair]


def _params_used(change: Change) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"param"}:
                found.add(identifier(value["param"]))
                return
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(change.changes)
    for added in change.additions:
        walk(added.properties)
    return found


def _values(value: Any) -> Any:
    """Fix values as template values: params and the current location as expressions."""
    if isinstance(value, dict):
        if set(value) == {"param"}:
            return Expr(f"[parameters({_quote(identifier(value['param']))})]")
        if set(value) == {"current"}:
            return Expr(f"[parameters('current').{value['current']}]")
        return {key: _values(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_values(inner) for inner in value]
    return value


def _quote(text: str) -> str:
    """A string literal inside an expression: single quotes, a quote doubled."""
    return "'" + text.replace("'", "''") + "'"


def _escaped(value: Any) -> Any:
    """Data strings that ARM would read as an expression (``[…]``) escaped as ``[[…]``."""
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, str):
        return "[" + value if value.startswith("[") and value.endswith("]") else value
    if isinstance(value, dict):
        return {key: _escaped(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_escaped(inner) for inner in value]
    return value
