"""Fixtures of the CMK API tests: the platform with the encryption routes, a fake Key Vault."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.platform import Platform
from tests.server.encryption.fake_vault import FakeVault
from tests.server.encryption.helpers import with_encryption_routes


@pytest.fixture
def platform(settings_factory) -> Iterator[Platform]:  # type: ignore[no-untyped-def]
    with Platform(settings_factory()) as running:
        yield with_encryption_routes(running)


@pytest.fixture
def vault(platform: Platform) -> FakeVault:
    """A Key Vault with a secret ``tutela-key`` and a key ``tutela-kek``, reached by the
    platform's Azure transport."""
    fake = FakeVault()
    fake.add_secret("tutela-key")
    fake.add_key("tutela-kek")
    platform.runtime.azure_transport = fake
    return fake
