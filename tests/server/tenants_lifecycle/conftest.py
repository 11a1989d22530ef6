"""Fixtures of the tenant lifecycle tests: the platform on each store, allowing a local SSO
provider, and the operator's headers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.platform import Platform, auth


@pytest.fixture(params=["sqlite", "postgres"])
def platform(request: pytest.FixtureRequest, settings_factory: Any) -> Iterator[Platform]:
    """The API on each store; a tenant may name the local OpenID provider as its SSO."""
    overrides: dict[str, object] = {"sso_allow_internal_providers": True}
    if request.param == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    with Platform(settings_factory(**overrides)) as running:
        yield running


@pytest.fixture
def operator(platform: Platform) -> dict[str, str]:
    return auth(platform.operator_key())
