"""``session.reports.list(label=…)`` against a real ``tutela serve --demo``."""

from __future__ import annotations

from collections.abc import Callable

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant


def test_reports_list_filters_by_label(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    tenant = new_tenant("enterprise")
    with server.session(tenant.key) as session:
        prod = [
            session.scans.iac(ARM_TEMPLATE, ["iso42001"], label=label).report_id
            for label in ("Nightly PROD", "prod-weu")
        ]
        session.scans.iac(ARM_TEMPLATE, ["iso42001"], label="staging")

        listed = list(session.reports.list(page_size=1, label="prod"))
        assert [r.report_id for r in listed] == prod[::-1]  # newest first, across pages
        assert [r.label for r in session.reports.list(type="manual", label="STAG")] == ["staging"]
        assert list(session.reports.list(type="governance", label="prod")) == []
