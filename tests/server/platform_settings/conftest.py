"""Platforms whose platform settings go back to their defaults when the test ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from tests.platform import Platform
from tests.server.platform_settings.helpers import retire_operator_key
from tutela.server.audit.models import AuditEvent
from tutela.server.platform_settings.models import PlatformSetting
from tutela.server.platform_settings.service import CHANGED


def forget_settings(platform: Platform) -> None:
    # The session's PostgreSQL database is shared by the tests that follow: leave no setting
    # (nor its audit entries, which each test counts).
    with platform.db() as session:
        session.execute(delete(PlatformSetting))
        session.execute(delete(AuditEvent).where(AuditEvent.action == CHANGED))


@pytest.fixture
def operated(any_platform: Platform) -> Iterator[Platform]:
    """``any_platform`` (SQLite, then PostgreSQL), no platform setting stored before or after."""
    forget_settings(any_platform)
    any_platform.runtime.live.invalidate()
    try:
        yield any_platform
    finally:
        forget_settings(any_platform)
        retire_operator_key(any_platform)
