"""The Terraform remediation of a plan's report: override files on the plan's own resources.

Terraform changes an existing block without editing it through override files
(``*_override.tf``; https://developer.hashicorp.com/terraform/language/files/override): a
top-level block there merges into the block with the same header; an attribute replaces the one of
that name, a nested block replaces *all* nested blocks of its type (their contents are not merged),
and a block with no original is an error. So, per module directory:

- ``tutela_override.tf``: one ``resource`` block per failing address with the azurerm attributes
  the fixes set (``terraform_inverse`` runs the reader's mapping backwards), and ``module`` blocks
  passing the fixes' params on to child modules. It changes the resource in every instance
  (``count`` / ``for_each``) and, in a module's directory, every call of that module.
- ``tutela_remediation.tf``: what fixes add (diagnostic settings, Defender pricings, policy
  assignments, private endpoints) as new resources beside the one they are for, and the params as
  ``variable`` blocks: a module's resource can only be referred to from inside that module.

An ARM path no azurerm attribute writes in the mapping is listed as a change to make by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tutela.scanner.catalog.checks import AddedResource, CheckSpec
from tutela.scanner.estate import SUBSCRIPTION_TYPE
from tutela.scanner.outputs.iac import hcl
from tutela.scanner.outputs.iac.hcl import Attr, Block, Comment, Expr
from tutela.scanner.outputs.iac.items import RemediationItem
from tutela.scanner.outputs.iac.terraform_address import (
    PREFIX,
    Address,
    added_name,
    own_id,
    parse_address,
    resolved,
)
from tutela.scanner.outputs.iac.terraform_common import (
    configured,
    describe,
    merge,
    not_configured,
    section,
    variable_name,
    variables,
)
from tutela.scanner.outputs.iac.terraform_inverse import Attributes, Blocks, to_attributes
from tutela.scanner.sources.terraform_convert import Mapping
from tutela.scanner.sources.terraform_map import MAPPINGS

_SUBSCRIPTION_DATA = "data.azurerm_subscription.tutela"


@dataclass
class _Override:
    tf_type: str
    name: str
    instances: dict[str, None] = field(default_factory=dict)
    notes: list[Comment] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class _Added:
    added: AddedResource
    item: RemediationItem
    address: Address | None
    properties: dict[str, Any]
    notes: list[Comment]


@dataclass
class _Module:
    """The two files of one module directory."""

    names: tuple[str, ...]
    overrides: dict[str, _Override] = field(default_factory=dict)
    added: dict[str, _Added] = field(default_factory=dict)
    by_hand: list[Comment] = field(default_factory=list)
    subscription: bool = False  # needs data.azurerm_subscription.tutela

    @property
    def directory(self) -> str:
        return "".join(
            f"module.{name}" + ("." if n < len(self.names) - 1 else "/")
            for n, name in enumerate(self.names)
        )


def render_plan(
    items: Sequence[RemediationItem], checks: dict[str, CheckSpec], head: list[Comment]
) -> str:
    modules = _collect(items, checks)
    about: dict[str, str] = {}
    for item in items:
        found = configured(item, checks)
        for name, text in found[1].params.items() if found else ():
            about.setdefault(variable_name(name), text)
    # The params each module's own blocks use, then those its child modules need from it: a
    # module's resource can only be given a value through the calls down to it.
    overrides = {names: _override_blocks(m) for names, m in modules.items()}
    added = {names: _remediation_blocks(m) for names, m in modules.items()}
    needed = {names: _used(hcl.render([*overrides[names], *added[names]])) for names in modules}
    passed: dict[tuple[str, ...], dict[str, set[str]]] = {names: {} for names in modules}
    for names in sorted(modules, key=len, reverse=True):
        if names and needed[names]:
            passed[names[:-1]][names[-1]] = needed[names]
            needed[names[:-1]] |= needed[names]
    files: list[str] = []
    for names in sorted(modules):
        where = modules[names].directory
        calls = _module_calls(passed[names])
        if overrides[names] or calls:
            blocks = [*head, *_override_head(modules[names]), *calls, *overrides[names]]
            files.append(section(f"{where}tutela_override.tf", blocks))
        own = {p: about.get(p, "") for p in sorted(needed[names])}
        blocks = [*variables(own, PREFIX), *added[names]]
        if not names:
            blocks += not_configured(items, checks)
        if blocks or not names:
            files.append(section(f"{where}tutela_remediation.tf", [*head, *blocks]))
    return "\n".join(files)


_USED = re.compile(rf"\bvar\.{PREFIX}(\w+)")


def _used(text: str) -> set[str]:
    """The params HCL uses (a by-hand comment naming one does not)."""
    code = (line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return set(_USED.findall("\n".join(code)))


def _collect(
    items: Sequence[RemediationItem], checks: dict[str, CheckSpec]
) -> dict[tuple[str, ...], _Module]:
    """Per module directory (and every module on the way to it): what the fixes change there."""
    modules: dict[tuple[str, ...], _Module] = {(): _Module(())}
    for item in items:
        found = configured(item, checks)
        if found is None:
            continue
        check, fix = found
        notes = describe(check, item)
        address = parse_address(item.address)
        names = address.modules if address else ()
        for depth in range(len(names) + 1):
            modules.setdefault(names[:depth], _Module(names[:depth]))
        where = modules[names]
        if address is None and item.resource_type != SUBSCRIPTION_TYPE:
            where.by_hand += [*notes, Comment(f"By hand: no plan address for it ({item.origin}).")]
            continue
        if fix.set:
            _set(where, address, item, check, notes)
        for one in fix.add:
            key = f"{one.type.lower()}|{_scope_key(one, address, item)}|{_name_key(one, item)}"
            kept = where.added.get(key)
            props = resolved(one.properties, address, item)
            where.added[key] = _Added(
                one,
                item,
                address,
                merge(kept.properties if kept else {}, props),
                [*(kept.notes if kept else []), *notes],
            )
            where.subscription |= one.scope == "subscription"
    return modules


def _module_calls(passed: dict[str, set[str]]) -> list[Block | Comment]:
    """Override blocks of the module calls that pass the fixes' params down."""
    return [
        Block(
            "module",
            (child,),
            [
                Comment("the fixes' params, passed on"),
                *(Attr(PREFIX + p, Expr(f"var.{PREFIX}{p}")) for p in sorted(params)),
            ],
        )
        for child, params in sorted(passed.items())
    ]


