"""The key health check in a real ``tutela worker --beat``, whose Azure SDK clients use their own
HTTP: they reach the FakeVault over HTTPS through ``VaultProxy``, as through a corporate proxy,
with nothing in the product told about it. Redis, PostgreSQL and SMTP are the real ones.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.platform import Platform, TenantCtx
from tests.server.encryption.fake_vault import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    VAULT_URL,
    FakeVault,
)
from tests.server.encryption.helpers import cmk_tenant, owner_email, status, with_encryption_routes
from tests.server.encryption.vault_server import VaultProxy
from tests.server.notify.loopback import Collector
from tests.server.notify.mail import parse
from tests.server.workers import TUTELA, environment, stop_groups
from tutela.server.config import Settings
from tutela.server.encryption.service import probe
from tutela.server.encryption.vault import KeyMaterial, VaultError
from tutela.server.jobs.celery_app import create_celery
from tutela.server.jobs.models import JobRun
from tutela.server.jobs.registry import KEY_HEALTH
from tutela.server.tenants.service import AzureCredentials

INTERVAL_HOURS = 1 / 3600  # beat sends the check every second
FIRST_RUN = "1 CMK tenant(s) checked: 1 failed (1 newly blocked), 0 rotation(s) detected"
STILL_BLOCKED = "1 CMK tenant(s) checked: 1 failed (0 newly blocked), 0 rotation(s) detected"
T = TypeVar("T")


@pytest.fixture
def vault() -> FakeVault:
    fake = FakeVault()
    fake.add_secret("tutela-key")
    fake.add_key("tutela-kek")
    return fake


@pytest.fixture
def proxy(vault: FakeVault, tmp_path: Path) -> Iterator[VaultProxy]:
    folder = tmp_path / "pki"
    folder.mkdir()
    with VaultProxy(vault, folder) as running:
        yield running


@contextlib.contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``tutela worker --beat`` in its own process group, stopped when the block ends."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [TUTELA, "worker", "--beat", "--concurrency", "1"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_groups([process])


def wait_for(condition: Callable[[], T | None], what: str, log: Path, timeout: float = 20) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker output:\n{log.read_text()[-4000:]}")


def job_run(platform: Platform) -> JobRun | None:
    with platform.db() as session:
        row = session.get(JobRun, KEY_HEALTH)
        if row is not None:
            session.expunge(row)
        return row


def finished(platform: Platform, detail: str) -> JobRun | None:
    """The check's record once a run has finished with ``detail``."""
    run = job_run(platform)
    return run if run is not None and run.last_detail == detail else None


def recovered(platform: Platform, tenant: TenantCtx, version: str) -> bool:
    """The new version recorded, the block cleared, and the run that did it finished ok."""
    seen = status(platform, tenant)
    run = job_run(platform)
    cleared = (seen["cmk_blocked"], seen["cmk_last_error"]) == (False, None)
    ok = run is not None and run.last_status == "ok"
    return seen["cmk_key_version"] == version and cleared and ok


def mails(collector: Collector, to: str, subject: str) -> list[str]:
    """The texts of the emails to ``to`` whose subject holds ``subject``."""
    messages = [parse(r.content) for r in collector.received if r.rcpt_tos == [to]]
    return [m.get_content() for m in messages if subject in str(m["Subject"])]


