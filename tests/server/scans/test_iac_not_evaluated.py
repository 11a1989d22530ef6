"""POST /scan/iac: what the scan never looked at (``not_evaluated``) and the findings on
resources deployed under an undecided condition (``conditional``), answered and stored."""

from __future__ import annotations

import json
from typing import Any

from tests.platform import Platform
from tests.scanner.outputs.test_scope_honesty import VNET, account
from tests.server.scans.test_iac_notes import iac
from tutela.server.reports.schemas import ReportOut

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


LINKED = {
    "type": "Microsoft.Resources/deployments",
    "apiVersion": "2022-09-01",
    "name": "network",
    "properties": {"mode": "Incremental", "templateLink": {"relativePath": "net.json"}},
}


def template(*resources: Any) -> bytes:
    document = {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"deploy": {"type": "bool"}},
        "resources": list(resources),
    }
    return json.dumps(document).encode()


def test_the_stored_report_lists_what_was_not_evaluated_and_marks_conditional_findings(
    platform: Platform,
) -> None:
    tenant = platform.tenant("starter")
    body = template(account("stmaybe", condition="[parameters('deploy')]"), LINKED, VNET)
    report = iac(platform, tenant, body).json()

    ReportOut.model_validate(report)
    assert [
        (e["reason"], e["type"], e["resources"][0].split("/")[-1]) for e in report["not_evaluated"]
    ] == [
        ("linked_template", "microsoft.resources/deployments", "body: resources[1]"),
        ("no_check", "microsoft.network/virtualnetworks", "vnet-hub"),
    ]
    assert report["findings"]
    assert all(finding["conditional"] is True for finding in report["findings"])

    response = platform.client.get(f"/report/{report['report_id']}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["not_evaluated"] == report["not_evaluated"]
    assert [f.get("conditional") for f in stored["findings"]] == [True] * len(report["findings"])


def test_a_body_of_checked_unconditional_resources_has_neither_member(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    iac(platform, tenant, template(LINKED), dry_run="true")  # another body's entries are not kept
    report = iac(platform, tenant, template(account("stsure")), dry_run="true").json()

    assert "not_evaluated" not in report
    assert all("conditional" not in finding for finding in report["findings"])
