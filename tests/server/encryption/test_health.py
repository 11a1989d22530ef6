"""The key health check: every CMK tenant's key checked as the rotate endpoint checks it; an
unusable key recorded and mailed once per transition; run by the in-process scheduler and by
beat at ``TUTELA_KEY_HEALTH_INTERVAL_HOURS`` (in a real worker: test_health_worker.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.platform import Platform, TenantCtx
from tests.server.encryption.conftest import with_encryption_routes
from tests.server.encryption.fake_vault import CLIENT_SECRET, FakeVault
from tests.server.encryption.helpers import cmk_tenant, mails_to, owner_email, status
from tutela.server.db import utcnow
from tutela.server.jobs.celery_app import create_celery
from tutela.server.jobs.inprocess import periodic_jobs, run_job
from tutela.server.jobs.models import JobRun
from tutela.server.jobs.registry import KEY_HEALTH, JobResult, key_health


def run_check(platform: Platform) -> JobResult:
    runtime = platform.runtime
    return run_job(runtime, KEY_HEALTH, lambda: key_health(runtime, utcnow()))


def job_run(platform: Platform) -> JobRun | None:
    with platform.db() as session:
        row = session.get(JobRun, KEY_HEALTH)
        if row is not None:
            session.expunge(row)
        return row


def alerts(platform: Platform, tenant: TenantCtx) -> list[str]:
    """The texts of the 'key unavailable' emails sent to the tenant's owner."""
    mails = mails_to(platform, owner_email(platform, tenant))
    return [text for subject, text in mails if "Key Vault key is unavailable" in subject]


def test_a_rotation_is_recorded_stamped_and_mailed_as_by_the_rotate_endpoint(
    platform: Platform, vault: FakeVault
) -> None:
    steady = cmk_tenant(platform, key="tutela-kek")
    rotating = cmk_tenant(platform)
    platform.tenant()  # on the platform key: not checked
    new = vault.rotate_secret("tutela-key")

    result = run_check(platform)

    assert result.detail == (
        "2 CMK tenant(s) checked: 0 failed (0 newly blocked), 1 rotation(s) detected"
    )
    run = job_run(platform)
    assert run is not None
    assert (run.runs, run.last_status) == (1, "ok")
    seen = status(platform, rotating, extended=True)
    assert seen["cmk_key_version"] == new
    latest = seen["encryption_mode_history"][0]
    assert (latest["reason"], latest["changed_by"], latest["key_version"]) == (
        "cmk_rotate",
        "health check",
        new,
    )
    subject, text = mails_to(platform, owner_email(platform, rotating))[-1]
    assert "rotation detected" in subject
    assert new in text
    assert len(status(platform, steady, extended=True)["encryption_mode_history"]) == 1


def test_an_unusable_key_is_recorded_and_mailed_once_per_transition(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform)

    vault.deny()
    first = run_check(platform)
    run_check(platform)  # still denied the next day: no second email

    assert (first.failures, first.detail) == (
        1,
        "1 CMK tenant(s) checked: 1 failed (1 newly blocked), 0 rotation(s) detected",
    )
    run = job_run(platform)
    assert run is not None
    assert (run.runs, run.last_status) == (2, "failed")
    seen = status(platform, tenant)
    assert seen["cmk_blocked"] is True
    assert seen["cmk_last_error"].startswith("access_denied: ")
    [alert] = alerts(platform, tenant)
    assert "kv-contoso" in alert
    assert "tutela-key" in alert
    assert CLIENT_SECRET not in alert
    assert vault.secret_value("tutela-key") not in alert

    vault.restore()
    run_check(platform)
    seen = status(platform, tenant)
    assert (seen["cmk_blocked"], seen["cmk_last_error"]) == (False, None)

    vault.unreachable = True  # a new outage is a new transition: mailed again
    run_check(platform)
    assert status(platform, tenant)["cmk_last_error"].startswith("unreachable: ")
    assert len(alerts(platform, tenant)) == 2


def test_a_block_a_request_noticed_first_is_not_mailed_again_by_the_check(
    platform: Platform, vault: FakeVault
) -> None:
    tenant = cmk_tenant(platform, key="tutela-kek")
    vault.deny()
    refused = platform.client.post(
        "/scan/iac",
        headers={**tenant.headers, "content-type": "application/json"},
        content=b'{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
        b'deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": []}',
    )
    assert refused.status_code == 503, refused.text
    assert len(alerts(platform, tenant)) == 1

    run_check(platform)

    assert status(platform, tenant)["cmk_blocked"] is True
    assert len(alerts(platform, tenant)) == 1


def test_the_scheduler_runs_the_check_daily_and_at_start(settings_factory: Any) -> None:
    settings = settings_factory(scheduler_interval_seconds=3600)
    with Platform(settings) as platform:
        with_encryption_routes(platform)
        vault = FakeVault()
        vault.add_secret("tutela-key")
        platform.runtime.azure_transport = vault
        tenant = cmk_tenant(platform)
        new = vault.rotate_secret("tutela-key")
        jobs = {name: interval for name, interval, _ in periodic_jobs(platform.runtime)}
        assert jobs[KEY_HEALTH] == 24 * 3600

        with platform.client:  # entering the client runs the app's lifespan: the scheduler
            run = wait_for(lambda: finished(platform))

        assert (run.runs, run.last_status) == (1, "ok")
        assert status(platform, tenant)["cmk_key_version"] == new


@pytest.mark.parametrize(
    ("overrides", "seconds"),
    [
        ({}, 86400.0),  # daily by default
        ({"key_health_interval_hours": 0.5}, 1800.0),
        ({"key_health_interval_hours": 0.5, "scheduler_interval_seconds": 0}, 1800.0),
        ({"key_health_interval_hours": 0}, None),
    ],
)
def test_the_scheduler_and_beat_run_the_check_at_its_interval_and_0_leaves_it_out(
    settings_factory: Any, overrides: dict[str, float], seconds: float | None
) -> None:
    settings = settings_factory(**overrides)
    with Platform(settings) as platform:
        inprocess = {name: interval for name, interval, _ in periodic_jobs(platform.runtime)}
    # Beat's schedule is only built here: nothing connects to this broker.
    beat = create_celery(settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0"}))
    schedule = beat.conf.beat_schedule

    assert inprocess.get(KEY_HEALTH) == seconds
    assert schedule.get(KEY_HEALTH) == (
        None if seconds is None else {"task": KEY_HEALTH, "schedule": seconds}
    )
    assert set(schedule) == set(inprocess)  # the other jobs as their own settings say


def finished(platform: Platform) -> JobRun | None:
    run = job_run(platform)
    return run if run is not None and run.last_status is not None else None


def wait_for(condition: Callable[[], JobRun | None], timeout: float = 30) -> JobRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found is not None:
            return found
        time.sleep(0.05)
    pytest.fail("the health check did not run")
