"""HTTP for the catalogue: /frameworks and /plans, served from the shipped data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.runtime import RuntimeDep
from tutela.server.schemas import OutputModel

router = APIRouter(tags=["catalog"])

AnyKey = Annotated[Caller, Depends(Authorize())]


class FrameworkOut(OutputModel):
    id: str
    name: str
    description: str
    category: str
    plans: list[str]
    publisher: str
    version: str
    published: dt.date


class PlanFeaturesOut(OutputModel):
    drift_alerts: bool
    cmk: bool
    iac_export: bool
    scorecard: bool


class PlanOut(OutputModel):
    id: str
    name: str
    scan_quota: int | None
    max_subscriptions: int | None
    max_resources_per_scan: int = Field(
        description="Resources one scan may cover: an IaC body, the subscriptions' snapshots "
        "or live estate together, or one snapshot upload; over it the request is a 413."
    )
    frameworks: list[str]
    history_days: int
    governance_cadence: str
    narratives_default: bool
    features: PlanFeaturesOut


@router.get("/frameworks", summary="The 7 compliance frameworks and which plans may scan them")
def list_frameworks(runtime: RuntimeDep, caller: AnyKey) -> list[FrameworkOut]:
    catalog = runtime.catalog
    return [
        FrameworkOut(
            **framework.model_dump(exclude={"id"}),
            id=framework.id,
            plans=catalog.plans_with_framework(framework.id),
        )
        for framework in catalog.frameworks
    ]


@router.get("/plans", summary="Subscription tiers: quotas, frameworks, history, features")
def list_plans(runtime: RuntimeDep, caller: AnyKey) -> list[PlanOut]:
    return [PlanOut.model_validate(plan.model_dump()) for plan in runtime.catalog.plans]
