"""The expiry notice: a week before an approved exception expires, its tenant's owners and
admins are mailed once (through a real SMTP relay on loopback); run by the in-process scheduler
and by beat at ``TUTELA_RETENTION_INTERVAL_HOURS``."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from tests.platform import Platform, TenantCtx, auth
from tests.server.exceptions.helpers import (
    accepted_by,
    audit_trail,
    request,
    set_expiry,
    today,
)
from tests.server.notify.loopback import Collector
from tutela.server.db import utcnow
from tutela.server.jobs.celery_app import create_celery
from tutela.server.jobs.inprocess import periodic_jobs, run_job
from tutela.server.jobs.models import JobRun
from tutela.server.jobs.registry import EXCEPTION_NOTICES, JobResult, exception_notices
from tutela.server.tenants.models import User


@pytest.fixture(params=["sqlite", "postgres"])
def mailing(
    request: pytest.FixtureRequest, settings_factory: Any, smtp: tuple[Collector, int]
) -> Iterator[Platform]:
    """The API on each store, mailing through the loopback relay. The sweep covers every
    tenant, so PostgreSQL is a database of this test alone."""
    database = (
        {"database_url": request.getfixturevalue("own_postgres_url")}
        if request.param == "postgres"
        else {}
    )
    settings = settings_factory(
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_starttls=False,
        smtp_timeout_seconds=5,
        **database,
    )
    with Platform(settings) as running:
        yield running


def sweep(platform: Platform, at: dt.datetime | None = None) -> JobResult:
    runtime = platform.runtime
    return run_job(runtime, EXCEPTION_NOTICES, lambda: exception_notices(runtime, at or utcnow()))


def mails(collector: Collector) -> list[EmailMessage]:
    return [message_from_bytes(m.content, policy=policy.default) for m in collector.received]


def email_of(platform: Platform, user_id: str) -> str:
    with platform.db() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.email


def expiring(platform: Platform, tenant: TenantCtx, days: int) -> str:
    """An approved exception of the tenant that expires in ``days`` days."""
    exception_id = accepted_by(platform, tenant)
    set_expiry(platform, exception_id, today() + dt.timedelta(days=days))
    return exception_id


def test_owners_and_admins_are_mailed_once_a_week_before(
    mailing: Platform, smtp: tuple[Collector, int]
) -> None:
    platform, (collector, _) = mailing, smtp
    tenant = platform.tenant("enterprise")
    admin_id, _ = platform.user(tenant, "admin")
    platform.user(tenant, "auditor")
    week = expiring(platform, tenant, 7)
    eight_days = expiring(platform, tenant, 8)
    pending = request(platform, tenant.owner_key)["id"]
    set_expiry(platform, pending, today() + dt.timedelta(days=3))  # not approved: never applied
    other = platform.tenant("enterprise")
    theirs = expiring(platform, other, 2)
    collector.received.clear()

    result = sweep(platform)

    assert (result.detail, result.failures) == ("2 exception expiry notice(s) sent, 0 failed", 0)
    assert len(collector.received) == 2
    [mine] = [m for m in mails(collector) if week in m.get_content()]
    [their] = [m for m in mails(collector) if theirs in m.get_content()]
    assert recipients(mine) == managers(platform, tenant)
    assert email_of(platform, admin_id) in recipients(mine)
    assert recipients(their) == managers(platform, other)
    subject = str(mine["Subject"])
    expires = (today() + dt.timedelta(days=7)).isoformat()
    assert subject.startswith(f"Tutela: risk exception for ACR-ANON-PULL expires on {expires}")
    text = mine.get_content()
    assert "expires in 7 day(s)" in text
    assert "crcbkmldev" in text
    assert f"PATCH /exceptions/{week}" in text

    shown = platform.client.get(f"/exceptions/{week}", headers=tenant.headers).json()
    assert shown["expiry_notice_sent_at"] is not None
    [notice] = [e for e in audit_trail(platform, week) if e.action.endswith("notice_sent")]
    assert (notice.actor, set(notice.details["to"])) == ("expiry notice", recipients(mine))
    events = platform.client.get(f"/exceptions/{eight_days}", headers=tenant.headers).json()
    assert events["expiry_notice_sent_at"] is None

    assert sweep(platform).detail.startswith("0 exception expiry notice(s) sent")  # once
    assert len(collector.received) == 2
    tomorrow = sweep(platform, utcnow() + dt.timedelta(days=1))
    assert tomorrow.detail.startswith("1 exception expiry notice(s) sent")
    assert eight_days in mails(collector)[-1].get_content()

    # A new expiry date gets its own notice (once approved again).
    changed = platform.client.patch(
        f"/exceptions/{week}",
        headers=tenant.headers,
        json={"expires": (today() + dt.timedelta(days=5)).isoformat()},
    )
    assert changed.json()["expiry_notice_sent_at"] is None
    assert sweep(platform).detail.startswith("0 ")  # pending: nothing to announce
    _, approver = platform.user(tenant, "admin")
    platform.client.post(f"/exceptions/{week}/approve", headers=auth(approver))
    collector.received.clear()
    assert sweep(platform).detail.startswith("1 ")
    assert "expires in 5 day(s)" in mails(collector)[0].get_content()


def recipients(message: EmailMessage) -> set[str]:
    return {address.strip() for address in str(message["To"]).split(",")}


def managers(platform: Platform, tenant: TenantCtx) -> set[str]:
    """The emails of the tenant's owners and admins (its members and auditors: never)."""
    with platform.db() as session:
        users = session.query(User).filter(User.tenant_id == tenant.id).all()
        assert any(u.role == "member" for u in users)
        return {u.email for u in users if u.role in ("owner", "admin")}


