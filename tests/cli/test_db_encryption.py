"""`tutela db rotate-platform-key` and `tutela db check-encryption`, as an operator runs them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.platform import Platform
from tutela.cli.main import app
from tutela.server.config import Settings
from tutela.server.db import utcnow
from tutela.server.reports.models import Report
from tutela.server.reports.service import MANUAL, store_report
from tutela.server.tenants.models import Tenant

DOCUMENT = {
    "frameworks": ["dora"],
    "critical_count": 0,
    "high_count": 0,
    "medium_count": 0,
    "low_count": 0,
    "findings": [],
}


def stored(platform: Platform, count: int) -> list[str]:
    """``count`` reports of a new tenant, sealed under the current platform key; their ids."""
    tenant = platform.tenant()
    ids = []
    with platform.db() as session:
        owner = session.get(Tenant, tenant.id)
        assert owner is not None
        for _ in range(count):
            row = store_report(
                session,
                platform.document_key(),
                owner,
                dict(DOCUMENT),
                report_type=MANUAL,
                label=None,
                scan_ts=utcnow(),
            )
            ids.append(row.id)
    return ids


@pytest.fixture
def settings(settings_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    made: Settings = settings_factory()
    monkeypatch.setenv("TUTELA_DATA_DIR", str(made.data_dir))
    return made


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["db", *args])


def census(*args: str) -> dict[str, Any]:
    result = invoke("check-encryption", "--json", *args)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_rotation_and_the_census_as_the_operator_reads_them(settings: Settings) -> None:
    with Platform(settings) as platform:
        stored(platform, 3)
    before = invoke("check-encryption")
    assert before.exit_code == 0, before.output
    assert "│ pmk  │ original │ current │       3 │         0 │            0 │" in before.stdout

    rotated = invoke("rotate-platform-key", "--grace-seconds", "0", "--batch-size", "2")

    assert rotated.exit_code == 0, rotated.output
    [new] = [v["id"] for v in census()["platform_key_versions"] if v["state"] == "current"]
    assert rotated.stdout.splitlines() == [
        f"Rotated: platform key {new} is current.",
        "Re-wrapped 3 data key(s) (reports 3, snapshots 0, kept answers 0); "
        "no document was re-encrypted.",
        "Retired platform key original: it is derived from the root key file, so nothing "
        "stored is left to erase.",
    ]
    after = census("--verify")
    assert [(k["key"], k["state"], k["rows"]["reports"]) for k in after["keys"]] == [
        (new, "current", 3),
        ("original", "retired", 0),
    ]
    assert after["unopenable"] == {}
    versions = {v["id"]: v for v in after["platform_key_versions"]}
    assert versions["original"]["retired_at"] is not None
    assert versions[new]["replaced_at"] is None


def test_a_row_no_key_opens_fails_both_commands_and_is_named(settings: Settings) -> None:
    with Platform(settings) as platform:
        damaged, _ = stored(platform, 2)
        with platform.db() as session:
            row = session.get(Report, damaged)
            assert row is not None
            row.wrapped_key = bytes(len(row.wrapped_key))

    rotated = invoke("rotate-platform-key", "--grace-seconds", "0")

    assert rotated.exit_code == 1
    assert "Re-wrapped 1 data key(s)" in rotated.stdout
    assert (
        f"kept platform key original: rows still name it that it does not open (reports {damaged})"
        in " ".join(rotated.stderr.split())
    )
    checked = invoke("check-encryption", "--verify")
    assert checked.exit_code == 1
    assert f"reports: {damaged}" in checked.stdout
    assert "1 data key(s) do not unwrap" in checked.stderr
    assert "Traceback" not in checked.output


def test_rows_under_a_retired_version_fail_the_check(settings: Settings) -> None:
    with Platform(settings) as platform:
        [report] = stored(platform, 1)
        with platform.db() as session:
            row = session.get(Report, report)
            assert row is not None
            original = (row.key_ref, row.wrapped_key)
    assert invoke("rotate-platform-key", "--grace-seconds", "0").exit_code == 0
    with Platform(settings) as platform, platform.db() as session:  # restored from a backup
        session.execute(
            update(Report)
            .where(Report.id == report)
            .values(key_ref=original[0], wrapped_key=original[1])
        )

    checked = invoke("check-encryption")

    assert checked.exit_code == 1
    assert "rows name a retired or unknown platform key: original (retired)" in checked.stderr
    with Platform(settings) as platform, platform.db() as session:
        assert session.scalars(select(Report.key_ref)).one() is None  # nothing was changed
