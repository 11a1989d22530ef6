"""Symbolic names of a languageVersion 2.0 template's resources, as expressions read them.

A template keyed by symbolic name (``"resources": {"kv": {…}}``) refers to a resource by that
name: ``resourceInfo('kv')`` (what Bicep's ``kv.id``, ``kv.name``, ``kv.type`` and
``kv.apiVersion`` compile to), ``reference('kv')`` (``kv.properties``), ``reference('kv', v,
'Full')``, and on another declaration ``"parent": "kv"`` or ``"scope": "kv"``. A copy loop's
members are ``'kv[1]'``.

A resource the template deploys and one it only refers to (``"existing": true``) answer alike:
their id (from name, ``parent``, ``scope``, ``subscriptionId``, ``resourceGroup``), name, type
and API version are the template's; their properties are not known from the file (an existing
resource's are set elsewhere, a deployed one's are the service's once deployed), so
``reference()`` is an object every key of which is unknown. ``listKeys()`` and the other
``list*`` functions stay unknown: keys are never in a file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from tutela.scanner.estate import UNKNOWN, UnknownObject
from tutela.scanner.sources.arm_scope import Deployment, resource_id

if TYPE_CHECKING:
    from tutela.scanner.sources.arm_expressions import Evaluator

_INDEXED: Final = re.compile(r"^(.+)\[(\d+)\]$")
# (the id a resource sits under, its full type, its name segments); None where not known
Placed = tuple[Any, str, list[Any]]


def _member(decl: dict[str, Any], key: str) -> Any:
    """A declaration's own member, whatever its spelling (ARM reads them without case)."""
    if key in decl:
        return decl[key]
    folded = key.lower()
    return next((v for k, v in decl.items() if k.lower() == folded), None)


class Symbols:
    """The resources a template declares by symbolic name, deployed or existing."""

    def __init__(self, declared: Any) -> None:
        self._declared: dict[str, dict[str, Any]] = {}
        if isinstance(declared, dict):
            self._declared = {n: d for n, d in declared.items() if isinstance(d, dict)}
        self._folded = {name.lower(): name for name in self._declared}
        self._busy: set[tuple[str, bool]] = set()

    def find(self, reference: Any) -> tuple[dict[str, Any], int | None] | None:
        """The declaration ``reference`` names (``'kv'``, ``'kv[1]'``) and its loop index."""
        if not isinstance(reference, str) or not self._declared:
            return None
        match = _INDEXED.match(reference)
        name, index = (match[1], int(match[2])) if match else (reference, None)
        spelled = name if name in self._declared else self._folded.get(name.lower())
        return None if spelled is None else (self._declared[spelled], index)

    def placed(self, ev: Evaluator, reference: str) -> Placed | None:
        """Where the named resource sits, evaluated as ``ev`` evaluates (naming or not)."""
        found = self.find(reference)
        key = (reference, ev.naming)
        if found is None or key in self._busy:
            return None  # not a symbol, or one whose name refers to itself
        self._busy.add(key)
        try:
            return self._placed(ev, *found)
        finally:
            self._busy.discard(key)

    def _placed(self, ev: Evaluator, decl: dict[str, Any], index: int | None) -> Placed | None:
        loop = _member(decl, "copy")
        ev = ev.outside_loops()
        if index is not None and isinstance(loop, dict) and isinstance(loop.get("name"), str):
            ev = ev.in_loop(loop["name"], index)
        declared_type = ev.for_naming().resolve(_member(decl, "type"))
        if not isinstance(declared_type, str):
            return None
        name = ev.resolve(_member(decl, "name"))
        segments: list[Any] = name.split("/") if isinstance(name, str) else [UNKNOWN]
        parent = _member(decl, "parent")
        if isinstance(parent, str) and self.find(parent) is not None:
            above = self.placed(ev, parent)
            if above is None:
                return None
            base, _, parent_names = above
            return base, declared_type, [*parent_names, *segments]
        return self._base(ev, decl), declared_type, segments

    def _base(self, ev: Evaluator, decl: dict[str, Any]) -> Any:
        deployment = ev.deployment
        scope = _member(decl, "scope")
        if scope is not None:
            return self.scope_id(ev, ev.resolve(scope))
        subscription, group = _member(decl, "subscriptionId"), _member(decl, "resourceGroup")
        if subscription is None and group is None:
            return deployment.base
        subscription = deployment.subscription_id if subscription is None else subscription
        group = ev.resolve(group) if group is not None else None
        subscription = ev.resolve(subscription)
        if not isinstance(subscription, str) or (group is not None and not isinstance(group, str)):
            return UNKNOWN
        return Deployment(subscription, group).base

    def scope_id(self, ev: Evaluator, scope: Any) -> Any:
        """The id a ``scope`` names: a symbol's id, an id, or ``Ns/type/name`` relative."""
        if not isinstance(scope, str):
            return UNKNOWN
        if self.find(scope) is not None:
            return self.info(ev, scope).get("id", UNKNOWN)
        if scope.startswith("/"):
            return scope.rstrip("/")
        return f"{ev.deployment.base}/providers/{scope}"

    def info(self, ev: Evaluator, reference: Any) -> dict[str, Any]:
        """``resourceInfo()``: apiVersion, id, name, resourceGroup (if any) and type."""
        found = self.find(reference)
        placed = self.placed(ev, reference) if found is not None else None
        if found is None or placed is None:
            return UnknownObject()
        base, resource_type, names = placed
        known = isinstance(base, str) and all(isinstance(n, str) for n in names)
        rid = resource_id(base, resource_type, names) if known else UNKNOWN
        fits = len(names) == resource_type.count("/")
        version = ev.resolve(_member(found[0], "apiVersion"))
        result = {
            "apiVersion": version if isinstance(version, str) else UNKNOWN,
            "id": rid if fits else UNKNOWN,
            "name": "/".join(names) if known else UNKNOWN,
            "type": resource_type,
        }
        parts = rid.split("/") if isinstance(rid, str) else []
        if len(parts) > 4 and parts[3].lower() == "resourcegroups":
            result["resourceGroup"] = parts[4]
        return result

    def reference(self, ev: Evaluator, values: list[Any]) -> Any:
        """``reference(symbol[, apiVersion, 'Full'])``: properties unknown, identity known."""
        if not values or self.find(values[0]) is None:
            return UNKNOWN
        if len(values) < 3 or str(values[2]).lower() != "full":
            return UnknownObject()
        info = self.info(ev, values[0])
        full = UnknownObject({k: info.get(k, UNKNOWN) for k in ("id", "name", "type")})
        full["apiVersion"] = values[1] if isinstance(values[1], str) else info.get("apiVersion")
        return full


def _resource_info(ev: Evaluator, values: list[Any]) -> Any:
    if len(values) != 1:
        return UNKNOWN
    info = ev.symbols.info(ev, values[0])
    return info if info else UNKNOWN


def _reference(ev: Evaluator, values: list[Any]) -> Any:
    return ev.symbols.reference(ev, values)


SYMBOL_FUNCTIONS: Final = {"resourceinfo": _resource_info, "reference": _reference}
