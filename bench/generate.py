"""Generate a seeded AI estate of N resources, written three ways that describe the same estate.

    python bench/generate.py 100000 --seed 42 --out bench/.data/100000

writes ``arg.json`` (an Azure Resource Graph export, ``{"data": [...]}``), ``plan.json``
(``terraform show -json`` of a plan), ``plan-first-deploy.json`` (the same estate's first
deployment, every resource created, as ``terraform show -json | jq .`` prints it),
``template.json`` (an ARM template) and ``manifest.json`` (what was generated, and each input's
shape). N counts resources, not resource groups. The files are streamed, one record at a time.

The same estate, spelled as each format spells it: the Resource Graph export holds deployed
resources with their ids and runtime properties, resource groups and the subscription; the plan
holds azurerm resources (resource groups included, blob services implied by their accounts) with
``no-op``, ``update`` and ``create`` actions, the created ones' ids and references unknown and
resolvable through ``configuration``; the template holds the resources of one resource group, with
``resourceId()`` expressions where they refer to each other.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules, however run

from draw import draw_estate
from estate_model import Computed, Estate, Node, Ref, arm_id
from plan_first_deploy import write_first_deploy_plan
from plan_writer import PlanShape, write_plan

# The files' version: run.py regenerates an estate written by another. The estate itself, and the
# bytes of arg.json, plan.json and template.json, are those of version 2 (the template says so).
GENERATOR = "tutela-bench-estate/3"
ESTATE = "tutela-bench-estate/2"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
FILES = {
    "arg": "arg.json",
    "terraform": "plan.json",
    "first-deploy": "plan-first-deploy.json",
    "arm": "template.json",
}


def _stream(out: IO[bytes], items: Iterable[bytes]) -> None:
    """Write items as the elements of a JSON array (the brackets are the caller's)."""
    first = True
    for item in items:
        if not first:
            out.write(b",\n")
        out.write(item)
        first = False


# --- Azure Resource Graph -----------------------------------------------------------------------


def _arg_value(value: Any) -> Any:
    if isinstance(value, Ref):
        return arm_id(value.node) if value.attr == "id" else value.node.name
    if isinstance(value, Computed):
        return value.value
    raise TypeError(type(value))


def _arg_record(node: Node) -> dict[str, Any]:
    kind, ctx = node.kind, node.ctx
    shape = kind.arm(node, True)
    rid = arm_id(node)
    if kind.key == "diagnostic":  # as the diagnosticSettings API returns it
        return {
            "id": rid,
            "name": node.name,
            "type": kind.arm_type,
            "properties": shape["properties"],
        }
    if kind.key == "group":
        arm_type = "microsoft.resources/subscriptions/resourcegroups"
        group_name = node.name
    else:
        arm_type = kind.arm_type.lower()
        group_name = node.group.name if node.group and kind.placement != "subscription" else ""
    located = kind.placement in ("group", "container")
    return {
        "id": rid,
        "name": node.name,
        "type": arm_type,
        "tenantId": ctx.tenant,
        "kind": shape.get("kind", ""),
        "location": node.settings["location"] if located else "",
        "resourceGroup": group_name,
        "subscriptionId": ctx.subscription,
        "managedBy": "",
        "sku": shape.get("sku"),
        "plan": None,
        "properties": shape["properties"],
        "tags": shape.get("tags") or None,
        "identity": shape.get("identity"),
        "zones": None,
    }


def _subscription_record(estate: Estate) -> dict[str, Any]:
    chain = [{"name": "mg-ai-platform", "displayName": "AI platform"}]
    chain.append({"name": estate.tenant, "displayName": "Tenant Root Group"})
    return {
        "id": estate.sub_id,
        "name": "AI Platform Production",
        "type": "microsoft.resources/subscriptions",
        "tenantId": estate.tenant,
        "subscriptionId": estate.subscription,
        "properties": {"state": "Enabled", "managementGroupAncestorsChain": chain},
    }


def write_arg(estate: Estate, out: IO[bytes]) -> dict[str, Any]:
    records = len(estate.nodes) + 1
    out.write(b'{"count": %d, "data": [\n' % records)
    rows = (orjson.dumps(_arg_record(node), default=_arg_value) for node in estate.nodes)
    _stream(out, itertools.chain([orjson.dumps(_subscription_record(estate))], rows))
    out.write(b'\n], "skip_token": null, "total_records": %d}\n' % records)
    return {"resources": records, "layout": "compact"}


# --- ARM template -------------------------------------------------------------------------------


def _names(node: Node) -> list[str]:
    """The name segments of a node's ARM type (``account/deployment`` for a deployment)."""
    if node.kind.placement == "child":
        assert node.parent is not None
        return [*_names(node.parent), node.name]
    return [node.name]


def _resource_id_expression(node: Node) -> str:
    names = ", ".join(f"'{name}'" for name in _names(node))
    function = "subscriptionResourceId" if node.kind.placement == "subscription" else "resourceId"
    return f"[{function}('{node.kind.arm_type}', {names})]"


def _relative_scope(node: Node) -> str:
    """``Ns/type/name[/child/name]``: how a template names the resource an extension is on."""
    segments = node.kind.arm_type.split("/")
    parts = [f"{segments[0]}/{segments[1]}/{_names(node)[0]}"]
    for child_type, name in zip(segments[2:], _names(node)[1:], strict=True):
        parts.append(f"{child_type}/{name}")
    return "/".join(parts)


def _template_value(value: Any) -> Any:
    if isinstance(value, Ref):
        return _resource_id_expression(value.node) if value.attr == "id" else value.node.name
    if isinstance(value, Computed):
        return value.value
    raise TypeError(type(value))


def _declaration(node: Node, location: str) -> dict[str, Any]:
    kind = node.kind
    shape = kind.arm(node, False)
    declaration: dict[str, Any] = {
        "type": kind.arm_type,
        "apiVersion": kind.api_version,
        "name": "/".join(_names(node)),
    }
    if kind.placement == "extension":
        assert node.parent is not None
        declaration["scope"] = _relative_scope(node.parent)
        declaration["dependsOn"] = [_resource_id_expression(node.parent)]
    elif kind.placement == "child":
        assert node.parent is not None
        declaration["dependsOn"] = [_resource_id_expression(node.parent)]
    elif kind.placement == "group":
        here = node.settings["location"]
        declaration["location"] = "[parameters('location')]" if here == location else here
    for key in ("kind", "sku", "identity", "tags"):
        if shape.get(key):
            declaration[key] = shape[key]
    declaration["properties"] = shape["properties"]
    return declaration


def write_template(estate: Estate, out: IO[bytes]) -> dict[str, Any]:
    header = {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {"generator": ESTATE},
        "parameters": {"location": {"type": "string", "defaultValue": estate.location}},
    }
    out.write(orjson.dumps(header)[:-1] + b', "resources": [\n')
    declared = (node for node in estate.nodes if node.kind.key != "group")
    dump = orjson.dumps
    _stream(
        out, (dump(_declaration(n, estate.location), default=_template_value) for n in declared)
    )
    out.write(b"\n]}\n")
    return {"resources": sum(1 for n in estate.nodes if n.kind.key != "group"), "layout": "compact"}


# --- the command --------------------------------------------------------------------------------


def generate(size: int, seed: int, directory: Path) -> dict[str, Any]:
    """Write the four files and the manifest; return the manifest.

    Each file's entry in the manifest gives its shape, counted as it was written: resources,
    plan actions, values known and unknown, compact or pretty-printed.
    """
    started = time.perf_counter()
    estate = draw_estate(size, seed)
    directory.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[Estate, IO[bytes]], dict[str, Any] | PlanShape]] = {
        "arg": write_arg,
        "terraform": write_plan,
        "first-deploy": write_first_deploy_plan,
        "arm": write_template,
    }
    shapes: dict[str, dict[str, Any]] = {}
    for kind, writer in writers.items():
        with (directory / FILES[kind]).open("wb", buffering=1 << 20) as out:
            written = writer(estate, out)
        if isinstance(written, PlanShape):
            written = written.summary("pretty" if kind == "first-deploy" else "compact")
        shapes[kind] = written
    groups = sum(1 for node in estate.nodes if node.kind.key == "group")
    manifest = {
        "generator": GENERATOR,
        "size": size,
        "seed": seed,
        "resource_groups": groups,
        "subscription": estate.subscription,
        "by_type": dict(Counter(n.kind.arm_type.lower() for n in estate.nodes)),
        "plan_actions": dict(Counter(n.action for n in estate.nodes if n.kind.tf_type)),
        "files": {
            kind: {"name": name, "bytes": (directory / name).stat().st_size, **shapes[kind]}
            for kind, name in FILES.items()
        },
        "seconds": round(time.perf_counter() - started, 2),
    }
    (directory / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", type=int, help="number of resources (resource groups not counted)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="directory (default: bench/.data/<size>-<seed>)")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("size must be at least 1")
    directory = args.out or Path(__file__).parent / ".data" / f"{args.size}-{args.seed}"
    manifest = generate(args.size, args.seed, directory)
    sizes = ", ".join(
        f"{f['name']} {f['bytes'] / 2**20:.1f} MiB" for f in manifest["files"].values()
    )
    done = f"{args.size} resources (seed {args.seed}) in {manifest['seconds']} s"
    print(f"{done} → {directory}: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
