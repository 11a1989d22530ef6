"""Which general-purpose resources belong to an AI workload, and why.

A storage account, key vault, container registry or AKS cluster serves AI and non-AI workloads
alike; its findings count toward an AI framework only when it belongs to an AI workload. The rules
are data (``catalog/ai_scope.yaml``, documented in ``catalog/README.md``, "AI scope"); this module
applies them to one estate. A general-purpose resource is in scope, first reason found wins:

1. linked from an AI resource (a workspace's default storage account, an account's CMK vault);
2. tagged as part of an AI workload or model inventory (``ai-workload``, ``model-id``), or a
   setting of its own shows AI use (``ai_when``: a Cosmos DB account with vector search);
3. a child (blob service, key): as its parent is, or in scope when its parent is not in the input;
4. a subscription-wide fact (the subscription, role and policy assignments, role definitions):
   when its subscription holds an AI resource;
5. when an AI resource names a resource of its type that the source could not resolve
   (``UNKNOWN``): every one of that type not otherwise in scope, since any could be the one.

Everything is indexed once per estate (one pass over the AI resources, dict lookups after), and
each resource's reason is worked out on first request and kept.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from tutela.scanner.catalog.scoping import (
    AiResourceRule,
    AiScopeRules,
    Condition,
    GeneralPurposeRule,
    LinkRule,
    load_ai_scope_rules,
)
from tutela.scanner.estate import SUBSCRIPTION_TYPE, UNKNOWN, Estate, Resource, member

_MEMO_KEY: Final = "tutela.scanner.ai_scope"
_PROVIDERS: Final = "/providers/"
_VAULT_TYPE: Final = "microsoft.keyvault/vaults"
_SHOWN_TAG_VALUE: Final = 60  # characters of a tag value a reason quotes

_Steps = tuple[tuple[str, bool], ...]  # (property name, walk each element of a list)


def ai_scope(estate: Estate) -> AiScope:
    """The estate's AI scope under the shipped rules, computed once per estate."""
    scope = estate.memo.get(_MEMO_KEY)
    if not isinstance(scope, AiScope):
        scope = estate.memo[_MEMO_KEY] = AiScope(estate, load_ai_scope_rules())
    return scope