def test_a_notice_that_cannot_be_sent_is_tried_again_at_the_next_sweep(
    settings_factory: Any, smtp: tuple[Collector, int]
) -> None:
    collector, port = smtp
    settings = settings_factory(
        smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_timeout_seconds=5
    )
    with Platform(settings) as platform:
        tenant = platform.tenant("enterprise")
        exception_id = expiring(platform, tenant, 4)
        collector.received.clear()
        # The relay is down: nothing is marked sent, the job's run counts the failure.
        platform.runtime.settings = settings.model_copy(update={"smtp_port": _closed_port()})
        failed = sweep(platform)
        assert (failed.detail, failed.failures) == (
            "0 exception expiry notice(s) sent, 1 failed",
            1,
        )
        shown = platform.client.get(f"/exceptions/{exception_id}", headers=tenant.headers)
        assert shown.json()["expiry_notice_sent_at"] is None
        with platform.db() as session:
            run = session.get(JobRun, EXCEPTION_NOTICES)
            assert run is not None
            assert run.last_status == "failed"

        platform.runtime.settings = settings
        assert sweep(platform).detail.startswith("1 ")
        assert len(collector.received) == 1


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_scheduler_and_beat_run_it_at_the_retention_interval(
    settings_factory: Any, smtp: tuple[Collector, int]
) -> None:
    collector, port = smtp
    settings = settings_factory(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_timeout_seconds=5,
        scheduler_interval_seconds=3600,
    )
    with Platform(settings) as platform:
        jobs = {name: interval for name, interval, _ in periodic_jobs(platform.runtime)}
        assert jobs[EXCEPTION_NOTICES] == 24 * 3600
        tenant = platform.tenant("enterprise")
        exception_id = expiring(platform, tenant, 6)
        collector.received.clear()

        with platform.client:  # entering the client runs the app's lifespan: the scheduler
            deadline = time.monotonic() + 30
            while not collector.received and time.monotonic() < deadline:
                time.sleep(0.05)

        assert any(exception_id in m.get_content() for m in mails(collector))
    beat = create_celery(settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0"}))
    assert beat.conf.beat_schedule[EXCEPTION_NOTICES] == {
        "task": EXCEPTION_NOTICES,
        "schedule": 24 * 3600,
    }
    off = create_celery(
        settings.model_copy(
            update={"redis_url": "redis://127.0.0.1:6379/0", "retention_interval_hours": 0}
        )
    )
    assert EXCEPTION_NOTICES not in off.conf.beat_schedule
