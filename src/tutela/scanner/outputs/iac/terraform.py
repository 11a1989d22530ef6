"""The Terraform remediation of a report, in one text of marked files (``split_files``).

- A live estate: a standalone root module that patches each failing resource in place with
  ``azapi_update_resource`` (azapi GETs the resource, deep-merges ``body`` into it and PUTs the
  result: nothing is recreated) and creates what fixes add with ``azapi_resource``.
- A Terraform plan: override files that change the plan's own resources, by their addresses and
  azurerm attributes (``terraform_overrides``).
- An ARM template: comments naming each template path and the ARM properties to set there (a
  template's resources are not Terraform's to change).

Each change names its check and the controls it remediates; manual fixes are listed with their
reason and portal steps. Fix params are ``variable`` blocks without defaults: values are never
written here. Report text is escaped as ``hcl`` says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import AddedResource, CheckSpec
from tutela.scanner.outputs.iac import hcl
from tutela.scanner.outputs.iac.api_versions import API_VERSIONS, api_version
from tutela.scanner.outputs.iac.hcl import Attr, Block, Comment, Expr
from tutela.scanner.outputs.iac.items import RemediationItem
from tutela.scanner.outputs.iac.terraform_common import (
    MARK,
    configured,
    describe,
    merge,
    not_configured,
    section,
    variable_name,
    variables,
)
from tutela.scanner.outputs.iac.terraform_overrides import render_plan
from tutela.scanner.sources.terraform_plan import PLACEHOLDER_SUBSCRIPTION

AZAPI_VERSION = "~> 2.0"
# azapi_update_resource PUTs GetWriteOnly(utils.MergeObject(GET, body)): a null member of body
# replaces the GET's value and both keep it null (terraform-provider-azapi:
# internal/services/azapi_update_resource.go, utils/json.go, internal/azure/types/object_type.go);
# a PUT replaces the whole resource, so ARM stores the property as unset.
NULL_NOTE = (
    "null unsets: azapi merges body into the resource it reads, a null stays null, and the",
    "PUT it sends replaces the whole resource, so the property is left unset.",
)  # body as an HCL object (azapi 2.x); 1.x wanted jsonencode()
_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


def render_terraform(
    items: Sequence[RemediationItem],
    catalog: Catalog,
    *,
    report_id: str | None = None,
    source: str | None = None,
) -> str:
    """The report's Terraform remediation: files, each after a ``## file: <path>`` line.

    ``source`` is what the report read: None for a live estate, "terraform" for a plan (items
    carry plan addresses), "arm" for an ARM template.
    """
    if source not in (None, "terraform", "arm"):
        raise ValueError(f"no Terraform output for a report of {source!r}")
    checks = {check.id: check for check in catalog.checks}
    head = [Comment("Tutela remediation (Terraform), rendered from the catalogue's fixes.")]
    if report_id is not None:
        head.append(Comment(f"Report: {report_id}"))
    if source == "terraform":
        return render_plan(items, checks, head)
    if source == "arm":
        return section("tutela_remediation.tf", [*head, *_arm(items, checks)])
    return section("tutela_remediation.tf", [*head, *_live(items, checks)])


def split_files(text: str) -> dict[str, str]:
    """Each file of a rendered text, by its path (relative; ``/``-separated)."""
    files: dict[str, list[str]] = {}
    lines: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(MARK):
            lines = files.setdefault(line[len(MARK) :].strip(), [])
        elif lines is not None:
            lines.append(line)
    return {path: "\n".join(body).strip("\n") + "\n" for path, body in files.items()}


# --- live estates: azapi ------------------------------------------------------------------------


def _live(items: Sequence[RemediationItem], checks: dict[str, CheckSpec]) -> list[Block | Comment]:
    providers = {"azapi": {"source": "Azure/azapi", "version": AZAPI_VERSION}}
    out: list[Block | Comment] = [
        Comment("Review it, then terraform init and apply with rights to change these resources."),
        Comment("azapi_update_resource reads each resource, deep-merges body into it and PUTs"),
        Comment("it back: nothing is recreated, and destroying it changes nothing in Azure."),
        Block(
            "terraform", (), [Block("required_providers", (), [Attr("azapi", providers["azapi"])])]
        ),
        Block("provider", ("azapi",), []),
    ]
    params: dict[str, str] = {}
    blocks: list[Block | Comment] = []
    labels: set[str] = set()
    added: dict[str, tuple[AddedResource, RemediationItem, dict[str, Any], list[Comment]]] = {}
    for item in items:
        found = configured(item, checks)
        if found is None:
            continue
        check, fix = found
        notes = describe(check, item)
        if _SUBSCRIPTION.match(item.resource) is None:
            blocks += [*notes, Comment("Not an Azure resource id: fix it where it is declared.")]
            continue
        problem = None
        if any("[*]" in change.path for change in fix.set):
            problem = "A change applies to every element of a list: by hand."
        elif fix.set and item.resource_type.lower() not in API_VERSIONS:
            problem = f"No API version is chosen for {item.resource_type}: by hand."
        if problem is not None:
            blocks += [*notes, Comment(problem), Comment(f"Portal: {check.portal_steps}")]
            continue
        params.update(fix.params)
        if fix.set:
            body: dict[str, Any] = {}
            for change in fix.set:
                _put(body, change.path, _resolved(change.value, item))
            label = hcl.identifier(f"{check.id}_{item.resource_name}", labels)
            blocks.append(_update(label, item.resource, item.resource_type, body, notes))
        for one in fix.add:
            scope, name = _scope(item, one), one.name.replace("{name}", item.resource_name)
            key = f"{one.type.lower()}|{scope.lower()}|{name.lower()}"
            props = merge(added[key][2] if key in added else {}, _resolved(one.properties, item))
            kept = added[key][3] if key in added else []
            added[key] = (one, item, props, [*kept, *notes])
    for one, item, props, notes in added.values():
        blocks += _create(one, item, props, notes, labels)
    out += variables(params)
    return [*out, *blocks, *not_configured(items, checks)]


def _update(
    label: str, resource_id: str, kind: str, body: dict[str, Any], notes: list[Comment]
) -> Block:
    if _has_null(body):
        notes = [*notes, *(Comment(line) for line in NULL_NOTE)]
    return Block(
        "resource",
        ("azapi_update_resource", label),
        [
            *notes,
            Attr("type", f"{arm_type(resource_id, kind)}@{api_version(kind)}"),
            Attr("resource_id", resource_id),
            # Several updates of one resource must not interleave their GET and PUT.
            Attr("locks", [resource_id]),
            Attr("body", body),
        ],
    )


def _has_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(inner is None or _has_null(inner) for inner in value.values())
    return False


def _create(
    added: AddedResource,
    item: RemediationItem,
    props: dict[str, Any],
    notes: list[Comment],
    labels: set[str],
) -> list[Block | Comment]:
    scope = _scope(item, added)
    name = added.name.replace("{name}", item.resource_name)
    kind = added.type
    label = hcl.identifier(f"{kind.rsplit('/', 1)[-1]}_{item.resource_name}_{name}", labels)
    body = {"properties": props}
    if kind.lower() == "microsoft.security/pricings":
        # A subscription always has each plan (Free until changed): update it, never create it.
        notes = [*notes, Comment("Every subscription has this pricing already: it is updated.")]
        resource_id = f"{scope}/providers/{kind}/{name}"
        return [_update(label, resource_id, kind, body, notes)]
    attrs: list[Attr | Block | Comment] = [
        *notes,
        Attr("type", f"{kind}@{api_version(kind)}"),
        Attr("name", name),
        Attr("parent_id", scope),
    ]
    out: list[Block | Comment] = []
    if kind.lower() == "microsoft.network/privateendpoints":
        # Created in its resource's region, which the report does not keep: read it.
        target = Block(
            "data",
            ("azapi_resource", label),
            [
                Attr(
                    "type",
                    f"{arm_type(item.resource, item.resource_type)}"
                    f"@{api_version(item.resource_type)}",
                ),
                Attr("resource_id", item.resource),
            ],
        )
        out.append(target)
        attrs.append(Attr("location", Expr(f"data.azapi_resource.{label}.location")))
    attrs.append(Attr("body", body))
    out.append(Block("resource", ("azapi_resource", label), attrs))
    return out


def _scope(item: RemediationItem, added: AddedResource) -> str:
    if added.scope == "resource":
        return item.resource
    if added.scope == "subscription":
        match = _SUBSCRIPTION.match(item.resource)
        return match.group(0) if match else item.resource
    at = item.resource.lower().find("/providers/")
    return item.resource[:at] if at >= 0 else item.resource


def arm_type(resource_id: str, kind: str) -> str:
    """The type as the id spells it (``Microsoft.Storage/storageAccounts``), else as given."""
    _, _, tail = resource_id.rpartition("/providers/")
    steps = tail.split("/")
    spelled = "/".join([steps[0], *steps[1::2]]) if len(steps) > 1 else ""
    return spelled if spelled.lower() == kind.lower() else kind


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = body
    for step in parents:
        child = node.get(step)
        node = child if isinstance(child, dict) else node.setdefault(step, {})
    node[last] = value


def _resolved(value: Any, item: RemediationItem) -> Any:
    """Params → ``var.<param>``; ``{"resource": …}`` → the item's own id or name."""
    if isinstance(value, dict):
        if set(value) == {"param"}:
            return Expr(f"var.{variable_name(value['param'])}")
        if set(value) == {"resource"}:
            return {"id": item.resource, "name": item.resource_name}.get(value["resource"], "")
        return {key: _resolved(inner, item) for key, inner in value.items()}
    if isinstance(value, list):
        return [_resolved(inner, item) for inner in value]
    return value


# --- ARM-template reports -------------------------------------------------------------------------


def _arm(items: Sequence[RemediationItem], checks: dict[str, CheckSpec]) -> list[Block | Comment]:
    """A template's resources are changed in the template: each path and what to set there."""
    out: list[Block | Comment] = [
        Comment("This report read an ARM template: change the template, then redeploy it."),
        Comment(f"Its ids use the placeholder subscription {PLACEHOLDER_SUBSCRIPTION}: nothing"),
        Comment("here targets Azure. Each item names the template path and the ARM properties."),
    ]
    for item in items:
        found = configured(item, checks)
        if found is None:
            continue
        check, fix = found
        out += describe(check, item)
        out.append(Comment(f"Template path: {item.address or item.origin or item.resource}"))
        for change in fix.set:
            out.append(Comment(f"  set {change.path} = {_json(change.value)}"))
        for one in fix.add:
            out.append(
                Comment(
                    f"  add {one.type} {one.name!r} at {one.scope} scope: {_json(one.properties)}"
                )
            )
        if fix.params:
            out.append(Comment(f"  params: {', '.join(fix.params)}"))
    return [*out, *not_configured(items, checks)]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