class AiScope:
    """Whether, and why, each general-purpose resource of one estate belongs to an AI workload."""

    __slots__ = (
        "_cache",
        "_estate",
        "_general",
        "_held",
        "_linked",
        "_rules",
        "_tags",
        "_units",
        "_units_by_subscription",
        "_unresolved",
        "_vault_hosts",
    )

    def __init__(self, estate: Estate, rules: AiScopeRules) -> None:
        self._estate, self._rules = estate, rules
        self._general: dict[str, GeneralPurposeRule] = {r.type: r for r in rules.general_purpose}
        self._tags = frozenset(name.lower() for name in rules.tags)
        self._linked: dict[str, str] = {}  # lower-cased id of a linked resource → reason
        self._unresolved: dict[str, str] = {}  # type → why every resource of it is in scope
        # AI workloads (a top-level AI resource and its children), by lower-cased top-level id.
        self._units: dict[str, _Unit] = {}
        self._units_by_subscription: dict[str, dict[str, _Unit]] = {}
        self._vault_hosts: dict[str, Resource] | None = None  # made on first need
        self._held: dict[tuple[str | None, str], str | None] = {}  # subscription facts' reasons
        self._cache: dict[Resource, str | None] = {}
        self._index()

    def is_general_purpose(self, resource_type: str) -> bool:
        return resource_type in self._general

    def reason(self, resource: Resource) -> str | None:
        """Why a general-purpose resource belongs to an AI workload (one short sentence naming
        the AI resource and the link, e.g. "default storage account of Azure ML workspace
        'mlw-risk-prod'"), or None when it does not. None for non-general-purpose types."""
        rule = self._general.get(resource.type)
        if rule is None:
            return None
        if resource not in self._cache:
            self._cache[resource] = self._decide(resource, rule)
        return self._cache[resource]

    # --- deciding one resource ------------------------------------------------------------------

    def _decide(self, resource: Resource, rule: GeneralPurposeRule) -> str | None:
        linked = self._linked.get(resource.key)
        if linked is not None:
            return linked
        tagged = self._tagged(resource)
        if tagged is not None:
            return tagged
        if rule.ai_when is not None:
            shown = _shows_ai(resource, rule.ai_when, rule.ai_reason or "")
            if shown is not None:
                return shown
        if rule.parent is not None:
            return self._through_parent(resource, self._general[rule.parent])
        if rule.subscription_wide:
            return self._through_subscription(resource)
        return self._unresolved.get(resource.type)

    def _tagged(self, resource: Resource) -> str | None:
        tags = resource.tags
        if not isinstance(tags, dict):  # tags the source could not resolve count as none
            return None
        for name, value in tags.items():
            if isinstance(name, str) and name.lower() in self._tags:
                return f"tagged {name}={_shown(value)}"
        return None

    def _through_parent(self, resource: Resource, parent_rule: GeneralPurposeRule) -> str | None:
        parent = self._estate.parent(resource)
        if parent is None:
            return f"its {parent_rule.label} is not in the input, so it is considered in scope"
        why = self.reason(parent)
        return (
            None if why is None else f"its {parent_rule.label} '{parent.name}' is in scope: {why}"
        )

    def _through_subscription(self, resource: Resource) -> str | None:
        subscription = resource.subscription_id
        whose = "the" if resource.type == SUBSCRIPTION_TYPE else "its"
        key = (subscription.lower() if subscription is not None else None, whose)
        if key not in self._held:  # one sentence per subscription, however many facts share it
            if subscription is None:  # assigned above any one subscription
                lead, units = "it spans subscriptions and the input holds", self._units
            else:
                lead, units = (
                    f"{whose} subscription holds",
                    self._units_by_subscription.get(key[0] or "", {}),
                )
            self._held[key] = _holding(lead, units)
        return self._held[key]

    # --- indexing the AI resources --------------------------------------------------------------

    def _index(self) -> None:
        links: dict[str, list[tuple[LinkRule, _Steps, _Steps | None]]] = {}
        for link in self._rules.links:
            when = _steps(link.when.field) if link.when is not None else None
            links.setdefault(link.from_, []).append((link, _steps(link.field), when))
        for resource_type in self._estate.types:
            rule = self._rules.ai_rule(resource_type)
            if rule is None:
                continue
            outgoing = links.get(resource_type, ())
            for resource in self._estate.of_type(resource_type):
                self._count(resource, rule)
                for link, steps, when in outgoing:
                    if when is None or _meets(resource, when, link.when):
                        self._follow(resource, link, steps)

    def _count(self, resource: Resource, rule: AiResourceRule) -> None:
        """Record the AI workload the resource belongs to, under its subscription."""
        if resource.type == rule.type:
            key, unit = resource.key, _Unit(rule, resource, resource.name)
        else:  # a child: its workload is its top-level resource, counted on its own if present
            found = self._orphan(resource, rule)
            if found is None:
                return
            key, unit = found
        self._units.setdefault(key, unit)
        if resource.subscription_id is not None:
            units = self._units_by_subscription.setdefault(resource.subscription_id.lower(), {})
            units.setdefault(key, unit)

    def _orphan(self, resource: Resource, rule: AiResourceRule) -> tuple[str, _Unit] | None:
        """(key, unit) of a child whose top-level AI resource is not in the input; else None."""
        lowered = resource.id.lower()
        at = lowered.rfind(_PROVIDERS)
        if at < 0:
            return lowered, _Unit(rule, None, resource.name)
        end = at + len(_PROVIDERS)
        for _ in range(2 * rule.type.count("/") + 1):  # namespace, then a type and a name a level
            end = lowered.find("/", end + 1)
            if end < 0:
                return lowered, _Unit(rule, None, resource.name)
        top_key = lowered[:end]
        if self._estate.get(top_key) is not None:
            return None
        return top_key, _Unit(rule, None, resource.id[:end].rsplit("/", 1)[-1])

    def _follow(self, resource: Resource, link: LinkRule, steps: _Steps) -> None:
        role = link.role.replace("{source}", resource.name) if "{" in link.role else link.role
        for value in _values(resource.properties, steps):
            if value is UNKNOWN:
                if link.to not in self._unresolved:
                    label = self._general[link.to].label
                    self._unresolved[link.to] = (
                        f"the {role} of {self._owner(resource, link)} cannot be resolved from "
                        f"the input, so every {label} is considered in scope"
                    )
                continue
            target = self._target(value, link) if isinstance(value, str) and value else None
            if target is not None and target.key not in self._linked:
                self._linked[target.key] = f"{role} of {self._owner(resource, link)}"

    def _owner(self, resource: Resource, link: LinkRule) -> str:
        """How a reason names the AI resource a link belongs to."""
        if link.owner == "self":
            owner: Resource | None = resource
            owner_id = resource.id
        else:
            owner_id = resource.parent_id or resource.id
            owner = self._estate.get(owner_id)
        owner_type = owner.type if owner is not None else resource.type.rsplit("/", 1)[0]
        rule = self._rules.ai_rule(owner_type)
        label = rule.label_for(owner.kind if owner is not None else None) if rule else owner_type
        return f"{label} '{owner.name if owner is not None else owner_id.rsplit('/', 1)[-1]}'"

    def _target(self, value: str, link: LinkRule) -> Resource | None:
        if link.match == "vault_uri":
            target = self._vault_by_uri(value)
        else:
            target = self._estate.get(value.strip().rstrip("/"))
        return target if target is not None and target.type == link.to else None

    def _vault_by_uri(self, uri: str) -> Resource | None:
        if self._vault_hosts is None:
            self._vault_hosts = {}
            suffixes = self._rules.vault_dns_suffixes
            for vault in self._estate.of_type(_VAULT_TYPE):
                stated = _host(member(vault.properties, "vaultUri"))
                if stated is not None:
                    self._vault_hosts.setdefault(stated, vault)
                for suffix in suffixes:
                    self._vault_hosts.setdefault(f"{vault.name.lower()}.{suffix}", vault)
        host = _host(uri)
        return self._vault_hosts.get(host) if host is not None else None


