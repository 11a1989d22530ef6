"""The azurerm → ARM mapping table run backwards: ARM property changes → azurerm attributes.

The reader's table (``sources/terraform_map.MAPPINGS``) says which azurerm attribute becomes which
ARM path, through which conversion; here each conversion has its inverse, so a fix's ARM changes
name the plan's own attributes without a second table. Values may hold ``Expr`` (a variable, a
reference): an inverse turns those into expressions (``!var.x``, a ``for`` over a list).

A change whose path no attribute of the type writes is a gap: it is returned, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tutela.scanner.outputs.iac.hcl import Expr, template
from tutela.scanner.sources import terraform_convert as convert
from tutela.scanner.sources.terraform_convert import Attr, Mapping


class Blocks(list[dict[str, Any]]):
    """Nested blocks (``enabled_log { … }``), as opposed to an attribute holding a list."""


PRESENT = object()  # the block must be there (its presence is what the ARM value says)
_FAIL = object()


@dataclass
class Attributes:
    """The azurerm attributes a set of ARM changes comes to, and what could not be mapped."""

    values: dict[str, Any] = field(default_factory=dict)  # nested blocks are Blocks
    gaps: list[str] = field(default_factory=list)  # ARM paths no attribute writes
    always: list[str] = field(default_factory=list)  # ARM paths azurerm always sets so
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # attribute → older names


def to_attributes(mapping: Mapping, changes: list[tuple[str, Any]]) -> Attributes:
    """The attributes of ``mapping``'s type that write ``changes`` (ARM path, value).

    Paths are relative to the mapped object (for a "merge" type, to its ``merge_at``).
    """
    leaves: dict[str, Any] = {}
    for path, value in changes:
        _flatten(path, value, leaves)
    out = Attributes()
    for path, value in list(leaves.items()):
        if path in mapping.constants and mapping.constants[path] == value:
            out.always.append(path)
            del leaves[path]
    unsets: set[str] = set()
    for attr in mapping.attrs:
        if attr.source == "*":
            continue
        target = attr.target
        for path in [p for p in leaves if leaves[p] is None and target.startswith(p + ".")]:
            _place(out.values, attr.source, None)  # a null parent unsets what is under it
            unsets.add(path)
        covered = {p: v for p, v in leaves.items() if p == target or p.startswith(target + ".")}
        if not covered:
            continue
        accepts = _ACCEPTS.get(attr.convert)
        if accepts is not None:
            covered = {p: v for p, v in covered.items() if p[len(target) + 1 :] in accepts}
            if not covered:
                continue
        value = _inverse(attr, _subtree(target, covered))
        if value is _FAIL:
            continue
        _place(out.values, attr.source, value)
        if attr.aliases:
            out.aliases[attr.source] = attr.aliases
        for path in covered:
            del leaves[path]
    out.gaps = [path for path in leaves if path not in unsets]
    return out


def _flatten(path: str, value: Any, leaves: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _flatten(f"{path}.{key}", inner, leaves)
    else:
        leaves[path] = value


def _subtree(target: str, covered: dict[str, Any]) -> Any:
    if target in covered:
        return covered[target]
    tree: dict[str, Any] = {}
    for path, value in covered.items():
        node = tree
        *parents, last = path[len(target) + 1 :].split(".")
        for step in parents:
            node = node.setdefault(step, {})
        node[last] = value
    return tree


def _place(values: dict[str, Any], source: str, value: Any) -> None:
    """Write ``value`` at an attribute path; ``a.b`` is ``b`` in nested block ``a``."""
    *blocks, last = source.split(".")
    node = values
    for name in blocks:
        existing = node.get(name)
        if not isinstance(existing, Blocks):
            existing = node[name] = Blocks([{}])
        node = existing[0]
    if value is PRESENT:
        if not isinstance(node.get(last), Blocks):
            node[last] = Blocks([{}])
    elif isinstance(value, Blocks) and isinstance(node.get(last), Blocks) and len(value) == 1:
        node[last][0].update(value[0])
    else:
        node[last] = value


# --- the inverse of each conversion ------------------------------------------------------------


def _inverse(attr: Attr, value: Any) -> Any:
    fn = attr.convert
    if fn is None:
        return value
    qualname = getattr(fn, "__qualname__", "")
    if qualname.startswith("present."):
        return PRESENT if fn(None, _NO_REFS) == value else _FAIL
    if qualname.startswith("connections."):
        return _connections(fn, value)
    inverse = _INVERSES.get(fn)
    return _FAIL if inverse is None else inverse(value)


def _switch(true: str, false: str) -> Callable[[Any], Any]:
    def inverse(value: Any) -> Any:
        if isinstance(value, Expr):
            return Expr(f'lower({value.text}) == "{true.lower()}"')
        if isinstance(value, str) and value.lower() in {true.lower(), false.lower()}:
            return value.lower() == true.lower()
        return _FAIL

    return inverse


def _negated(value: Any) -> Any:
    if isinstance(value, Expr):
        return Expr(f"!({value.text})")
    return (not value) if isinstance(value, bool) else _FAIL


def _members(key: str) -> Callable[[Any], Any]:
    """``[{key: x}]`` → ``[x]`` (ip rules, subnet rules)."""

    def inverse(value: Any) -> Any:
        if isinstance(value, Expr):
            return Expr(f"[for rule in {value.text} : rule.{key}]")
        if isinstance(value, list) and all(isinstance(v, dict) and key in v for v in value):
            return [v[key] for v in value]
        return _FAIL

    return inverse


def _joined(value: Any) -> Any:
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else _FAIL


def _key_url(uri: str, name: str, version: str) -> Callable[[Any], Any]:
    """``{vault URI, key name, version}`` → the key's URL (versionless without a version)."""

    def inverse(value: Any) -> Any:
        if not isinstance(value, dict) or uri not in value or name not in value:
            return _FAIL
        vault = value[uri]
        vault = Expr(f'trimsuffix({vault.text}, "/")') if isinstance(vault, Expr) else vault
        if isinstance(vault, str):
            vault = vault.rstrip("/")
        parts: list[str | Expr] = [vault, "/keys/", value[name]]
        if value.get(version) is not None:
            parts += ["/", value[version]]
        if all(isinstance(p, str) for p in parts):
            return "".join(str(p) for p in parts)
        return template(*parts)

    return inverse


