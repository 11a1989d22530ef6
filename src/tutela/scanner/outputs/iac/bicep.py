"""The Bicep remediation file of a report: the ARM template's deployment (arm.py) as one
``targetScope = 'subscription'`` Bicep file, deployed with ``az deployment sub create``.

Each changed resource is read as an ``existing`` resource scoped with ``resourceGroup(sub, rg)``
(or ``subscription(sub)``) and redeclared in a nested ``Microsoft.Resources/deployments``
resource (a module would need a second file) as ``union(<existing>.properties, {fix})``, its
location, sku, kind, identity and tags carried with the safe-dereference operator ``.?`` (null,
so left out, when the resource has none: learn.microsoft.com/azure/azure-resource-manager/bicep/
operator-safe-dereference). The nested template is evaluated in the outer scope: Bicep writes a
string literal that looks like an expression as an escaped literal (``'[x]'`` becomes
``"[[x]"``: Azure/bicep#330), so an inner-scope template could not hold the expressions that
read its parameters; in the outer scope Bicep compiles the expressions itself.

Report text is data: strings are escaped per Bicep's rules (``\\``, ``'``, ``${``, control
characters), identifiers are generated (``current001``, ``fix001``) or a catalogue param's name
made an identifier, and comments are one line each, control characters removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from tutela.scanner.catalog import Catalog
from tutela.scanner.outputs.iac.arm import (
    GROUP_SCHEMA,
    NULL_NOTE,
    SUBSCRIPTION_SCHEMA,
    deployment_name,
)
from tutela.scanner.outputs.iac.items import RemediationItem
from tutela.scanner.outputs.iac.plan import (
    DEPLOYMENTS_API_VERSION,
    TOP_LEVEL,
    Change,
    Listed,
    Plan,
    build_plan,
    identifier,
    param_type,
)

# The top-level fields each type declares (learn.microsoft.com/azure/templates/<type>): Bicep
# types an existing resource, so reading a field its type lacks does not compile. A type not
# here (accounts, storage accounts, ML workspaces and endpoints) declares all of TOP_LEVEL.
DECLARED: Final[dict[str, tuple[str, ...]]] = {
    "microsoft.authorization/policyassignments": ("location", "identity"),
    "microsoft.cognitiveservices/accounts/deployments": ("sku", "tags"),
    "microsoft.containerregistry/registries": ("location", "sku", "identity", "tags"),
    "microsoft.containerservice/managedclusters": ("location", "sku", "identity", "tags"),
    "microsoft.keyvault/vaults": ("location", "tags"),
    "microsoft.search/searchservices": ("location", "sku", "identity", "tags"),
}
_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES: Final = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INDENT: Final = "  "


def render_bicep(
    items: Sequence[RemediationItem],
    catalog: Catalog,
    *,
    report_id: str | None = None,
    source: str | None = None,
) -> str:
    """The subscription-scope Bicep file that applies the report's fixes."""
    plan = build_plan(items, catalog, source=source)
    lines = [
        comment("Tutela remediation (Bicep), rendered from the catalogue's fixes."),
        comment(
            "Deploy: az deployment sub create --location <region> --template-file <this "
            "file> --parameters <name>=<value> …"
        ),
        comment(
            "Each changed resource is redeclared in a nested deployment as union(its current "
            "state, the fix): nothing is recreated or reset."
        ),
        comment(NULL_NOTE),
    ]
    if report_id is not None:
        lines.append(comment(f"Report: {report_id}"))
    lines += ["targetScope = 'subscription'", ""]
    for name, about in plan.params.items():
        lines.append(f"@description({string(about)})")
        lines.append(f"param {identifier(name)} {param_type(name)}")
        lines.append("")
    for number, change in enumerate(plan.changes, 1):
        lines += _change(change, number)
        lines.append("")
    lines += _listings(plan)
    return "\n".join(lines).rstrip("\n") + "\n"


