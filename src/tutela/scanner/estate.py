"""The normalised estate every source produces and every check reads.

A resource carries ARM names (lower-cased type, ``properties`` as ARM returns them) and the related
facts a check needs. A related fact is ``None`` when the source could not see it (an ARM template
holds no role assignments) and a list, possibly empty, when it could: checks report "unknown" for
the first and decide on the second. A value a source could not work out (an unresolvable template
expression, a Terraform attribute known only after apply) is the ``UNKNOWN`` sentinel. A
subscription the input only implies and says nothing about is not assessed at all
(``Resource.undescribed_subscription``). A template's resource deployed only under a condition
the reader could not decide is assessed and marked (``Resource.conditional``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final


class _Unknown:
    """A value the source could not determine; never equal to anything, not even itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unknown>"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()

SUBSCRIPTION_TYPE: Final = "microsoft.resources/subscriptions"


class UnknownObject(dict[str, Any]):
    """An object a source could not resolve at all (``"properties": "[reference(…)]"``).

    Empty, but every key read from it is ``UNKNOWN``, so checks say "unknown" rather than
    taking a service default for each property.
    """

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, UNKNOWN)


def is_unknown(value: object) -> bool:
    return value is UNKNOWN


def member(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` as ARM reads a property name: spelt in any case (``PrivateEndpointConnections``
    is ``privateEndpointConnections``); ``default`` when absent or ``obj`` is not an object, and
    ``UNKNOWN`` from an ``UnknownObject``."""
    if not isinstance(obj, dict):
        return default
    if key in obj:
        return obj[key]
    folded = key.lower()
    for name, value in obj.items():
        if isinstance(name, str) and name.lower() == folded:
            return value
    return obj.get(key, default)


def member_key(obj: dict[str, Any], key: str) -> str:
    """How ``obj`` spells ``key`` (any case), or ``key`` itself when it has no such member."""
    if key in obj:
        return key
    folded = key.lower()
    return next((k for k in obj if isinstance(k, str) and k.lower() == folded), key)


@dataclass(slots=True, eq=False)
class Resource:
    """One Azure resource (or a subscription, for subscription-level facts)."""

    id: str
    type: str  # lower-cased ARM type, e.g. "microsoft.cognitiveservices/accounts"
    name: str
    subscription_id: str | None = None
    resource_group: str | None = None
    location: str | None = None
    kind: str | None = None
    sku: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    identity: dict[str, Any] | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    # Related facts: None = the source could not see them; [] = seen, none there.
    diagnostic_settings: list[dict[str, Any]] | None = None
    role_assignments: list[dict[str, Any]] | None = None
    # Subscription-level facts, on the subscription resource only.
    security_pricings: list[dict[str, Any]] | None = None
    policy_assignments: list[dict[str, Any]] | None = None
    # Where the resource was declared (a Terraform address, a template path): for reports only.
    origin: str | None = None
    # The API version a template declares the resource with: a service default that changed
    # between versions depends on it. None when the source does not say (exports, plans).
    api_version: str | None = None
    # A subscription the input holds no record of, added by ``relate`` because resources live in
    # it (a template's or plan's placeholder subscription, most often).
    implied: bool = False
    # The condition, as the template writes it, under which a template deploys the resource when
    # the reader could not decide it (its own, a parent's or a nested deployment's): the scan
    # assesses it as if deployed and reports mark it "conditional". None: deployed outright.
    conditional: str | None = None

    @property
    def key(self) -> str:
        """The id compared without case, as Azure compares resource ids."""
        return self.id.lower()

    @property
    def undescribed_subscription(self) -> bool:
        """An implied subscription whose own facts the input could not show: none is assessed.

        Its Defender pricings and policy assignments are both unseen (``None``), so every
        subscription-level check could only say "unknown" about what the input never set out to
        describe (an ARM template or Terraform plan of workload resources): the engine leaves it
        out. An input that declares either kind of fact, or holds the subscription's record, or
        a live read (which always sees both), gets its subscription assessed.
        """
        return self.implied and self.security_pricings is None and self.policy_assignments is None

    @property
    def parent_id(self) -> str | None:
        """The parent's id: ``…/accounts/a/deployments/d`` → ``…/accounts/a``."""
        marker = self.id.lower().rfind("/providers/")
        if marker < 0:
            return None
        segments = self.id[marker + len("/providers/") :].split("/")
        # namespace/type/name is a top-level resource; each further type/name pair is a child.
        if len(segments) < 5:
            return None
        return self.id[: marker + len("/providers/")] + "/".join(segments[:-2])


# Sources that build many resources pass these first fields by position, several times faster
# than by keyword for this dataclass: their order is part of Resource's contract (a test holds
# the two together).
POSITIONAL_FIELDS: Final = (
    "id",
    "type",
    "name",
    "subscription_id",
    "resource_group",
    "location",
    "kind",
    "sku",
    "tags",
    "identity",
    "properties",
)


class Estate:
    """The resources of one scan, indexed by type and by id."""

    __slots__ = ("_by_id", "_by_type", "memo", "resources")

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self.resources: list[Resource] = []
        # Scratch space for evaluators that derive one fact for many resources (a content-filter
        # policy shared by every deployment of an account): computed once per scan.
        self.memo: dict[Any, Any] = {}
        self._by_id: dict[str, Resource] = {}
        self._by_type: dict[str, list[Resource]] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: Resource) -> None:
        """Add a resource; a second resource with the same id replaces nothing and is ignored."""
        key = resource.key
        if key in self._by_id:
            return
        self._by_id[key] = resource
        self.resources.append(resource)
        self._by_type.setdefault(resource.type, []).append(resource)

    def __len__(self) -> int:
        return len(self.resources)

    @property
    def scanned(self) -> int:
        """The resources the input holds: a subscription it only implies is not one of them."""
        return sum(1 for resource in self.resources if not resource.implied)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def get(self, resource_id: str) -> Resource | None:
        return self._by_id.get(resource_id.lower())

    def of_type(self, resource_type: str) -> list[Resource]:
        return self._by_type.get(resource_type, [])

    @property
    def types(self) -> list[str]:
        return list(self._by_type)

    def parent(self, resource: Resource) -> Resource | None:
        parent_id = resource.parent_id
        return self.get(parent_id) if parent_id else None

    def subscription(self, resource: Resource) -> Resource | None:
        if resource.subscription_id is None:
            return None
        return self.get(f"/subscriptions/{resource.subscription_id}")
