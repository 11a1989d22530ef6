"""Load and validate the catalogue's YAML files; a broken file fails loudly at start-up."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

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
    frameworks: tuple[str, ...]
    history_days: int
    governance_cadence: Cadence
    narratives_default: bool
    features: PlanFeatures


class Catalog(_Data):
    frameworks: tuple[Framework, ...]
    plans: tuple[Plan, ...]

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


def _read(name: str) -> Any:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def load_catalog() -> Catalog:
    """The shipped catalogue, validated once per process."""
    try:
        return Catalog.model_validate(
            {
                "frameworks": _read("frameworks.yaml")["frameworks"],
                "plans": _read("plans.yaml")["plans"],
            }
        )
    except (ValidationError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise CatalogError(f"catalogue data is invalid: {exc}") from exc