def _set(
    where: _Module,
    address: Address | None,
    item: RemediationItem,
    check: CheckSpec,
    notes: list[Comment],
) -> None:
    fix = check.fix
    assert fix is not None
    mapping = MAPPINGS.get(address.tf_type) if address else None
    changes = [(c.path, resolved(c.value, address, item)) for c in fix.set]
    problem = None
    if address is None or mapping is None or mapping.placement in {"azapi", "merge"}:
        problem = "its resource type has no azurerm mapping"
    elif mapping.arm_type.lower() != item.resource_type.lower():
        problem = f"it is a {item.resource_type} within {address.tf_type}"
    elif any("[*]" in path for path, _ in changes):
        problem = "a change applies to every element of a list"
    if problem is not None or address is None or mapping is None:
        where.by_hand += [*notes, Comment(f"By hand ({problem}):")]
        where.by_hand += [Comment(f"  set {p} = {_json(v)}") for p, v in changes]
        return
    found = to_attributes(mapping, changes)
    override = where.overrides.setdefault(
        f"{address.tf_type}.{address.name}", _Override(address.tf_type, address.name)
    )
    override.instances.setdefault(item.address)
    override.notes += notes
    override.notes += _gap_notes(found, address.tf_type, changes)
    override.values = _merged(override.values, found.values)
    override.aliases.update(found.aliases)


def _gap_notes(found: Attributes, tf_type: str, changes: list[tuple[str, Any]]) -> list[Comment]:
    given = dict(changes)
    notes = [Comment(f"({path}: azurerm always sets it so)") for path in found.always]
    for path in found.gaps:
        value = given.get(path, "(part of a change above)")
        notes.append(
            Comment(f"By hand: set {path} = {_json(value)} (no {tf_type} attribute writes it)")
        )
    return notes


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        if isinstance(value, Blocks) and isinstance(old, Blocks) and len(value) == len(old) == 1:
            out[key] = Blocks([_merged(old[0], value[0])])
        elif type(value) is dict and type(old) is dict:  # a map attribute (tags)
            out[key] = _merged(old, value)
        else:
            out[key] = value
    return out


def _override_head(module: _Module) -> list[Comment]:
    where = (
        "the root module's directory"
        if not module.names
        else f"the directory of {module.directory.rstrip('/')}'s source (every call of it gets it)"
    )
    return [
        Comment(f"Override file: put it in {where}."),
        Comment("Each block merges into the block with the same header: an attribute replaces"),
        Comment("the one of that name, a nested block replaces ALL blocks of its type."),
    ]


