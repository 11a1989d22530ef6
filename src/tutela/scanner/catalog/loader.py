"""Load and validate the catalogue's YAML files; a broken file fails loudly at start-up."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tutela.scanner.catalog import shipped
from tutela.scanner.catalog.checks import CheckSpec, ControlSpec, FrameworkControls

Cadence = Literal["manual", "biweekly", "daily"]


class CatalogError(ValueError):
    """The shipped catalogue data is inconsistent or malformed."""


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Framework(_Data):
    id: str
    name: str
    description: str
    category: str
    publisher: str
    version: str
    published: dt.date


class PlanFeatures(_Data):
    drift_alerts: bool
    cmk: bool
    iac_export: bool
    scorecard: bool


class Plan(_Data):
    id: str
    name: str
    scan_quota: int | None
    max_subscriptions: int | None
    # Resources one scan may cover (IaC body, snapshots, live estate): what bounds a scan's
    # memory and report size, so every plan has one (no null).
    max_resources_per_scan: int = Field(gt=0)
    frameworks: tuple[str, ...]
    history_days: int
    governance_cadence: Cadence
    narratives_default: bool
    features: PlanFeatures


class Catalog(_Data):
    frameworks: tuple[Framework, ...]
    plans: tuple[Plan, ...]
    checks: tuple[CheckSpec, ...] = ()
    controls: tuple[FrameworkControls, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        framework_ids = [f.id for f in self.frameworks]
        if len(set(framework_ids)) != len(framework_ids):
            raise ValueError("duplicate framework id")
        if len({p.id for p in self.plans}) != len(self.plans):
            raise ValueError("duplicate plan id")
        for plan in self.plans:
            unknown = set(plan.frameworks) - set(framework_ids)
            if unknown:
                raise ValueError(f"plan {plan.id!r} names unknown frameworks {sorted(unknown)}")
        check_ids = [c.id for c in self.checks]
        duplicates = sorted({c for c in check_ids if check_ids.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate check ids {duplicates}")
        known_checks = set(check_ids)
        for controls in self.controls:
            if controls.framework not in framework_ids:
                raise ValueError(f"controls for unknown framework {controls.framework!r}")
            for control in controls.controls:
                missing = set(control.check_ids) - known_checks
                if missing:
                    raise ValueError(
                        f"{controls.framework} control {control.id!r} maps unknown checks "
                        f"{sorted(missing)}"
                    )
        return self

    def plan(self, plan_id: str) -> Plan:
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise KeyError(plan_id)

    @property
    def plan_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.plans)

    def plan_rank(self, plan_id: str) -> int:
        """Position of a plan from the smallest (0) upwards, for "at least this plan" gates."""
        return self.plan_ids.index(plan_id)

    def plans_with_framework(self, framework_id: str) -> list[str]:
        return [p.id for p in self.plans if framework_id in p.frameworks]

    @property
    def framework_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.frameworks)

    def framework(self, framework_id: str) -> Framework:
        for framework in self.frameworks:
            if framework.id == framework_id:
                return framework
        raise KeyError(framework_id)

    def check(self, check_id: str) -> CheckSpec:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def controls_of(self, framework_id: str) -> FrameworkControls | None:
        for controls in self.controls:
            if controls.framework == framework_id:
                return controls
        return None

    def controls_for_check(self, check_id: str) -> list[tuple[str, ControlSpec, bool]]:
        """(framework id, control, by analogy) for every control the check evidences."""
        found = []
        for controls in self.controls:
            for control in controls.controls:
                if check_id in control.checks:
                    found.append((controls.framework, control, False))
                elif check_id in control.analogy_checks:
                    found.append((controls.framework, control, True))
        return found


def _read(name: str) -> Any:
    return shipped.read_document(name)


def _read_folder(folder: str, key: str) -> list[Any]:
    """The ``key`` lists of every YAML file in a catalogue folder, in file-name order."""
    items: list[Any] = []
    for name in _names_in(folder):
        data = shipped.read_document(name)
        if key not in data:
            raise CatalogError(f"catalogue file {name} has no {key!r} list")
        items.extend(data[key] if isinstance(data[key], list) else [data[key]])
    return items


def _read_controls() -> list[Any]:
    return [shipped.read_document(name) for name in _names_in("controls")]


def _names_in(folder: str) -> list[str]:
    """The shipped YAML files directly in a catalogue folder, in file-name order."""
    return [name for name in shipped.yaml_names() if name.rpartition("/")[0] == folder]


@cache
def load_catalog() -> Catalog:
    """The shipped catalogue, validated once per process."""
    try:
        return Catalog.model_validate(
            {
                "frameworks": _read("frameworks.yaml")["frameworks"],
                "plans": _read("plans.yaml")["plans"],
                "checks": _read_folder("checks", "checks"),
                "controls": _read_controls(),
            }
        )
    except (ValidationError, KeyError, TypeError, shipped.UnreadableCatalogFile) as exc:
        raise CatalogError(f"catalogue data is invalid: {exc}") from exc
