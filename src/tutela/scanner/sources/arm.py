"""ARM deployment templates: the resources a template would deploy, as an estate would hold them.

A template is read as if deployed to subscription ``00000000-0000-0000-0000-000000000000`` (the
placeholder ``PLACEHOLDER_SUBSCRIPTION_ID``), resource group ``rg-template``, at an unknown
location, unless ``resources_from_template`` is told otherwise. Expressions are evaluated by
``arm_expressions``; what cannot be worked out offline is ``UNKNOWN``, so checks say "unknown".
Names are the exception: a name built from a parameter without a value reads ``{paramName}``
(``{unknown name of resources[3]}`` when nothing of it is known), so ids still match up.

Read: ``resources`` as an array or (languageVersion 2.0) an object of symbolic names; child
resources nested in their parent or declared at the top level as ``acct/child``; ``copy`` loops
(at most 800 copies, ARM's limit; one copy with ``{copyIndex}`` in its name when the count is
unknown, marked conditional as the loop may deploy none); ``condition`` (a resource whose
condition is false is left out and listed as not evaluated, ``condition_false``; one whose
condition cannot be decided offline is deployed and marked ``Resource.conditional``, and so is
all it declares: children, a nested deployment's resources); ``existing``
references (left out: the template does not deploy them, but their symbolic names resolve, as
``arm_symbols`` says, and so do ``parent`` and ``scope`` given as one); extension resources by
``scope`` or by a ``<ns>/<type>/providers/<extension>`` type; and nested deployments with an
inline template, evaluated in the inner or outer scope as their ``expressionEvaluationOptions``
say. Linked templates (``templateLink``) cannot be seen: each is a note and an entry of the
report's ``not_evaluated`` (``scanner.not_evaluated``), naming its link when that is a literal.
``dependsOn`` is ignored.

A construct the reader cannot follow costs only what it touches, never the file: a declaration
without a type or name, a name that does not fit its type, a nested template given as an
expression are left out, each with one note (``sources.reading_notes``; ``tutela scan`` prints
them on stderr); a nested template left out is in ``not_evaluated`` too. Only a document that
is not a template at all is refused. An extension named the legacy way
(``acct/Microsoft.Authorization/guid``, type ``…/storageAccounts/providers/roleAssignments``)
extends ``acct``; when its name is unknown it keeps its type, not its scope.

A template declares its own diagnostic settings and role assignments, so those facts are seen:
every resource gets a list. Defender pricings and policy assignments are seen only in a
subscription-scope template that declares some.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from tutela.scanner.estate import UNKNOWN, Resource, UnknownObject, member
from tutela.scanner.not_evaluated import CONDITION_FALSE as FALSE
from tutela.scanner.not_evaluated import Reason
from tutela.scanner.not_evaluated import entry as not_evaluated
from tutela.scanner.sources import SourceError, leave_unevaluated, note
from tutela.scanner.sources.arm_expressions import Deployment, Evaluator, resource_id
from tutela.scanner.sources.arm_functions import MAX_LOOP
from tutela.scanner.sources.arm_parse import is_expression
from tutela.scanner.sources.relate import (
    POLICY_ASSIGNMENT_TYPE,
    PRICING_TYPE,
    RESOURCE_GROUP_TYPE,
    ROLE_ASSIGNMENT_TYPE,
    relate,
)

PLACEHOLDER_SUBSCRIPTION_ID: Final = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP: Final = "rg-template"

_DEPLOYMENT_TYPE: Final = "microsoft.resources/deployments"
_GROUP_DECLARATION_TYPE: Final = "microsoft.resources/resourcegroups"
_ABOVE_GROUP_SCHEMAS: Final = (
    "subscriptiondeploymenttemplate",
    "managementgroupdeploymenttemplate",
    "tenantdeploymenttemplate",
)
# ARM returns these assignments with their scope in properties; relate reads it there.
_SCOPED_FACT_TYPES: Final = (ROLE_ASSIGNMENT_TYPE, POLICY_ASSIGNMENT_TYPE)
# The namespace of an extension type, for a ``<type>/providers/<extension>`` whose name (which
# should say it: parent/Namespace/name) is not known offline.
_EXTENSION_NAMESPACES: Final = {
    "roleassignments": "Microsoft.Authorization",
    "policyassignments": "Microsoft.Authorization",
    "locks": "Microsoft.Authorization",
    "diagnosticsettings": "Microsoft.Insights",
}


# A declaration's own members, as ARM names them: ARM reads them without case ("Properties").
_DECLARATION_KEYS: Final = {
    key.lower(): key
    for key in (
        "type",
        "name",
        "apiVersion",
        "location",
        "kind",
        "sku",
        "tags",
        "identity",
        "properties",
        "resources",
        "condition",
        "copy",
        "existing",
        "scope",
        "dependsOn",
        "subscriptionId",
        "resourceGroup",
        "zones",
        "plan",
        "comments",
        "managedBy",
        "parent",
    )
}


_DOCUMENTED_KEYS: Final = frozenset(_DECLARATION_KEYS.values())


def _canonical_keys(decl: dict[str, Any]) -> dict[str, Any]:
    """The declaration with its own members spelled as ARM documents them (a copy only when one
    is spelled otherwise); a member given twice in two spellings keeps the documented one."""
    if decl.keys() <= _DOCUMENTED_KEYS:  # the usual declaration: one set test, no loop
        return decl
    if all(
        key in _DECLARATION_KEYS.values() or key.lower() not in _DECLARATION_KEYS for key in decl
    ):
        return decl
    canonical: dict[str, Any] = {}
    for key, value in decl.items():
        spelled = _DECLARATION_KEYS.get(key.lower(), key)
        if spelled not in canonical or key == spelled:
            canonical[spelled] = value
    return canonical


class _Unreadable(Exception):
    """A declaration the reader cannot follow; the message is the note that says so."""


def resources_from_arm(
    document: Any, source: str, *, now: dt.datetime | None = None
) -> list[Resource]:
    """The resources an ARM template declares, deployed to the default placeholder context;
    ``now`` is the read's fixed clock (``utcNow()``), by default the start of today (UTC)."""
    return resources_from_template(document, source, now=now)