def _override_blocks(module: _Module) -> list[Block | Comment]:
    return [_override_block(o, MAPPINGS[o.tf_type]) for o in module.overrides.values()]


def _override_block(override: _Override, mapping: Mapping) -> Block:
    body: list[Attr | Block | Comment] = list(override.notes)
    instances = list(override.instances)
    if any("[" in address for address in instances):
        body.append(
            Comment(f"Applies to every instance (count / for_each): {', '.join(instances)}")
        )
    for name, value in override.values.items():
        if isinstance(value, Blocks):
            known = sorted(
                {a.source.split(".")[1] for a in mapping.attrs if a.source.startswith(name + ".")}
                - set(value[0] if value else {})
            )
            keep = f"; also carry your {', '.join(known)}" if known else ""
            body.append(Comment(f"{name}: replaces every {name} block of the resource{keep}"))
        if name == "tags":
            body.append(Comment("tags: replaces the resource's tags; add the ones it has"))
        if name in override.aliases:
            body.append(Comment(f"{name}: remove {' / '.join(override.aliases[name])} if set"))
    body += _items(override.values)
    return Block("resource", (override.tf_type, override.name), body)


def _items(values: dict[str, Any]) -> list[Attr | Block | Comment]:
    attrs: list[Attr | Block | Comment] = []
    blocks: list[Attr | Block | Comment] = []
    for name, value in values.items():
        if isinstance(value, Blocks):
            blocks += [Block(name, (), _items(each)) for each in value]
        else:
            attrs.append(Attr(name, value))
    return attrs + blocks


def _remediation_blocks(module: _Module) -> list[Block | Comment]:
    out: list[Block | Comment] = []
    if module.subscription:
        out.append(Block("data", ("azurerm_subscription", "tutela"), []))
    labels: set[str] = set()
    for added in module.added.values():
        out += _added_block(added, labels)
    return out + module.by_hand


def _added_block(one: _Added, labels: set[str]) -> list[Block | Comment]:
    added, item, address = one.added, one.item, one.address
    tf_type, mapping = _added_mapping(added)
    if mapping is None or (address is None and added.scope != "subscription"):
        return [
            *one.notes,
            Comment(f"By hand: add {added.type} {added.name!r}: {_json(one.properties)}"),
        ]
    values: dict[str, Any] = {mapping.name_attr: added_name(added.name, address, item)}
    if mapping.placement == "extension" and mapping.parent:
        values[mapping.parent] = (
            Expr(f"{_SUBSCRIPTION_DATA}.id")
            if added.scope == "subscription"
            else own_id(address, item)
        )
    elif mapping.placement == "group" and address is not None:
        values["resource_group_name"] = Expr(f"{address.ref}.resource_group_name")
        values["location"] = Expr(f"{address.ref}.location")
    found = to_attributes(mapping, [(f"properties.{k}", v) for k, v in one.properties.items()])
    values.update(found.values)
    notes = [*one.notes, *_gap_notes(found, tf_type, list(one.properties.items()))]
    if added.scope == "subscription":
        notes.append(Comment(f"If the configuration has this {tf_type} already, set these there."))
    # named after what it is for: the resource's own label, or the subscription-level name
    owner = f"{address.name}{address.key}" if address else added.name
    label = hcl.identifier(f"{PREFIX}{added.type.rsplit('/', 1)[-1]}_{owner}", labels)
    return [Block("resource", (tf_type, label), [*notes, *_items(values)])]


def _added_mapping(added: AddedResource) -> tuple[str, Mapping | None]:
    """The azurerm type that declares what a fix adds, at the scope it adds it."""
    for tf_type, mapping in MAPPINGS.items():
        if mapping.arm_type.lower() != added.type.lower():
            continue
        if added.scope == "resource" and mapping.parent == "target_resource_id":
            return tf_type, mapping
        if added.scope == "subscription" and (
            mapping.placement == "subscription" or mapping.parent == "subscription_id"
        ):
            return tf_type, mapping
        if added.scope == "resource_group" and mapping.placement == "group":
            return tf_type, mapping
    return added.type, None


def _scope_key(added: AddedResource, address: Address | None, item: RemediationItem) -> str:
    if added.scope == "subscription":
        return "subscription"
    return f"{address.ref if address else item.resource}|{added.scope}"


def _name_key(added: AddedResource, item: RemediationItem) -> str:
    return added.name.replace("{name}", item.resource_name).lower()


def _json(value: Any) -> str:
    return json.dumps(
        value, ensure_ascii=False, default=lambda e: e.text if isinstance(e, Expr) else str(e)
    )