def test_the_sdk_s_own_http_reaches_the_fake_vault_through_the_proxy(
    vault: FakeVault, proxy: VaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = proxy.environment(os.environ)
    for name in set(os.environ) - set(environ):
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    credentials = AzureCredentials(TENANT_ID, CLIENT_ID, CLIENT_SECRET)
    secret_version, key_version = vault.rotate_secret("tutela-key"), vault.rotate_key("tutela-kek")

    secret = probe(KeyMaterial(VAULT_URL, "tutela-key", "secret"), credentials, None)
    key = probe(KeyMaterial(VAULT_URL, "tutela-kek", "key"), credentials, None)
    vault.unreachable = True
    refused = probe(KeyMaterial(VAULT_URL, "tutela-key", "secret"), credentials, None)

    assert (secret, key) == (secret_version, key_version)
    # The key was tried as the enabling does: a value wrapped, then unwrapped in the vault.
    [unwrap] = vault.sent(f"/keys/tutela-kek/{key_version}/unwrapkey")
    assert (unwrap.method, unwrap.headers["Content-Type"]) == ("POST", "application/json")
    assert isinstance(refused, VaultError)
    assert refused.kind == "unreachable"
    assert "502 Bad Gateway" in refused.detail
    assert {id(r) for r in vault.requests} == {id(r) for r in proxy.forwarded}
    assert set(proxy.tunnels) == {"login.microsoftonline.com:443", "kv-contoso.vault.azure.net:443"}


@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_s_check_blocks_a_denied_key_once_then_records_its_rotation(
    settings_factory: Callable[..., Settings],
    own_postgres_url: str,
    redis_url: str,
    smtp: tuple[Collector, int],
    vault: FakeVault,
    proxy: VaultProxy,
    tmp_path: Path,
) -> None:
    settings = settings_factory(
        database_url=own_postgres_url,
        redis_url=redis_url,
        job_backend="celery",
        job_queue=f"tutela-test-{uuid.uuid4().hex[:8]}",
        scheduler_interval_seconds=0,
        retention_interval_hours=0,
        key_health_interval_hours=INTERVAL_HOURS,
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_starttls=False,
        smtp_timeout_seconds=5,
    )
    collector = smtp[0]
    assert create_celery(settings).conf.beat_schedule == {
        KEY_HEALTH: {"task": KEY_HEALTH, "schedule": 1.0}
    }
    # environment() passes the settings a worker test sets; the interval and the log level are ours.
    env = proxy.environment(environment(settings)) | {
        "TUTELA_KEY_HEALTH_INTERVAL_HOURS": str(INTERVAL_HOURS),
        "TUTELA_LOG_LEVEL": "DEBUG",
    }
    log = tmp_path / "worker.log"
    with Platform(settings) as platform:
        with_encryption_routes(platform)
        platform.runtime.azure_transport = vault  # this process enables CMK on the same vault
        tenant = cmk_tenant(platform)
        owner = owner_email(platform, tenant)
        old = vault.secret_value("tutela-key")
        vault.deny()
        before = len(vault.requests)

        with worker(env, log):
            # A second check finds the key still denied: the owner was told once, at the first.
            again = wait_for(lambda: finished(platform, STILL_BLOCKED), "a second check", log)
            assert again.last_status == "failed"
            seen = status(platform, tenant)
            assert seen["cmk_blocked"] is True
            assert seen["cmk_last_error"].startswith("access_denied: service principal ")
            assert "may not get Secret 'tutela-key'" in seen["cmk_last_error"]
            [alert] = mails(collector, owner, "Key Vault key is unavailable")
            assert "access_denied" in alert
            arrived = vault.requests[before:]
            assert {id(r) for r in arrived} <= {id(r) for r in proxy.forwarded}
            reads = [r for r in arrived if "/secrets/tutela-key" in r.url]
            assert len(reads) >= 2
            assert all("azsdk-python-keyvault-secrets" in r.headers["User-Agent"] for r in reads)

            vault.restore()
            new = vault.rotate_secret("tutela-key")
            wait_for(lambda: recovered(platform, tenant, new), "the check to see the rotation", log)
            [rotated] = wait_for(
                lambda: mails(collector, owner, "rotation detected"), "its email", log
            )

        assert new in rotated
        assert len(mails(collector, owner, "Key Vault key is unavailable")) == 1
        history = status(platform, tenant, extended=True)["encryption_mode_history"][0]
        assert (history["reason"], history["changed_by"]) == ("cmk_rotate", "health check")
    output = log.read_text()
    assert f'job=encryption.key_health status=failed detail="{FIRST_RUN}"' in output
    for secret in (CLIENT_SECRET, old, vault.secret_value("tutela-key"), *vault.tokens):
        assert secret not in output
