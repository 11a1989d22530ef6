"""The SDK's encryption calls, sync and async, against the app behind uvicorn with a Key Vault
answered by the fake vault (the real Azure clients on the server side)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.platform import Platform, TenantCtx
from tests.server.encryption.fake_vault import VAULT_URL, FakeVault
from tests.server.encryption.helpers import (
    mails_to,
    owner_email,
    with_encryption_routes,
    with_principal,
)
from tests.server.scans.test_quota import serving
from tutela import AsyncSession, Session
from tutela.sdk import (
    BadRequestError,
    CmkEnabled,
    ConflictError,
    EncryptionStatus,
    EncryptionStatusExtended,
    KeyRotation,
    PermissionDeniedError,
    PmkSwitchConfirmed,
    PmkSwitchRequested,
    ServerError,
)


@pytest.fixture
def vault(platform: Platform) -> FakeVault:
    with_encryption_routes(platform)
    fake = FakeVault()
    fake.add_secret("tutela-key")
    fake.add_key("tutela-kek")
    platform.runtime.azure_transport = fake
    return fake


@pytest.fixture
def base_url(platform: Platform, vault: FakeVault) -> Iterator[str]:
    with serving(platform.app) as url:
        yield url


def mailed_token(platform: Platform, tenant: TenantCtx) -> str:
    _, text = mails_to(platform, owner_email(platform, tenant))[-1]
    [link] = re.findall(r"https?://\S+", text)
    return parse_qs(urlsplit(link).query)["token"][0]


def test_the_whole_lifecycle_sync(platform: Platform, vault: FakeVault, base_url: str) -> None:
    tenant = with_principal(platform)
    with Session(base_url, tenant.owner_key, retries=0) as session:
        before = session.encryption.status()
        assert isinstance(before, EncryptionStatus)
        assert (before.cmk_supported, before.cmk_configured) == (True, False)

        enabled = session.encryption.enable_cmk(VAULT_URL, key_name="tutela-kek")
        assert isinstance(enabled, CmkEnabled)
        assert enabled.key_version == vault.keys["tutela-kek"][-1].version

        new = vault.rotate_key("tutela-kek")
        rotation = session.encryption.rotate()
        assert isinstance(rotation, KeyRotation)
        assert (rotation.rotated, rotation.old_version, rotation.new_version) == (
            True,
            enabled.key_version,
            new,
        )

        extended = session.encryption.extended_status()
        assert isinstance(extended, EncryptionStatusExtended)
        assert extended.encryption_mode == "cmk"
        assert [e.reason for e in extended.encryption_mode_history] == [
            "cmk_rotate",
            "cmk_configure",
        ]

        requested = session.encryption.switch_to_pmk()
        assert isinstance(requested, PmkSwitchRequested)
        assert requested.email_sent is True
        with pytest.raises(PermissionDeniedError) as wrong:
            session.encryption.confirm_pmk("not-the-token")
        assert wrong.value.status_code == 403
        token = mailed_token(platform, tenant)
        confirmed = session.encryption.confirm_pmk(token)
        assert isinstance(confirmed, PmkSwitchConfirmed)
        assert (confirmed.mode, confirmed.cmk_was_accessible, confirmed.warning) == (
            "pmk",
            True,
            None,
        )
        with pytest.raises(BadRequestError) as reused:
            session.encryption.confirm_pmk(token)
        assert reused.value.status_code == 400
        assert token not in str(reused.value)
        assert session.encryption.extended_status().encryption_mode == "pmk"


def test_failures_raise_their_classes(platform: Platform, vault: FakeVault, base_url: str) -> None:
    starter = platform.tenant("starter")
    with Session(base_url, starter.owner_key, retries=0) as session:
        assert session.encryption.status().upgrade_required is True
        with pytest.raises(PermissionDeniedError, match="'professional'"):
            session.encryption.enable_cmk(VAULT_URL, secret_name="tutela-key")

    no_principal = platform.tenant("professional")
    with Session(base_url, no_principal.owner_key, retries=0) as session:
        with pytest.raises(ConflictError):
            session.encryption.enable_cmk(VAULT_URL, secret_name="tutela-key")
        with pytest.raises(ValueError, match="exactly one"):
            session.encryption.enable_cmk(VAULT_URL, secret_name="a", key_name="b")

    tenant = with_principal(platform)
    with Session(base_url, tenant.owner_key, retries=0) as session:
        with pytest.raises(BadRequestError, match="CMK connectivity test failed: Secret 'gone'"):
            session.encryption.enable_cmk(VAULT_URL, secret_name="gone")
        session.encryption.enable_cmk(VAULT_URL, secret_name="tutela-key")
        vault.unreachable = True
        with pytest.raises(ServerError) as unavailable:
            session.encryption.rotate()
        assert unavailable.value.status_code == 503
        assert session.encryption.status().cmk_blocked is True


def test_the_async_session(platform: Platform, vault: FakeVault, base_url: str) -> None:
    tenant = with_principal(platform)

    async def lifecycle() -> PmkSwitchConfirmed:
        async with AsyncSession(base_url, tenant.owner_key, retries=0) as session:
            assert (await session.encryption.status()).cmk_configured is False
            await session.encryption.enable_cmk(VAULT_URL, secret_name="tutela-key")
            assert (await session.encryption.rotate()).rotated is False
            history = (await session.encryption.extended_status()).encryption_mode_history
            assert [e.reason for e in history] == ["cmk_configure"]
            assert (await session.encryption.switch_to_pmk()).pending is True
            return await session.encryption.confirm_pmk(mailed_token(platform, tenant))

    confirmed = asyncio.run(lifecycle())
    assert confirmed.mode == "pmk"
