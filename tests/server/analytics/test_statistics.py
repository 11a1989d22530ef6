"""The retention job keeps SQLite's planner statistics, which choose the analytics indexes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from tests.platform import Platform
from tests.server.reports.test_reports import store
from tutela.server.jobs.registry import reports_purge


def test_the_retention_job_gives_sqlite_statistics_of_the_analytics_tables(
    alone: Platform,
) -> None:
    tenant = alone.tenant("enterprise")
    store(alone, tenant, dt.datetime.now(dt.UTC))
    sqlite = alone.runtime.engine.dialect.name == "sqlite"
    if sqlite:
        with alone.runtime.engine.connect() as connection:
            assert not connection.execute(
                text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            ).all()

    reports_purge(alone.runtime, dt.datetime.now(dt.UTC))  # PostgreSQL: autovacuum's work

    if sqlite:
        with alone.runtime.engine.connect() as connection:
            analysed = {row[0] for row in connection.execute(text("SELECT tbl FROM sqlite_stat1"))}
        assert {"reports", "report_check_counts", "report_framework_counts"} <= analysed