def string(text: str) -> str:
    """A Bicep string literal: nothing in ``text`` can end it or interpolate."""
    out = []
    for at, char in enumerate(text):
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char == "$" and text[at + 1 : at + 2] == "{":
            out.append("\\$")
        elif _CONTROL.match(char):
            out.append(f"\\u{{{ord(char):X}}}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


def comment(text: str) -> str:
    """Untrusted text as one ``//`` comment line."""
    return "// " + " ".join(_CONTROL.sub(" ", text).split())


def _change(change: Change, number: int) -> list[str]:
    lines = [comment(f"{number}. {change.resource_id}")]
    for remedy in change.remedies:
        lines.append(comment(f"{remedy.check_id}: {remedy.title}"))
        lines.append(comment(f"  Resource: {remedy.resource}"))
        lines.append(comment(f"  Remediates: {', '.join(remedy.controls)}"))
        if remedy.note:
            lines.append(comment(f"  Note: {remedy.note}"))
    current = f"current{number:03d}"
    if change.reads_current:
        scope = (
            f"resourceGroup({string(change.subscription_id)}, {string(change.resource_group)})"
            if change.resource_group
            else f"subscription({string(change.subscription_id)})"
        )
        lines += [
            f"resource {current} {string(f'{change.type}@{change.api_version}')} existing = {{",
            f"{_INDENT}name: {string('/'.join(change.names))}",
            f"{_INDENT}scope: {scope}",
            "}",
            "",
        ]
    body: dict[str, Any] = {
        "name": deployment_name(number),
        "subscriptionId": change.subscription_id,
    }
    if change.resource_group:
        body["resourceGroup"] = change.resource_group
    else:
        body["location"] = _Raw("deployment().location")
    body["properties"] = {
        "mode": "Incremental",
        "expressionEvaluationOptions": {"scope": "outer"},
        "template": {
            "$schema": GROUP_SCHEMA if change.resource_group else SUBSCRIPTION_SCHEMA,
            "contentVersion": "1.0.0.0",
            "resources": _inner_resources(change, current),
        },
    }
    kind = string(f"Microsoft.Resources/deployments@{DEPLOYMENTS_API_VERSION}")
    lines.append(f"resource fix{number:03d} {kind} = {_value(body, current, 0)}")
    return lines


class _Raw(str):
    """A Bicep expression the renderer wrote (never quoted)."""


def _inner_resources(change: Change, current: str) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    if change.redeclares:
        resource: dict[str, Any] = {
            "type": change.type,
            "apiVersion": change.api_version,
            "name": "/".join(change.names),
        }
        declared_fields = DECLARED.get(change.type.lower(), TOP_LEVEL)
        for key in (k for k in TOP_LEVEL if k in declared_fields or k in change.changes):
            if key not in change.changes:
                resource[key] = _Raw(f"{current}.?{key}")
            elif key in ("kind", "location"):
                resource[key] = change.changes[key]
            else:
                resource[key] = _Union(f"{current}.?{key} ?? {{}}", change.changes[key])
        resource["properties"] = (
            _Union(f"{current}.properties", change.changes["properties"])
            if "properties" in change.changes
            else _Raw(f"{current}.properties")
        )
        resources.append(resource)
    for added in change.additions:
        declared: dict[str, Any] = {
            "type": added.type,
            "apiVersion": added.api_version,
            "name": added.name,
        }
        if added.scope == "resource":
            types = change.type.split("/")
            pairs = [p for pair in zip(types[1:], change.names, strict=True) for p in pair]
            declared["scope"] = "/".join([types[0], *pairs])
        elif added.scope == "resource_group":
            declared["location"] = _Raw(f"{current}.location")
        declared["properties"] = added.properties
        resources.append(declared)
    return resources


class _Union:
    """``union(<current>, <changes>)``."""

    def __init__(self, current: str, changes: Any) -> None:
        self.current, self.changes = current, changes


def _value(value: Any, current: str, depth: int) -> str:
    """A Bicep expression for a template value (markers → params, the current resource)."""
    pad, inner = _INDENT * depth, _INDENT * (depth + 1)
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, _Union):
        return f"union({value.current}, {_value(value.changes, current, depth)})"
    if isinstance(value, str):
        return string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        if set(value) == {"param"}:
            return identifier(value["param"])
        if set(value) == {"current"}:
            return f"{current}.{value['current']}"
        if not value:
            return "{}"
        members = [f"{inner}{_key(k)}: {_value(v, current, depth + 1)}" for k, v in value.items()]
        return "{\n" + "\n".join(members) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        elements = [f"{inner}{_value(v, current, depth + 1)}" for v in value]
        return "[\n" + "\n".join(elements) + f"\n{pad}]"
    raise TypeError(f"no Bicep form for {type(value).__name__}")


def _key(key: str) -> str:
    return key if _IDENTIFIER.match(key) else string(key)


def _listings(plan: Plan) -> list[str]:
    lines: list[str] = []
    sections: list[tuple[str, list[Listed]]] = [
        ("Not deployed here: fix these in their source", plan.in_source),
        ("Not deployed here: manual fixes", plan.manual),
    ]
    for title, listed in sections:
        if not listed:
            continue
        lines.append(comment(f"{title}:"))
        for entry in listed:
            remedy = entry.remedy
            lines.append(comment(f"{remedy.check_id}: {remedy.title}"))
            lines.append(comment(f"  Resource: {remedy.resource}"))
            if entry.origin:
                lines.append(comment(f"  Origin: {entry.origin}"))
            lines.append(comment(f"  Remediates: {', '.join(remedy.controls)}"))
            lines.append(comment(f"  {entry.reason}"))
            lines += [comment(f"  Set: {setting}") for setting in entry.settings]
            if entry.portal_steps:
                lines.append(comment(f"  Portal: {entry.portal_steps}"))
        lines.append("")
    if plan.unscripted:
        lines.append(comment("Not scriptable yet (no fix in the catalogue); see the report:"))
        lines += [comment(f"  {check_id}") for check_id in plan.unscripted]
    return lines
