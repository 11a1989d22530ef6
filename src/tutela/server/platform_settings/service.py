"""Use cases of the platform settings: what is in force, and an operator's change to it.

What is in force is the stored settings laid over their defaults (the environment's, the
catalogue's), turned into what the rest of the platform already reads: a ``Settings`` with the
rate limits, the sender and, with narratives off, no model; a ``Catalog`` whose plans carry the
quota overrides. So every reader of ``runtime.settings`` and ``runtime.catalog`` applies them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tutela.scanner.catalog import Catalog
from tutela.server.audit import service as audit
from tutela.server.config import Settings
from tutela.server.errors import InvalidInput
from tutela.server.narration import llm_endpoint
from tutela.server.platform_settings.models import PlatformSetting
from tutela.server.platform_settings.repository import PlatformSettingRepository
from tutela.server.platform_settings.schemas import RuntimeSettings, SettingsChange

log = logging.getLogger("tutela.platform_settings")

CHANGED = "platform_settings.changed"
# Clearing these makes every narrator path (scans, board packs) give the deterministic text.
_MODEL_FIELDS = ("llm_azure_endpoint", "llm_deployment", "llm_base_url", "llm_model", "llm_api_key")


@dataclass(frozen=True)
class Stored:
    value: Any
    updated_at: dt.datetime
    updated_by: str


@dataclass(frozen=True)
class InForce:
    """One consistent view: the values, their defaults, what was stored, and their effect."""

    values: RuntimeSettings
    defaults: RuntimeSettings
    stored: Mapping[str, Stored]
    settings: Settings
    catalog: Catalog


def defaults(startup: Settings, catalog: Catalog) -> RuntimeSettings:
    """What a fresh install runs with: the environment's settings and the catalogue's quotas."""
    return RuntimeSettings(
        default_plan=catalog.plan_ids[0],  # the smallest plan
        plan_quotas={plan.id: plan.scan_quota for plan in catalog.plans},
        rate_limit=startup.rate_limit,
        tenant_rate_limit=startup.tenant_rate_limit,
        narratives_enabled=llm_endpoint(startup) is not None,
        email_from=startup.email_from,
    )


def resolve(rows: Iterable[PlatformSetting], startup: Settings, catalog: Catalog) -> InForce:
    """The settings in force from the stored rows; a row no longer valid is ignored (logged)."""
    base = defaults(startup, catalog)
    values = base.model_dump()
    stored: dict[str, Stored] = {}
    for row in rows:
        try:
            value = _checked(row.name, row.value, startup, catalog)
        except (ValidationError, InvalidInput, KeyError):
            log.warning("platform_setting_ignored name=%s reason=invalid", row.name[:64])
            continue
        values[row.name] = _in_force(row.name, value, base)
        stored[row.name] = Stored(value, row.updated_at, row.updated_by)
    in_force = RuntimeSettings.model_validate(values)
    return InForce(
        values=in_force,
        defaults=base,
        stored=stored,
        settings=_applied_settings(startup, in_force),
        catalog=_applied_catalog(catalog, in_force),
    )


def read(session: Session, startup: Settings, catalog: Catalog) -> InForce:
    return resolve(PlatformSettingRepository(session).all(), startup, catalog)


def change(
    session: Session, startup: Settings, catalog: Catalog, *, actor: str, body: SettingsChange
) -> InForce:
    """Store the settings given (null: back to the default), audited with old and new values."""
    given = body.model_dump(include=body.model_fields_set)
    if not given:
        raise InvalidInput(("body",), "Name at least one setting to change")
    before = read(session, startup, catalog)
    repository = PlatformSettingRepository(session)
    for name, value in given.items():
        if value is None:
            repository.forget(name)
        else:
            repository.store(name, _checked(name, value, startup, catalog), actor=actor)
    after = read(session, startup, catalog)
    changes = {
        name: {"old": getattr(before.values, name), "new": getattr(after.values, name)}
        for name in given
        if getattr(before.values, name) != getattr(after.values, name)
        or (name in before.stored) != (name in after.stored)
    }
    if changes:
        audit.record(
            session, actor=actor, action=CHANGED, tenant_id=None, target="platform", details=changes
        )
    return after


def _checked(name: str, value: Any, startup: Settings, catalog: Catalog) -> Any:
    """``value`` validated as setting ``name``; the checks needing the catalogue or the
    environment raise InvalidInput naming the field, like the body's own 422s."""
    parsed = getattr(SettingsChange.model_validate({name: value}), name)
    if name == "default_plan" and parsed not in catalog.plan_ids:
        raise InvalidInput(("body", name), f"Unknown plan; one of: {', '.join(catalog.plan_ids)}")
    if name == "plan_quotas":
        unknown = sorted(set(parsed) - set(catalog.plan_ids))
        if unknown:
            raise InvalidInput(
                ("body", name),
                f"Unknown plan {unknown[0]!r}; one of: {', '.join(catalog.plan_ids)}",
            )
    if name == "narratives_enabled" and parsed and llm_endpoint(startup) is None:
        raise InvalidInput(
            ("body", name),
            "No model is configured: set TUTELA_LLM_AZURE_ENDPOINT and TUTELA_LLM_DEPLOYMENT, "
            "or TUTELA_LLM_BASE_URL, TUTELA_LLM_MODEL and TUTELA_LLM_API_KEY, then restart",
        )
    return parsed


def _in_force(name: str, value: Any, base: RuntimeSettings) -> Any:
    if name == "plan_quotas":  # overrides laid over the catalogue's quotas
        return {**base.plan_quotas, **value}
    return value


def _applied_settings(startup: Settings, values: RuntimeSettings) -> Settings:
    update: dict[str, Any] = {
        "rate_limit": values.rate_limit,
        "tenant_rate_limit": values.tenant_rate_limit,
        "email_from": values.email_from,
    }
    if not values.narratives_enabled:
        update.update(dict.fromkeys(_MODEL_FIELDS))
    return startup.model_copy(update=update)


def _applied_catalog(catalog: Catalog, values: RuntimeSettings) -> Catalog:
    if all(plan.scan_quota == values.plan_quotas[plan.id] for plan in catalog.plans):
        return catalog
    plans = tuple(
        plan.model_copy(update={"scan_quota": values.plan_quotas[plan.id]})
        for plan in catalog.plans
    )
    return catalog.model_copy(update={"plans": plans})
