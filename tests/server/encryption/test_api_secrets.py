"""No secret value, client secret or one-time token in any response, log line or email (beyond
the confirmation link's own token); a confirmation that cannot be mailed changes nothing."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.platform import Platform
from tests.server.encryption.fake_vault import CLIENT_SECRET, FakeVault
from tests.server.encryption.helpers import (
    cmk_tenant,
    enable,
    mails_to,
    owner_email,
    status,
    with_encryption_routes,
    with_principal,
)


def test_a_whole_lifecycle_leaks_nothing(
    platform: Platform, vault: FakeVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    tenant = with_principal(platform)
    headers = tenant.headers

    vault.unreachable = True
    answers.append(enable(platform, tenant).text)
    vault.restore()
    answers.append(enable(platform, tenant).text)
    vault.rotate_secret("tutela-key")
    answers.append(platform.client.post("/tenant/encryption/rotate", headers=headers).text)
    vault.deny()
    answers.append(platform.client.post("/tenant/encryption/rotate", headers=headers).text)
    answers.append(platform.client.post("/tenant/encryption/pmk", headers=headers).text)
    answers.append(platform.client.post("/tenant/encryption/pmk", headers=headers).text)
    mails = mails_to(platform, owner_email(platform, tenant))
    tokens = [
        parse_qs(urlsplit(line).query)["token"][0]
        for _, text in mails
        for line in text.split()
        if "confirm-pmk?token=" in line
    ]
    assert len(tokens) == 2
    for token in tokens:
        answers.append(
            platform.client.post(
                "/tenant/encryption/confirm-pmk", params={"token": token}, headers=headers
            ).text
        )
    answers.append(platform.client.get("/tenant/encryption/status", headers=headers).text)
    assert status(platform, tenant)["plan"] == "professional"

    secrets = [CLIENT_SECRET, *tokens]
    secrets += [v.value for v in vault.secrets["tutela-key"] if v.value]
    # The server's log lines: not the test client's own (httpx logs the URLs it requests).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "confirm-pmk" in logged  # the request log saw the confirmations
    for secret in secrets:
        assert secret not in logged
        assert all(secret not in answer for answer in answers)
    for _, text in mails_to(platform, owner_email(platform, tenant)):
        assert CLIENT_SECRET not in text
        assert all(v.value not in text for v in vault.secrets["tutela-key"] if v.value)
        assert sum(text.count(token) for token in tokens) <= 1  # a link's own token only


def test_a_confirmation_that_cannot_be_mailed_changes_nothing(
    settings_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the outbox folder should be")
    with Platform(settings_factory(outbox_dir=blocked)) as platform:
        with_encryption_routes(platform)
        vault = FakeVault()
        vault.add_secret("tutela-key")
        platform.runtime.azure_transport = vault
        tenant = cmk_tenant(platform)  # its confirmation email is lost (logged), CMK is on

        response = platform.client.post("/tenant/encryption/pmk", headers=tenant.headers)

        assert response.status_code == 503
        assert "could not be sent" in response.json()["detail"]
        assert status(platform, tenant)["cmk_downgrade_pending"] is False
