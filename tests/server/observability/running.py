"""A real `tutela serve` for the observability tests, on a data dir seeded with one tenant."""

from __future__ import annotations

from collections.abc import Callable

from tests.platform import Platform, TenantCtx
from tutela.server.config import Settings


def seeded_tenant(settings_factory: Callable[..., Settings]) -> tuple[Settings, TenantCtx]:
    """A SQLite data dir holding one tenant, its owner's key and the platform key file."""
    settings = settings_factory()
    with Platform(settings) as platform:
        tenant = platform.tenant()
    return settings, tenant


def serve_environment(settings: Settings, **extra: str) -> dict[str, str]:
    return {"TUTELA_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1", **extra}
