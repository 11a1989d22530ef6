"""An analytics platform per test on each backend: platform-wide counts see every tenant, so
on PostgreSQL each test has a database of its own (the shared one holds other tests' tenants)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.platform import Platform, auth


@pytest.fixture(params=["sqlite", "postgres"])
def alone(request: pytest.FixtureRequest, settings_factory) -> Iterator[Platform]:  # type: ignore[no-untyped-def]
    """The API on each supported store, with no other test's data in it."""
    if request.param == "postgres":
        settings = settings_factory(database_url=request.getfixturevalue("own_postgres_url"))
    else:
        settings = settings_factory()
    with Platform(settings) as running:
        yield running


@pytest.fixture
def operator(alone: Platform) -> dict[str, str]:
    return auth(alone.operator_key())
