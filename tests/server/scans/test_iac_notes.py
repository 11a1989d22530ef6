"""POST /scan/iac: what reading the body left out is in the report's ``notes``, stored too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.platform import Platform, TenantCtx
from tests.scanner.outputs.test_report_notes import ACCOUNT, NESTED
from tutela.server.reports.schemas import ReportOut

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
FIXTURES = Path(__file__).parents[2] / "scanner" / "sources" / "fixtures"
LEFT_OUT = "nested template at resources[1] is an expression: its resources are not evaluated"


def template(*resources: Any) -> bytes:
    document = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": list(resources)}
    return json.dumps(document).encode()


def iac(platform: Platform, tenant: TenantCtx, content: bytes, **params: str) -> httpx.Response:
    response: httpx.Response = platform.client.post(
        "/scan/iac",
        headers={**tenant.headers, "content-type": "application/json"},
        content=content,
        params=params,
    )
    assert response.status_code == 200, response.text
    return response


def stored(platform: Platform, tenant: TenantCtx, report_id: str) -> dict[str, Any]:
    response = platform.client.get(f"/report/{report_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def test_a_template_construct_left_out_is_noted_in_the_stored_report(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    report = iac(platform, tenant, template(ACCOUNT, NESTED)).json()

    assert report["notes"] == [LEFT_OUT]
    assert report["findings"]  # the rest of the template is scanned
    ReportOut.model_validate(report)
    assert stored(platform, tenant, report["report_id"])["notes"] == [LEFT_OUT]


def test_a_plans_unsupported_types_are_noted(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    plan = (FIXTURES / "tf_plan_ai_landing_zone.json").read_bytes()
    report = iac(platform, tenant, plan, dry_run="true").json()

    assert report["notes"] == ["1 resources of unsupported types skipped (1 azurerm_subnet)"]


def test_a_body_read_in_full_has_no_notes(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    # Earlier bodies' notes (a plan's skipped types, a template's construct) are not this one's.
    iac(platform, tenant, (FIXTURES / "tf_plan_ai_landing_zone.json").read_bytes(), dry_run="true")
    iac(platform, tenant, template(ACCOUNT, NESTED), dry_run="true")
    report = iac(platform, tenant, template(ACCOUNT)).json()

    assert "notes" not in report, report.get("notes")
    assert "notes" not in stored(platform, tenant, report["report_id"])