def resources_from_template(
    template: Any,
    source: str,
    *,
    subscription_id: str = PLACEHOLDER_SUBSCRIPTION_ID,
    resource_group: str = DEFAULT_RESOURCE_GROUP,
    location: Any = UNKNOWN,
    parameters: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> list[Resource]:
    """The resources of ``template`` deployed to this context; ``parameters`` (name → value,
    e.g. from ``parameter_values``) override the template's defaults; ``now`` is the one moment
    every ``utcNow()`` of the read answers (``arm_dates``)."""
    if not isinstance(template, dict):
        raise SourceError(source, "an ARM template must be a JSON object")
    schema = str(template.get("$schema", "")).lower()
    above_group = any(kind in schema for kind in _ABOVE_GROUP_SCHEMAS)
    deployment = Deployment(subscription_id, None if above_group else resource_group, location)
    reader = _Reader(source)
    evaluator = Evaluator(template, deployment, parameters, now=now)
    reader.template(template, "", evaluator, deployment)
    reader.note_undeclared(evaluator, "")
    at_subscription = "subscriptiondeploymenttemplate" in schema
    declared = {resource.type for resource in reader.resources}
    return relate(
        reader.resources,
        sees_diagnostics=True,
        sees_access=True,
        sees_security=at_subscription and PRICING_TYPE in declared,
        sees_policy=at_subscription and POLICY_ASSIGNMENT_TYPE in declared,
        source=source,
    )


def parameter_values(document: Any, source: str) -> dict[str, Any]:
    """The values of a deployment parameters file (``{"parameters": {name: {"value": …}}}``).

    A Key Vault ``reference`` instead of a value is ``UNKNOWN``: it cannot be read offline.
    """
    entries = document.get("parameters") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise SourceError(source, 'a parameters file must be an object with a "parameters" object')
    values: dict[str, Any] = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise SourceError(source, f'parameters.{name} must be an object ({{"value": …}})')
        values[name] = entry.get("value", UNKNOWN)
    return values


Parent = tuple[str, list[str]]  # a parent's full type and its name segments


class _Reader:
    """Walks a template's declarations, collecting the resources they deploy."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.resources: list[Resource] = []
        self.group_locations: dict[str, Any] = {}  # declared resource groups, by lower-cased id
        # The condition, not decided offline, that the declarations being read deploy under.
        self.condition: str | None = None

    def shape_error(self, prefix: str, problem: str) -> Exception:
        """The whole file's shape is wrong (bad input); a nested template's is one note."""
        if prefix:
            return _Unreadable(f"{prefix}{problem}: its resources are left out")
        return SourceError(self.source, problem)

    def template(
        self, template: dict[str, Any], prefix: str, ev: Evaluator, place: Deployment
    ) -> None:
        for section in ("parameters", "variables"):
            if section in template and not isinstance(template[section], dict):
                raise self.shape_error(prefix, f'"{section}" must be an object')
        declared = template.get("resources")
        if declared is None:
            problem = '"resources" is missing: an ARM template lists its resources'
            raise self.shape_error(prefix, problem)
        if isinstance(declared, list):
            items = ((f"{prefix}resources[{i}]", d) for i, d in enumerate(declared))
        elif isinstance(declared, dict):  # languageVersion 2.0: keyed by symbolic name
            items = ((f"{prefix}resources.{name}", d) for name, d in declared.items())
        else:
            problem = '"resources" must be an array (or, in 2.0, an object)'
            raise self.shape_error(prefix, problem)
        for path, declaration in items:
            self.declaration(declaration, path, ev, place, None)

    def declaration(
        self, decl: Any, path: str, ev: Evaluator, place: Deployment, parent: Parent | None
    ) -> None:
        """Read one declaration; one the reader cannot follow is left out, with a note."""
        try:
            self._declaration(decl, path, ev, place, parent)
        except _Unreadable as exc:
            note(self.source, str(exc))

    def _declaration(
        self, decl: Any, path: str, ev: Evaluator, place: Deployment, parent: Parent | None
    ) -> None:
        if not isinstance(decl, dict):
            raise _Unreadable(f"{path} is not a resource declaration (an object): left out")
        decl = _canonical_keys(decl)
        for key in ("type", "name"):
            if not isinstance(decl.get(key), str) or not decl[key]:
                raise _Unreadable(f'{path} has no "{key}" (a non-empty string): left out')
        if decl.get("existing") is True:
            return  # a reference to a resource deployed elsewhere
        for copy_ev in self._copies(decl, path, ev):
            decided = _truth(copy_ev.resolve(decl.get("condition", True)))
            if decided is False:  # not deployed, as ARM does; listed so the user sees it
                at = [f"{self.source}: {path}"]
                kind = decl["type"].lower()
                leave_unevaluated(self.source, not_evaluated("condition_false", kind, at, FALSE))
                continue
            undecided: Any = None if decided is True else decl["condition"]
            if undecided is None and "copy" in decl and copy_ev.loops.get("") is None:
                # one copy standing for a count not known offline, which may be none
                undecided = f"copy count {_text(decl['copy'].get('count'))}"
            if undecided is None:
                self._deploy(decl, path, copy_ev, place, parent)
            else:  # not decided offline: deployed, marked conditional
                self._deploy_under(decl, path, copy_ev, place, parent, undecided)

    def _deploy_under(
        self,
        decl: dict[str, Any],
        path: str,
        ev: Evaluator,
        place: Deployment,
        parent: Parent | None,
        condition: Any,
    ) -> None:
        """Deploy a declaration whose condition (or copy count) is undecided: it and all it
        declares (children, a nested deployment's resources) carry the outermost such one."""
        outer = self.condition
        if outer is None:
            self.condition = _text(condition)
        try:
            self._deploy(decl, path, ev, place, parent)
        finally:
            self.condition = outer

    def _copies(self, decl: dict[str, Any], path: str, ev: Evaluator) -> list[Evaluator]:
        loop = decl.get("copy")
        if loop is None:
            return [ev]
        if not isinstance(loop, dict):
            raise _Unreadable(f"{path}.copy is not an object (name, count): left out")
        name = loop["name"] if isinstance(loop.get("name"), str) else ""
        count = ev.resolve(loop.get("count"))
        if type(count) is not int:
            return [ev.in_loop(name, None)]  # one copy standing for all, {copyIndex} in its name
        return [ev.in_loop(name, i) for i in range(max(0, min(count, MAX_LOOP)))]

    def _deploy(
        self,
        decl: dict[str, Any],
        path: str,
        ev: Evaluator,
        place: Deployment,
        parent: Parent | None,
    ) -> None:
        naming = ev.for_naming()
        declared_type = naming.resolve(decl["type"])
        if not isinstance(declared_type, str):
            return  # a type only known at deployment: nothing a check could be matched to
        name = naming.resolve(decl["name"])
        if isinstance(decl.get("parent"), str):  # languageVersion 2.0: a parent's symbolic name
            parent, place = _symbol_parent(decl["parent"], naming, path, place)
        full_type, names = _joined(parent, declared_type, name, path)
        if "/" not in full_type:
            # The value is not quoted: the API answers this text, and never echoes its input.
            raise _Unreadable(f"{path}.type is not a resource type (Namespace/type): left out")
        if full_type.lower() == _DEPLOYMENT_TYPE:
            self._nested_deployment(decl, path, ev, place)
            return
        self.resources.append(self._resource(decl, path, ev, place, full_type, names))
        children = decl.get("resources")
        if children is None:
            return
        if not isinstance(children, list):
            raise _Unreadable(f"{path}.resources is not an array: its resources are left out")
        for j, child in enumerate(children):
            self.declaration(child, f"{path}.resources[{j}]", ev, place, (full_type, names))

    def _resource(
        self,
        decl: dict[str, Any],
        path: str,
        ev: Evaluator,
        place: Deployment,
        full_type: str,
        names: list[str],
    ) -> Resource:
        scope, resource_type, names = self._scope(decl, path, ev, place, full_type, names)
        if len(names) != resource_type.count("/"):
            raise _Unreadable(
                f"{path}: its name has {len(names)} segment(s) but its type needs "
                f"{resource_type.count('/')}: left out"
            )
        lowered = resource_type.lower()
        if lowered == _GROUP_DECLARATION_TYPE:
            lowered, rid = RESOURCE_GROUP_TYPE, f"/subscriptions/{place.subscription_id}"
            rid = f"{rid}/resourceGroups/{names[0]}"
        else:
            rid = resource_id(scope, resource_type, names)
        properties = ev.resolve(decl.get("properties", {}))
        if not isinstance(properties, dict):
            properties = UnknownObject()
        elif lowered in _SCOPED_FACT_TYPES and "scope" not in properties:
            properties = {**properties, "scope": scope}  # resolved objects may be shared
        subscription_id, group = _placement(rid, place)
        location = _known(ev.resolve(decl.get("location")), str)
        api_version = ev.resolve(decl.get("apiVersion"))
        if lowered == RESOURCE_GROUP_TYPE:
            self.group_locations[rid.lower()] = location
        # Positional: several times faster than keywords (estate.POSITIONAL_FIELDS).
        resource = Resource(
            rid,
            lowered,
            names[-1],
            subscription_id,
            group,
            location,
            _known(ev.resolve(decl.get("kind")), str),
            _known(ev.resolve(decl.get("sku")), dict),
            _known(ev.resolve(decl.get("tags")), dict) or {},
            _known(ev.resolve(decl.get("identity")), dict),
            properties,
        )
        resource.origin = f"{self.source}: {path}"
        if isinstance(api_version, str):
            resource.api_version = api_version
        if self.condition is not None:
            resource.conditional = self.condition
        return resource

    def _scope(
        self,
        decl: dict[str, Any],
        path: str,
        ev: Evaluator,
        place: Deployment,
        full_type: str,
        names: list[str],
    ) -> tuple[str, str, list[str]]:
        """(the id the resource sits under, its own type, its own names)."""
        at = full_type.lower().find("/providers/")
        if at > 0:  # Ns/type/providers/extension named parent/ExtNs/extension-name
            base_type, extension = full_type[:at], full_type[at + len("/providers/") :]
            cut = base_type.count("/")
            if len(names) < cut + 2:
                raise _Unreadable(f"{path}: not named parent/Namespace/name: left out")
            namespace = names[cut]
            if namespace == _unknown_name(path):  # what it extends is unknown, not its type
                namespace = _EXTENSION_NAMESPACES.get(extension.lower(), "")
                if not namespace:
                    raise _Unreadable(f"{path}: its name is not known offline: left out")
            parent_id = resource_id(place.base, base_type, names[:cut])
            return parent_id, f"{namespace}/{extension}", names[cut + 1 :]
        if "scope" not in decl:
            return place.base, full_type, names
        scope = ev.for_naming().resolve(decl["scope"])
        if isinstance(scope, str) and ev.symbols.find(scope) is not None:
            scope = ev.symbols.scope_id(ev.for_naming(), scope)  # 2.0: a symbolic name
        if not isinstance(scope, str):
            return f"{{unknown scope of {path}}}", full_type, names
        if scope.startswith("/"):
            return scope.rstrip("/"), full_type, names
        return f"{place.base}/providers/{scope}", full_type, names  # "Ns/type/name", relative

    def _nested_deployment(
        self, decl: dict[str, Any], path: str, ev: Evaluator, place: Deployment
    ) -> None:
        properties = decl.get("properties")
        template = member(properties, "template")  # ARM reads member names in any case
        if template is None:
            link = member(properties, "templateLink")
            if link is not None:  # a linked template: not in this file
                text = _link_text(ev.resolve(link))  # a uri() of parameters with values resolves
                self._unevaluated("linked_template", path, f"linked template {text}")
            return
        if isinstance(template, str) and is_expression(template):
            self._unevaluated("template_expression", path, "nested template is an expression")
            raise _Unreadable(
                f"nested template at {path} is an expression: its resources are not evaluated"
            )
        if not isinstance(template, dict):
            self._unevaluated("template_expression", path, "nested template is not an object")
            raise _Unreadable(
                f"nested template at {path} is not an object: its resources are left out"
            )
        target = _target(decl, path, ev, place)
        if target.location is UNKNOWN:  # a group this template declares has a known location
            target.location = self.group_locations.get(target.base.lower(), UNKNOWN)
        scope = member(member(properties, "expressionEvaluationOptions"), "scope")
        if str(scope).lower() == "inner":
            passed = member(properties, "parameters")
            supplied, names = _supplied(passed, ev), _supplied(passed, ev.for_naming())
            inner = Evaluator(template, target, supplied, names, now=ev.now)
            self.template(template, f"{path}.properties.template.", inner, target)
            self.note_undeclared(inner, f" in the nested template at {path}")
            return
        self.template(template, f"{path}.properties.template.", ev, target)

    def note_undeclared(self, ev: Evaluator, where: str) -> None:
        """A note for each parameter the template reads without declaring it (ARM would refuse
        the deployment): what it touches is unknown."""
        for name in ev.undeclared_parameters:
            note(self.source, f"parameter '{name}' is used but not declared{where}: unknown")

    def _unevaluated(self, reason: Reason, path: str, what: str) -> None:
        """A nested deployment whose resources cannot be read: listed in the report's
        ``not_evaluated``; a linked one with a note too (an expression's is the error raised)."""
        detail = f"{what}: its resources are not evaluated"
        at = [f"{self.source}: {path}"]
        leave_unevaluated(self.source, not_evaluated(reason, _DEPLOYMENT_TYPE, at, detail))
        if reason == "linked_template":
            note(self.source, f"{what} at {path}: its resources are not evaluated")


def _symbol_parent(
    symbol: str, naming: Evaluator, path: str, place: Deployment
) -> tuple[Parent, Deployment]:
    """The type and name segments of the resource a 2.0 ``parent`` names, deployed or not,
    and where it is (an existing parent may be in another resource group)."""
    placed = naming.symbols.placed(naming, symbol)
    if placed is None:
        raise _Unreadable(f"{path}.parent is not a symbolic name of this template: left out")
    base, parent_type, names = placed
    parts = base.split("/") if isinstance(base, str) else []
    if base != place.base and len(parts) in (3, 5) and parts[1].lower() == "subscriptions":
        group = parts[4] if len(parts) == 5 else None
        place = Deployment(parts[2], group)
    return (parent_type, [n if isinstance(n, str) else _unknown_name(path) for n in names]), place


def _text(value: Any) -> str:
    """A condition or count as the template writes it."""
    return value if isinstance(value, str) else repr(value)


def _link_text(link: Any) -> str:
    """What a ``templateLink`` names when it is a literal (a URI without its query, which may
    hold a SAS token; a path relative to the template; a template spec's id), else that it is
    an expression."""
    if not isinstance(link, dict):
        return "given as an expression"
    members = {key.lower(): value for key, value in link.items()}
    for key in ("uri", "relativepath", "id"):
        value = members.get(key)
        if value is UNKNOWN or isinstance(value, UnknownObject):
            return "given as an expression"
        if not isinstance(value, str) or not value:
            continue
        if is_expression(value):
            return "given as an expression"
        if key == "id":
            return f"{value} (a template spec)"
        return _without_query(value) if key == "uri" else value
    return "with no uri, relativePath or id"


def _without_query(uri: str) -> str:
    """The URI without credentials, query or fragment (``?…`` says a query was there)."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "a URI that does not parse"
    kept = f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else parts.path
    return kept + ("?…" if parts.query else "")


def _joined(parent: Parent | None, declared_type: str, name: Any, path: str) -> Parent:
    """The full type and name segments of a declaration, joined with its parent's."""
    full = parent is None or "." in declared_type.split("/", 1)[0]  # "Ns/type", not "type"
    if isinstance(name, str):
        segments = name.split("/")
    else:  # as many unknown segments as the type needs, so the name still fits it
        segments = [_unknown_name(path)] * (declared_type.count("/") + (not full))
    if parent is None:
        return declared_type, segments
    parent_type, parent_names = parent
    if full:  # a full type inside its parent
        short = len(segments) < declared_type.count("/")
        return declared_type, [*parent_names, *segments] if short else segments
    return f"{parent_type}/{declared_type}", [*parent_names, *segments]


def _unknown_name(path: str) -> str:
    return f"{{unknown name of {path}}}"


def _target(decl: dict[str, Any], path: str, ev: Evaluator, place: Deployment) -> Deployment:
    """Where a nested deployment deploys: its own subscription and group, else its parent's."""
    naming = ev.for_naming()
    subscription = naming.resolve(decl.get("subscriptionId", place.subscription_id))
    group = naming.resolve(decl.get("resourceGroup", place.resource_group))
    if not isinstance(subscription, str):
        subscription = f"{{unknown subscription of {path}}}"
    if group is not None and not isinstance(group, str):
        group = f"{{unknown resource group of {path}}}"
    same = (subscription, group) == (place.subscription_id, place.resource_group)
    return Deployment(subscription, group, place.location if same else UNKNOWN)


def _supplied(parameters: Any, ev: Evaluator) -> dict[str, Any]:
    """The values a nested deployment passes to its inner-scope template."""
    if not isinstance(parameters, dict):
        return {}
    return {
        name: ev.resolve(entry["value"]) if "value" in entry else UNKNOWN
        for name, entry in parameters.items()
        if isinstance(entry, dict)
    }


def _placement(rid: str, place: Deployment) -> tuple[str | None, str | None]:
    """The subscription and resource group an id names (extension ids may name others)."""
    parts = rid.split("/", 5)
    if len(parts) < 3 or parts[1].lower() != "subscriptions":
        return place.subscription_id, place.resource_group
    group = parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else None
    return parts[2], group


def _known(value: Any, kind: type) -> Any:
    """The value if it has the right type, ``UNKNOWN`` if unresolvable, else None (absent)."""
    if value is UNKNOWN or isinstance(value, kind):
        return value
    return None


def _truth(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value
