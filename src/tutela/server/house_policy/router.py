"""HTTP for the tenant's house policy: GET/PUT /tenant/house-policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.house_policy import service
from tutela.server.house_policy.schemas import HOUSE_POLICY, HousePolicyOut, HousePolicyUpdate
from tutela.server.runtime import SessionDep

router = APIRouter(prefix="/tenant/house-policy", tags=["tenant"])

TenantReader = Annotated[Caller, Depends(Authorize(Scope.TENANT_READ))]
TenantWriter = Annotated[Caller, Depends(Authorize(Scope.TENANT_WRITE))]

_APPLIES = (
    "Scans of your tenant (POST /scan, /scan/dry-run, /scan/iac, and governance scans) apply "
    "these settings to the model-inventory checks; findings show the review period applied. "
    + HOUSE_POLICY
)


@router.get(
    "",
    summary="Your house policy: model review periods and risk tiers (defaults until set)",
    description=_APPLIES,
)
def get_house_policy(session: SessionDep, caller: TenantReader) -> HousePolicyOut:
    return HousePolicyOut.model_validate(service.view(session, caller).as_dict())


@router.put(
    "",
    summary="Change house-policy settings; those left out keep their value (audit-logged)",
    description=_APPLIES,
)
def put_house_policy(
    body: HousePolicyUpdate, session: SessionDep, caller: TenantWriter
) -> HousePolicyOut:
    changes = body.model_dump(exclude_none=True)
    return HousePolicyOut.model_validate(service.update(session, caller, changes).as_dict())
