"""GET /report/{id}/iac and /iac/{fmt}: availability, the four formats, plan gates.

What each format's content does is proved by the renderers' own tests (scanned back, parsed,
executed); these check what the API serves, for a live estate's report and a plan's.
"""

from __future__ import annotations

import json
from pathlib import Path

import hcl2

from tests.platform import Platform
from tests.server.insights.helpers import sample_document, stored
from tutela.scanner.outputs.iac import split_files

PLAN = Path(__file__).parents[2] / "scanner/sources/fixtures/tf_plan_ai_landing_zone.json"


def test_availability_and_the_azcli_script(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    report_id = stored(platform, tenant, document=document)
    body = platform.client.get(f"/report/{report_id}/iac", headers=tenant.headers).json()
    assert body["report_id"] == report_id
    assert body["iac_available"] is True
    assert body["formats"] == ["arm", "bicep", "terraform", "azcli"]
    assert 0 < body["finding_count"] <= len(document["findings"])

    script = platform.client.get(f"/report/{report_id}/iac/azcli", headers=tenant.headers)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/plain")
    assert script.text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in script.text
    first = document["findings"][0]
    assert first["resource"] in script.text


def test_every_format_names_the_reports_resources(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    report_id = stored(platform, tenant, document=document)
    first = document["findings"][0]["resource"]
    served = {}
    for fmt, media, suffix in (
        ("arm", "application/json", "json"),
        ("bicep", "text/plain", "bicep"),
        ("terraform", "text/plain", "tf"),
        ("azcli", "text/plain", "sh"),
    ):
        r = platform.client.get(f"/report/{report_id}/iac/{fmt}", headers=tenant.headers)
        assert r.status_code == 200, (fmt, r.text)
        assert r.headers["content-type"].startswith(media)
        assert r.headers["content-disposition"].endswith(f'-remediation.{suffix}"')
        assert report_id in r.text
        served[fmt] = r.text
    template = json.loads(served["arm"])
    assert "subscriptionDeploymentTemplate" in template["$schema"]
    assert first in served["arm"]
    assert served["bicep"].lstrip().startswith(("//", "targetScope"))
    assert "targetScope = 'subscription'" in served["bicep"]
    files = split_files(served["terraform"])
    assert files
    for text in files.values():
        hcl2.loads(text)  # raises if it is not HCL
    assert "azapi_update_resource" in served["terraform"]
    assert first in served["terraform"]


def test_a_plans_report_is_fixed_in_the_plans_own_terms(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    scanned = platform.client.post("/scan/iac", content=PLAN.read_bytes(), headers=tenant.headers)
    assert scanned.status_code == 200, scanned.text
    report_id = scanned.json()["report_id"]
    terraform = platform.client.get(f"/report/{report_id}/iac/terraform", headers=tenant.headers)
    files = split_files(terraform.text)
    override = files["tutela_override.tf"]
    assert 'resource "azurerm_container_registry" "acr"' in override
    assert "admin_enabled" in override
    assert "azapi_update_resource" not in terraform.text
    # nothing is changed in place from a plan: the script and the template say where to fix it
    script = platform.client.get(f"/report/{report_id}/iac/azcli", headers=tenant.headers).text
    assert "az resource update --ids" not in script
    assert "Terraform plan's resource" in script
    template = platform.client.get(f"/report/{report_id}/iac/arm", headers=tenant.headers)
    assert "Microsoft.ContainerRegistry/registries" not in json.dumps(
        json.loads(template.text).get("resources", [])
    )


def test_an_unknown_format_is_422(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    report_id = stored(platform, tenant)
    r = platform.client.get(f"/report/{report_id}/iac/pulumi", headers=tenant.headers)
    assert r.status_code == 422
    assert "detail" in r.json()


def test_nothing_to_fix(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    document["findings"] = []
    report_id = stored(platform, tenant, document=document)
    body = platform.client.get(f"/report/{report_id}/iac", headers=tenant.headers).json()
    assert (body["iac_available"], body["finding_count"], body["formats"]) == (False, 0, [])
    for fmt in ("arm", "bicep", "terraform", "azcli"):
        r = platform.client.get(f"/report/{report_id}/iac/{fmt}", headers=tenant.headers)
        assert r.status_code == 404
        assert "no finding" in r.json()["detail"]


def test_plan_gate_and_other_tenant(platform: Platform) -> None:
    pro = platform.tenant("professional")
    mine = stored(platform, pro)
    r = platform.client.get(f"/report/{mine}/iac", headers=pro.headers)
    assert r.status_code == 403
    owner, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    theirs = stored(platform, owner)
    for path in ("iac", "iac/azcli", "iac/arm", "iac/bicep", "iac/terraform"):
        r = platform.client.get(f"/report/{theirs}/{path}", headers=other.headers)
        assert r.status_code == 404
