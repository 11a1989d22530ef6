"""House-policy use cases: read the tenant's settings, change them, and the policy a scan applies.

A tenant that never set a policy has the defaults. A change is audit-logged with the settings
before and after, so an auditor can tell which review periods any report was made under.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.scanner.catalog.house_policy import (
    DEFAULT_POLICY,
    HousePolicy,
    apply_house_policy,
)
from tutela.server.audit import service as audit
from tutela.server.auth.caller import Caller
from tutela.server.errors import InvalidInput
from tutela.server.house_policy.repository import HousePolicyRepository
from tutela.server.tenants.service import caller_tenant


@dataclass(frozen=True)
class HousePolicyView:
    policy: HousePolicy
    updated_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            **_settings(self.policy),
            "customised": self.policy != DEFAULT_POLICY,
            "updated_at": self.updated_at,
            "defaults": _settings(DEFAULT_POLICY),
        }


def _settings(policy: HousePolicy) -> dict[str, Any]:
    return policy.model_dump(mode="json")


def policy_of(session: Session, tenant_id: str) -> HousePolicy:
    """The policy the tenant's scans apply: its own settings, or the defaults."""
    row = HousePolicyRepository(session, tenant_id).get()
    return DEFAULT_POLICY if row is None else HousePolicy.model_validate(row.settings)


def scan_catalog(session: Session, tenant_id: str, catalog: Catalog) -> Catalog:
    """The catalogue a scan of the tenant assesses with: the shipped one under its policy."""
    policy = policy_of(session, tenant_id)
    return catalog if policy == DEFAULT_POLICY else apply_house_policy(catalog, policy)


def view(session: Session, caller: Caller) -> HousePolicyView:
    tenant = caller_tenant(session, caller)
    row = HousePolicyRepository(session, tenant.id).get()
    if row is None:
        return HousePolicyView(DEFAULT_POLICY, None)
    return HousePolicyView(HousePolicy.model_validate(row.settings), row.updated_at)


def update(session: Session, caller: Caller, changes: dict[str, Any]) -> HousePolicyView:
    """PUT /tenant/house-policy: the settings given replace the current ones; 422 if invalid."""
    tenant = caller_tenant(session, caller)
    before = policy_of(session, tenant.id)
    try:
        after = HousePolicy.model_validate({**_settings(before), **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        # The setting, not a tier the caller named: never echoed (a list of tag names is named).
        nested = first["loc"][:1] == ("inventory_tag_keys",)
        field = first["loc"][:2] if nested else first["loc"][:1]
        raise InvalidInput(
            ("body", *field), str(first["msg"]).removeprefix("Value error, ")
        ) from None
    if after == before:
        return view(session, caller)
    row = HousePolicyRepository(session, tenant.id).save(_settings(after))
    audit.record(
        session,
        actor=caller.actor,
        action="house_policy.changed",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={"before": _settings(before), "after": _settings(after)},
    )
    return HousePolicyView(after, row.updated_at)
