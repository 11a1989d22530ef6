"""A change made through one process reaches every other process on the database, without a
restart, within TUTELA_SETTINGS_REFRESH_SECONDS; between reads, a process asks nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.platform import Platform, auth
from tests.ratelimits import clear_of_a_window_edge
from tests.server.platform_settings.conftest import forget_settings
from tests.server.platform_settings.helpers import changed, operator_key, retire_operator_key
from tutela.server.config import Settings

REFRESH = 0.5


@pytest.fixture(params=["sqlite", "postgres"])
def two_processes(
    request: pytest.FixtureRequest, settings_factory: Callable[..., Settings]
) -> Iterator[tuple[Platform, Platform]]:
    """Two runtimes (as two API processes, or an API process and a worker) on one database."""
    values: dict[str, Any] = {"settings_refresh_seconds": REFRESH}
    if request.param == "postgres":
        values["database_url"] = request.getfixturevalue("postgres_url")
    with Platform(settings_factory(**values)) as one, Platform(settings_factory(**values)) as two:
        forget_settings(one)
        try:
            yield one, two
        finally:
            forget_settings(one)
            retire_operator_key(one)


def wait_until(condition: Callable[[], bool], limit: float) -> float:
    """Seconds until ``condition`` held; fails after ``limit``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < limit, "not seen in time"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_change_reaches_another_process_without_a_restart(
    two_processes: tuple[Platform, Platform],
) -> None:
    one, two = two_processes
    tenant = two.tenant("starter")
    assert two.runtime.settings.email_from == "Tutela <tutela@localhost>"
    assert two.runtime.catalog.plan("starter").scan_quota == 25

    changed(one, email_from="desk@bank.example.com", plan_quotas={"starter": 7})
    # The process that made the change applies it at once.
    assert one.runtime.settings.email_from == "desk@bank.example.com"
    assert one.runtime.catalog.plan("starter").scan_quota == 7
    # The other within the refresh interval (plus this machine's scheduling).
    waited = wait_until(lambda: two.runtime.settings.email_from == "desk@bank.example.com", 5)
    assert waited <= REFRESH + 1
    me = two.client.get("/tenant/me", headers=tenant.headers).json()
    assert me["scan_limit"] == 7

    # A reset travels the same way.
    changed(one, email_from=None, plan_quotas=None)
    wait_until(lambda: two.runtime.catalog.plan("starter").scan_quota == 25, 5)
    assert two.client.get("/tenant/me", headers=tenant.headers).json()["scan_limit"] == 25


def test_a_rate_limit_lowered_in_one_process_binds_in_the_other(
    two_processes: tuple[Platform, Platform],
) -> None:
    one, two = two_processes
    tenant = two.tenant()
    clear_of_a_window_edge()  # the refusals are counted in one window
    changed(one, rate_limit="1/minute")
    wait_until(lambda: two.runtime.settings.rate_limit == "1/minute", 5)
    statuses = [two.client.get("/tenant/me", headers=tenant.headers).status_code for _ in range(2)]
    assert statuses == [200, 429]
    changed(one, rate_limit=None)
    wait_until(lambda: two.runtime.settings.rate_limit != "1/minute", 5)
    assert two.client.get("/tenant/me", headers=tenant.headers).status_code == 200


@contextmanager
def statements_on_settings(platform: Platform) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "platform_settings" in statement:
            seen.append(statement)

    event.listen(platform.runtime.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(platform.runtime.engine, "before_cursor_execute", note)


def test_between_refreshes_the_settings_cost_no_query(
    settings_factory: Callable[..., Settings],
) -> None:
    with Platform(settings_factory(settings_refresh_seconds=60)) as platform:
        tenant = platform.tenant()
        platform.runtime.settings  # noqa: B018  # the first read
        with statements_on_settings(platform) as seen:
            for _ in range(20):
                assert platform.client.get("/tenant/me", headers=tenant.headers).status_code == 200
            assert seen == []
            # A change made here is applied here at once: one read after it, then none.
            response = platform.client.patch(
                "/admin/settings",
                headers=auth(operator_key(platform)),
                json={"rate_limit": "5/second"},
            )
            assert response.status_code == 200
            reads = len(seen)
            assert platform.runtime.settings.rate_limit == "5/second"
            platform.client.get("/tenant/me", headers=tenant.headers)
            assert len([s for s in seen[reads:] if s.lstrip().upper().startswith("SELECT")]) == 1


def test_an_unreadable_table_keeps_the_settings_in_force(
    settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    with Platform(settings_factory(settings_refresh_seconds=0.1)) as platform:
        changed(platform, email_from="desk@bank.example.com")
        assert platform.runtime.settings.email_from == "desk@bank.example.com"
        with platform.db() as session:  # as a database that cannot be read would
            session.execute(text("ALTER TABLE platform_settings RENAME TO platform_settings_away"))
        time.sleep(0.2)
        assert platform.runtime.settings.email_from == "desk@bank.example.com"
        assert "platform_settings_unreadable reason=OperationalError" in caplog.text
        with platform.db() as session:
            session.execute(text("ALTER TABLE platform_settings_away RENAME TO platform_settings"))
            session.execute(text("DELETE FROM platform_settings"))
        wait_until(lambda: platform.runtime.settings.email_from == "Tutela <tutela@localhost>", 5)
