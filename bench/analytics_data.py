"""The analytics benchmark's database: tenants, keys, usage, governance and reports in bulk.

One ``random.Random(seed)`` draws everything. The small tables (tenants, users, keys, governance
states, scan usage) and the reports go in through SQLAlchemy Core's executemany, so every column
the models default is filled as the app fills it; the count rows (millions) through PostgreSQL's
COPY or SQLite's executemany on the raw connection. Report bodies are a few opaque bytes: the
analytics never read them.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, insert

from tutela.scanner.catalog import load_catalog
from tutela.server.governance.models import GovernanceState
from tutela.server.keys.models import ApiKey
from tutela.server.reports.models import Report
from tutela.server.tenants.models import ScanUsage, Tenant, User

SEVERITIES = ("critical", "high", "medium", "low")
PLAN_WEIGHTS = {"free_trial": 30, "starter": 40, "professional": 20, "enterprise": 10}
DAYS = 365  # reports spread over the year up to now
CHECKS_PER_REPORT = 40
BATCH = 20_000  # count rows written at a time


@dataclass
class Built:
    tenants: int = 0
    reports: int = 0
    framework_rows: int = 0
    check_rows: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def build(engine: Engine, *, tenants: int, reports: int, seed: int, now: dt.datetime) -> Built:
    """Fill a migrated, empty database; how many rows of each kind were written."""
    draw = random.Random(seed)  # noqa: S311 -- a benchmark's data, not a secret
    catalog = load_catalog()
    frameworks = list(catalog.framework_ids)
    check_ids = [check.id for check in catalog.checks]
    # Some checks fail far more often than others, as on real estates.
    check_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(check_ids))]
    quotas = {p.id: p.scan_quota for p in catalog.plans}
    built = Built(tenants=tenants, reports=reports)
    tenant_rows, user_rows, key_rows, states, usage = [], [], [], [], []
    period = now.strftime("%Y-%m")
    plans = draw.choices(list(PLAN_WEIGHTS), weights=list(PLAN_WEIGHTS.values()), k=tenants)
    for number, plan in enumerate(plans):
        tenant_id, owner_id = str(uuid.uuid4()), str(uuid.uuid4())
        created = now - dt.timedelta(days=draw.uniform(DAYS, 2 * DAYS))
        tenant_rows.append(
            {
                "id": tenant_id,
                "name": f"bench tenant {number}",
                "plan": plan,
                "status": "suspended" if draw.random() < 0.05 else "active",
                "owner_email": f"owner{number}@bench.example",
                "created_at": created,
            }
        )
        user_rows.append(
            {
                "id": owner_id,
                "tenant_id": tenant_id,
                "email": f"owner{number}@bench.example",
                "role": "owner",
                "created_at": created,
            }
        )
        for key_number in range(3):
            key_rows.append(_key(draw, tenant_id, owner_id, number, key_number, now))
        failing = draw.random() < 0.05
        states.append(
            {
                "tenant_id": tenant_id,
                "failures": draw.randint(1, 6) if failing else 0,
                "last_error": "Internal error (TimeoutError); see the server log"
                if failing
                else None,
                "last_error_at": now - dt.timedelta(hours=draw.uniform(1, 24 * 40))
                if failing
                else None,
                "last_scan_at": now - dt.timedelta(days=draw.uniform(0, 20)),
            }
        )
        quota = quotas[plan]
        used = draw.randint(0, quota) if quota is not None else draw.randint(0, 300)
        usage.append({"tenant_id": tenant_id, "period": period, "count": used})
    with engine.begin() as connection:
        connection.execute(insert(Tenant.__table__), tenant_rows)
        connection.execute(insert(User.__table__), user_rows)
        connection.execute(insert(ApiKey.__table__), key_rows)
        connection.execute(insert(GovernanceState.__table__), states)
        connection.execute(insert(ScanUsage.__table__), usage)
    built.rows = {
        "tenants": len(tenant_rows),
        "users": len(user_rows),
        "api_keys": len(key_rows),
        "governance_states": len(states),
        "scan_usage": len(usage),
    }
    owners = [(row["id"], row["plan"]) for row in tenant_rows]
    report_rows: list[dict[str, Any]] = []
    framework_rows: list[tuple[Any, ...]] = []
    check_rows: list[tuple[Any, ...]] = []
    taken: set[tuple[str, str]] = set()
    writer = _CountWriter(engine)
    for _ in range(reports):
        tenant_id, plan = draw.choice(owners)
        created = now - dt.timedelta(seconds=draw.uniform(0, DAYS * 86_400))
        report_id = created.strftime("COMP-%Y%m%d-%H%M%S")
        suffix = 1
        while (tenant_id, report_id) in taken:
            suffix += 1
            report_id = created.strftime("COMP-%Y%m%d-%H%M%S") + f"-{suffix}"
        taken.add((tenant_id, report_id))
        row_id = str(uuid.uuid4())
        scanned = frameworks if draw.random() < 0.5 else draw.sample(frameworks, draw.randint(3, 6))
        severity_totals = dict.fromkeys(SEVERITIES, 0)
        for framework in scanned:
            for severity in SEVERITIES:
                findings = draw.randint(0, 60)
                if findings:
                    severity_totals[severity] += findings
                    framework_rows.append(
                        (row_id, framework, severity, tenant_id, findings, created)
                    )
        failed: set[str] = set()
        while len(failed) < CHECKS_PER_REPORT:
            failed.update(draw.choices(check_ids, check_weights, k=CHECKS_PER_REPORT - len(failed)))
        for check_id in sorted(failed):
            resources = draw.randint(1, 25)
            check_rows.append(
                (row_id, check_id, tenant_id, resources * draw.randint(1, 6), resources, created)
            )
        report_rows.append(
            {
                "id": row_id,
                "tenant_id": tenant_id,
                "report_id": report_id,
                "type": "governance" if draw.random() < 0.3 else "manual",
                "frameworks": scanned,
                "aggregate_score": draw.randint(20, 100),
                **{f"{s}_count": severity_totals[s] for s in SEVERITIES},
                "resources_scanned": draw.randint(50, 5_000),
                "plan": plan,
                "created_at": created,
                "key_mode": "pmk",
                "wrapped_key": draw.randbytes(60),
                "body": draw.randbytes(64),
            }
        )
        if len(report_rows) >= BATCH // 10:
            with engine.begin() as connection:
                connection.execute(insert(Report.__table__), report_rows)
            report_rows.clear()
            writer.write(framework_rows, check_rows)
            built.framework_rows += len(framework_rows)
            built.check_rows += len(check_rows)
            framework_rows.clear()
            check_rows.clear()
    if report_rows:
        with engine.begin() as connection:
            connection.execute(insert(Report.__table__), report_rows)
        writer.write(framework_rows, check_rows)
        built.framework_rows += len(framework_rows)
        built.check_rows += len(check_rows)
    built.rows |= {
        "reports": reports,
        "report_framework_counts": built.framework_rows,
        "report_check_counts": built.check_rows,
    }
    return built


def _key(
    draw: random.Random, tenant_id: str, owner_id: str, number: int, key_number: int, now: Any
) -> dict[str, Any]:
    created = now - dt.timedelta(days=draw.uniform(0, 300))
    used = draw.random() < 0.7
    return {
        "id": str(uuid.uuid4()),
        "user_id": owner_id,
        "tenant_id": tenant_id,
        "name": f"key {key_number}",
        "scopes": ["reports:read"],
        "prefix": f"tut_{number:05d}{key_number}",
        "key_hash": uuid.uuid4().hex + uuid.uuid4().hex,
        "created_at": created,
        "expires_at": now + dt.timedelta(days=draw.uniform(1, 365)),
        "last_used_at": now - dt.timedelta(days=draw.uniform(0, 60)) if used else None,
        "revoked_at": now if draw.random() < 0.1 else None,
    }


class _CountWriter:
    """Count rows in bulk: COPY on PostgreSQL, executemany on SQLite's raw connection."""

    FRAMEWORKS = (
        "report_framework_counts"
        " (report_row_id, framework, severity, tenant_id, findings, created_at)"
    )
    CHECKS = (
        "report_check_counts (report_row_id, check_id, tenant_id, findings, resources, created_at)"
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def write(self, frameworks: list[tuple[Any, ...]], checks: list[tuple[Any, ...]]) -> None:
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if not self.postgres:  # (the app's connections begin in an event this one skips)
                cursor.execute("BEGIN")
            for table, rows in ((self.FRAMEWORKS, frameworks), (self.CHECKS, checks)):
                if self.postgres:
                    with cursor.copy(f"COPY {table} FROM STDIN") as copy:  # type: ignore[attr-defined]
                        for row in rows:
                            copy.write_row(row)
                else:
                    cursor.executemany(
                        f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608 -- constants
                        _sqlite_rows(rows),
                    )
            if self.postgres:
                connection.commit()
            else:
                cursor.execute("COMMIT")
        finally:
            connection.close()


def _sqlite_rows(rows: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The rows as SQLAlchemy stores them on SQLite: naive UTC timestamps as text."""
    for row in rows:
        created: dt.datetime = row[-1]
        yield (*row[:-1], created.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
