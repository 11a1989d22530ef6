"""Which controls a (check, resource) pair counts for, how strongly, and what that weighs.

A pair's controls depend on its check and on its resource's *mapping class*: the resource's type;
for a type whose kinds a framework reaches only by analogy (Azure AI Foundry hubs are Azure ML
workspaces, outside SR 26-2's scope), its kind too; and for a general-purpose type (storage
accounts, key vaults, registries, clusters, subscription-wide settings), whether the resource
belongs to an AI workload, which decides whether it counts for the AI frameworks
(``ai_scoped``). Every resource of one class maps alike, so the engine evaluates, counts and
writes its results per (check, class). See catalog/README.md, Scores and AI scope.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.checks import Strength, finding_control_id
from tutela.scanner.estate import Resource

# What a pair weighs for a framework, times its severity's weight (catalog/README.md, Scores).
STRENGTH_FACTOR: Mapping[str, float] = {"direct": 1.0, "supporting": 0.5, "by analogy": 0.5}


class MappedControl(NamedTuple):
    """A control a check evidences, as findings show it (a tuple: cheap to hash and compare)."""

    framework: str
    control_id: str  # as findings show it, e.g. ISO42001-A.6.2.6
    title: str
    strength: Strength  # as the catalogue grades the mapping


# A control a pair counts for, and the finding's ``mapping``: the catalogue's strength, or
# "by analogy" where the framework reaches the resource only by analogy.
Counted = tuple[MappedControl, Strength]


class ResourceScope(Protocol):
    """Which general-purpose resources belong to an AI workload (``tutela.scanner.ai_scope``)."""

    def is_general_purpose(self, resource_type: str) -> bool: ...

    def reason(self, resource: Resource) -> str | None: ...


class MappingClass(NamedTuple):
    """The class of a resource whose type has more than one (a plain type is its own class)."""

    type: str
    kind: str | None  # lower-cased, for a type some framework reaches by analogy per kind
    in_ai_workload: bool | None  # for a general-purpose type; None for any other


@dataclass(frozen=True, slots=True)
class AnalogyScope:
    """The resources a framework reaches only by analogy (catalog/README.md, Controls)."""

    types: tuple[str, ...] = ()  # lower-cased ARM types, ``*`` wildcards
    kinds: Mapping[str, frozenset[str]] = field(default_factory=dict)  # type → lower-cased kinds

    def covers(self, resource_type: str, kind: str | None) -> bool:
        if any(fnmatch.fnmatchcase(resource_type, pattern) for pattern in self.types):
            return True
        kinds = self.kinds.get(resource_type)
        return kinds is not None and kind is not None and kind in kinds


class ControlMap:
    """The scanned frameworks' controls per check, and what each (check, class) counts for."""

    def __init__(self, catalog: Catalog, frameworks: Sequence[str], scope: ResourceScope) -> None:
        self.frameworks = tuple(frameworks)
        self.scope = scope
        self.controls = control_map(catalog, frameworks)  # check id → its controls
        self.analogy = _analogy(catalog, frameworks)
        self.ai_scoped = frozenset(
            f for f in frameworks if (c := catalog.controls_of(f)) is not None and c.ai_scoped
        )
        # Types whose kinds can decide the analogy: their resources are told apart by kind too.
        self._kinded = {t for analogy in self.analogy.values() for t in analogy.kinds}
        self._classed: dict[str, tuple[bool, bool]] = {}  # type → (kinded, general-purpose)
        self._counted: dict[tuple[str, Hashable], tuple[Counted, ...]] = {}

    def _split(self, resource_type: str) -> tuple[bool, bool]:
        split = self._classed.get(resource_type)
        if split is None:
            split = self._classed[resource_type] = (
                resource_type in self._kinded,
                self.scope.is_general_purpose(resource_type),
            )
        return split

    def class_of(self, resource: Resource) -> Hashable:
        """The resource's mapping class: its type, or a ``MappingClass`` where the type has more."""
        kinded, general = self._split(resource.type)
        if not (kinded or general):
            return resource.type
        kind = resource.kind
        return MappingClass(
            resource.type,
            kind.lower() if kinded and isinstance(kind, str) else None,
            self.scope.reason(resource) is not None if general else None,
        )

    def groups(
        self, resource_type: str, resources: list[Resource]
    ) -> list[tuple[Hashable, list[Resource]]]:
        """The resources of one type by class, each class's in the order given."""
        if not any(self._split(resource_type)):
            return [(resource_type, resources)]
        by_class: dict[Hashable, list[Resource]] = {}
        class_of = self.class_of
        for resource in resources:
            by_class.setdefault(class_of(resource), []).append(resource)
        return list(by_class.items())

    def counted(self, check_id: str, mapping_class: Hashable) -> tuple[Counted, ...]:
        """The controls a pair of this check and class counts for, in framework order.

        None of an AI framework's for a general-purpose resource outside any AI workload.
        """
        key = (check_id, mapping_class)
        found = self._counted.get(key)
        if found is None:
            found = self._counted[key] = tuple(self._counting(check_id, mapping_class))
        return found

    def counts(self, check_id: str, mapping_class: Hashable) -> bool:
        """Whether the pairs of this check and class count for any scanned framework."""
        return bool(self.counted(check_id, mapping_class))

    def _counting(self, check_id: str, mapping_class: Hashable) -> Iterable[Counted]:
        if isinstance(mapping_class, MappingClass):
            resource_type, kind, in_workload = mapping_class
        else:
            resource_type, kind, in_workload = str(mapping_class), None, None
        for control in self.controls.get(check_id, ()):
            if in_workload is False and control.framework in self.ai_scoped:
                continue
            analogy = self.analogy.get(control.framework)
            if analogy is not None and analogy.covers(resource_type, kind):
                yield control, "by analogy"
            else:
                yield control, control.strength

    def ai_workload(self, resource: Resource, mapping_class: Hashable) -> str | None:
        """Why a general-purpose resource belongs to an AI workload; None for any other."""
        if isinstance(mapping_class, MappingClass) and mapping_class.in_ai_workload:
            return self.scope.reason(resource)
        return None


def strongest(counted: Iterable[Counted]) -> dict[str, float]:
    """framework → the factor of its strongest mapping among ``counted``."""
    best: dict[str, float] = {}
    for control, strength in counted:
        factor = STRENGTH_FACTOR[strength]
        if factor > best.get(control.framework, 0.0):
            best[control.framework] = factor
    return best


def control_map(catalog: Catalog, frameworks: Sequence[str]) -> dict[str, list[MappedControl]]:
    """check id → the controls it evidences in the given frameworks, in framework order."""
    mapping: dict[str, list[MappedControl]] = {}
    for framework in frameworks:
        controls = catalog.controls_of(framework)
        if controls is None:
            continue
        for control in controls.controls:
            shown = finding_control_id(controls.control_prefix, control.id)
            for mapped in control.mappings:
                for check_id in mapped.checks:
                    mapping.setdefault(check_id, []).append(
                        MappedControl(framework, shown, control.title, mapped.strength)
                    )
    return mapping


def _analogy(catalog: Catalog, frameworks: Sequence[str]) -> dict[str, AnalogyScope]:
    found = {}
    for framework in frameworks:
        controls = catalog.controls_of(framework)
        if controls is not None and (
            controls.analogy_resource_types or controls.analogy_resource_kinds
        ):
            found[framework] = AnalogyScope(
                controls.analogy_resource_types,
                {
                    resource_type: frozenset(kind.lower() for kind in kinds)
                    for resource_type, kinds in controls.analogy_resource_kinds.items()
                },
            )
    return found