# --- helpers ------------------------------------------------------------------------------------


def _steps(field: str) -> _Steps:
    """``properties.a[*].b`` → ``(("a", True), ("b", False))`` (read under ``properties``)."""
    names = field.split(".")[1:]
    return tuple((name.removesuffix("[*]"), name.endswith("[*]")) for name in names)


def _values(node: Any, steps: _Steps) -> list[Any]:
    """The values at ``steps`` under ``node``; ``UNKNOWN`` where the walk meets one."""
    nodes = [node]
    for name, each in steps:
        found: list[Any] = []
        for at in nodes:
            if at is UNKNOWN:
                found.append(UNKNOWN)
            elif isinstance(at, dict):
                child = member(at, name)  # any case; an UnknownObject answers UNKNOWN
                if not each or child is UNKNOWN:
                    found.append(child)
                elif isinstance(child, list):
                    found.extend(child)
        nodes = found
    return nodes


def _meets(resource: Resource, steps: _Steps, condition: Condition | None) -> bool:
    """Whether the link's condition holds; a value the source could not resolve might, so does."""
    assert condition is not None
    wanted = {value.lower() for value in condition.in_}
    for value in _values(resource.properties, steps):
        if value is UNKNOWN or (isinstance(value, str) and value.lower() in wanted):
            return True
    return False


def _shows_ai(resource: Resource, condition: Condition, reason: str) -> str | None:
    """``reason`` when the resource's own setting shows AI use; when the source could not resolve
    the setting, that it is considered in scope; None otherwise."""
    wanted = {value.lower() for value in condition.in_}
    unresolved = False
    for value in _values(resource.properties, _steps(condition.field)):
        if isinstance(value, str) and value.lower() in wanted:
            return reason
        unresolved = unresolved or value is UNKNOWN
    if unresolved:
        return (
            f"its {condition.field} cannot be resolved from the input, so it is considered in scope"
        )
    return None


def _host(uri: Any) -> str | None:
    """A URI's host name, lower-cased (``https://kv.vault.azure.net/`` → ``kv.vault.azure.net``)."""
    if not isinstance(uri, str):
        return None
    text = uri.strip().lower()
    scheme = text.find("://")
    authority = text[scheme + 3 :] if scheme >= 0 else text
    host = authority.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    return host or None


class _Unit(NamedTuple):
    """An AI workload: its top-level AI resource (None when only a child is in the input)."""

    rule: AiResourceRule
    resource: Resource | None
    name: str

    def __str__(self) -> str:
        kind = self.resource.kind if self.resource is not None else None
        return f"{self.rule.label_for(kind)} '{self.name}'"


def _holding(lead: str, units: dict[str, _Unit]) -> str | None:
    """``<lead> Azure OpenAI account 'x' and 3 other AI resources``; None when there are none."""
    if not units:
        return None
    first = next(iter(units.values()))
    others = len(units) - 1
    if others == 0:
        return f"{lead} {first}"
    return f"{lead} {first} and {others} other AI resource{'s' if others > 1 else ''}"


def _shown(value: Any) -> str:
    """A tag value as a reason quotes it: printable characters only, and not too long."""
    if value is UNKNOWN:
        return "<unknown>"
    text = "".join(c for c in str(value) if c.isprintable())
    return text if len(text) <= _SHOWN_TAG_VALUE else text[: _SHOWN_TAG_VALUE - 1] + "…"