def _cmk_entity(value: Any) -> Any:
    """``{keySource: Microsoft.Keyvault, keyVaultProperties}`` → the key's URL."""
    if (
        not isinstance(value, dict)
        or str(value.get("keySource", "")).lower() != "microsoft.keyvault"
    ):
        return _FAIL
    return _key_url("keyVaultUri", "keyName", "keyVersion")(value.get("keyVaultProperties"))


def _identity(value: Any) -> Any:
    if not isinstance(value, dict) or "type" not in value:
        return _FAIL
    block: dict[str, Any] = {"type": value["type"]}
    identities = value.get("userAssignedIdentities")
    if isinstance(identities, Expr):
        block["identity_ids"] = Expr(f"keys({identities.text})")
    elif isinstance(identities, dict):
        block["identity_ids"] = list(identities)
    return Blocks([block])


def _retention(value: Any) -> Any:
    if not isinstance(value, dict) or "status" not in value:
        return _FAIL
    if str(value["status"]).lower() == "disabled":
        return 0
    return value.get("days", _FAIL) if str(value["status"]).lower() == "enabled" else _FAIL


def _entries(value: Any) -> Any:
    """Log / metric entries → ``enabled_log`` / ``enabled_metric`` blocks (enabled ones only)."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return _FAIL
    if any(v.get("enabled", True) is not True for v in value):
        return _FAIL  # a disabled entry is no block at all
    names = {"category": "category", "categoryGroup": "category_group"}
    return Blocks({names[k]: v for k, v in e.items() if k in names} for e in value)


def _extensions(value: Any) -> Any:
    if not isinstance(value, list) or any(str(e.get("isEnabled")) != "True" for e in value):
        return _FAIL
    out = Blocks()
    for extension in value:
        block = {"name": extension.get("name")}
        if extension.get("additionalExtensionProperties") is not None:
            block["additional_extension_properties"] = extension["additionalExtensionProperties"]
        out.append(block)
    return out


def _connections(fn: convert.Convert, value: Any) -> Any:
    """Private link connections → ``private_service_connection`` blocks of the kind ``fn`` reads."""
    probe = [{"is_manual_connection": True, "name": "n"}]
    manual = fn(probe, _NO_REFS) is not None
    if not isinstance(value, list):
        return _FAIL
    out = Blocks()
    for connection in value:
        props = connection.get("properties") or {}
        out.append(
            {
                "name": connection.get("name"),
                "private_connection_resource_id": props.get("privateLinkServiceId"),
                "subresource_names": props.get("groupIds"),
                "is_manual_connection": manual,
            }
        )
    return out


class _NoRefs:
    subscription = ""

    def resolve(self, steps: tuple[str | int, ...]) -> Any:
        return None


_NO_REFS = _NoRefs()

_INVERSES: dict[Any, Callable[[Any], Any]] = {
    convert.negated: _negated,
    convert.enabled: _switch("Enabled", "Disabled"),
    convert.enabled_lower: _switch("enabled", "disabled"),
    convert.enforcement: _switch("Default", "DoNotEnforce"),
    convert.ip_values: _members("value"),
    convert.subnet_ids: _members("id"),
    convert.joined: _joined,
    convert.key_url: _key_url("keyVaultUri", "keyName", "keyVersion"),
    convert.storage_key_url: _key_url("keyvaulturi", "keyname", "keyversion"),
    convert.identity: _identity,
    convert.acr_retention_days: _retention,
    convert.log_entries: _entries,
    convert.metric_entries: _entries,
    convert.pricing_extensions: _extensions,
    convert.cmk_entity: _cmk_entity,
    convert.cosmos_ip_rules: _members("ipAddressOrRange"),
}
# The members of an ARM object a conversion reads: the rest is left for other attributes.
_ACCEPTS: dict[Any, set[str]] = {
    convert.cmk_entity: {
        "keySource",
        "keyVaultProperties.keyVaultUri",
        "keyVaultProperties.keyName",
        "keyVaultProperties.keyVersion",
    },
    convert.key_url: {"keyVaultUri", "keyName", "keyVersion"},
    convert.storage_key_url: {"keyvaulturi", "keyname", "keyversion"},
    convert.identity: {"type", "userAssignedIdentities"},
    convert.acr_retention_days: {"status", "days"},
}
