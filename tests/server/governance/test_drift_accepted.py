"""Governance drift through the API when a risk exception is approved between two scans: the
findings it accepts still fail, so drift counts them as accepted, not resolved, and the diff
the alert links to lists them under ``accepted``; once it ends, they are new again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.platform import Platform, TenantCtx
from tests.server.exceptions.helpers import CHECK, REGISTRY, accepted_by, set_expiry, today
from tests.server.governance.helpers import governance
from tests.server.scans.estates import DEV, link_sample_snapshot
from tutela.server.governance.scans import run_due


def scanned(platform: Platform, tenant: TenantCtx, at: dt.datetime) -> dict[str, Any]:
    """The governance state after a scheduled scan of the tenant at ``at``."""
    [outcome] = [o for o in run_due(platform.runtime, at) if o.tenant_id == tenant.id]
    assert outcome.status == "scanned", outcome
    return governance(platform, tenant)


def test_drift_counts_the_findings_an_exception_accepted_as_accepted(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant, DEV)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    first = scanned(platform, tenant, now)
    baseline = first["history"][0]["report_id"]
    report = platform.client.get(f"/report/{baseline}", headers=tenant.headers).json()
    pair = [f for f in report["findings"] if (f["check_id"], f["resource"]) == (CHECK, REGISTRY)]
    assert pair  # the registry fails the check (one finding per control it counts for)

    exception_id = accepted_by(platform, tenant)
    state = scanned(platform, tenant, now + dt.timedelta(days=1, hours=1))

    drift = state["drift"]
    assert (drift["accepted"], drift["resolved"], drift["new_findings"]) == (len(pair), 0, 0)
    diff = platform.client.get(
        "/reports/diff",
        headers=tenant.headers,
        params={"report_a": drift["previous_report_id"], "report_b": drift["report_id"]},
    ).json()
    assert diff["accepted"] == sorted(
        pair, key=lambda f: (f["control_id"], f["check_id"], f["resource"].lower())
    )
    assert diff["resolved"] == []

    # The exception ends: the next scan fails the pair again, a new finding, none accepted.
    set_expiry(platform, exception_id, today() + dt.timedelta(days=2))
    again = scanned(platform, tenant, now + dt.timedelta(days=2, hours=2))["drift"]
    assert (again["new_findings"], again["accepted"], again["resolved"]) == (len(pair), 0, 0)
    assert again["detected"] is True  # the registry's findings are critical
