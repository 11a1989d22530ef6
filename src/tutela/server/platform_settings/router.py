"""HTTP for the platform settings, in the admin API: GET and PATCH /admin/settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.db import after_commit
from tutela.server.platform_settings import service
from tutela.server.platform_settings.schemas import (
    SETTING_NAMES,
    PlatformSettingsOut,
    RuntimeSettingsOut,
    SettingsChange,
)
from tutela.server.platform_settings.service import InForce
from tutela.server.platform_settings.startup import startup_view
from tutela.server.runtime import Runtime, RuntimeDep, SessionDep

router = APIRouter(tags=["settings"])

SettingsReader = Annotated[Caller, Depends(Authorize(Scope.ADMIN_READ))]
SettingsWriter = Annotated[Caller, Depends(Authorize(Scope.ADMIN_WRITE))]


def _out(runtime: Runtime, in_force: InForce) -> PlatformSettingsOut:
    states: dict[str, Any] = {}
    for name in SETTING_NAMES:
        stored = in_force.stored.get(name)
        states[name] = {
            "value": getattr(in_force.values, name),
            "default": getattr(in_force.defaults, name),
            "source": "database" if stored else "default",
            "updated_at": stored.updated_at if stored else None,
            "updated_by": stored.updated_by if stored else None,
        }
    return PlatformSettingsOut(
        runtime=RuntimeSettingsOut.model_validate(states),
        startup=startup_view(runtime.startup_settings),
    )


@router.get("/settings", summary="Platform settings: runtime (database) and start-up (environment)")
def get_settings(
    session: SessionDep, runtime: RuntimeDep, caller: SettingsReader
) -> PlatformSettingsOut:
    return _out(runtime, service.read(session, runtime.startup_settings, runtime.shipped_catalog))


@router.patch(
    "/settings",
    summary="Change runtime settings (null: back to the default); applies without a restart",
)
def change_settings(
    body: SettingsChange, session: SessionDep, runtime: RuntimeDep, caller: SettingsWriter
) -> PlatformSettingsOut:
    in_force = service.change(
        session, runtime.startup_settings, runtime.shipped_catalog, actor=caller.actor, body=body
    )
    after_commit(session, runtime.live.invalidate)  # this process at once, others within the bound
    return _out(runtime, in_force)
