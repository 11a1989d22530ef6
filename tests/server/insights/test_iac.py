"""GET /report/{id}/iac and /iac/{fmt}: availability, the azcli script, formats, plan gates."""

from __future__ import annotations

from tests.platform import Platform
from tests.server.insights.helpers import sample_document, stored


def test_availability_and_the_azcli_script(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    report_id = stored(platform, tenant, document=document)
    body = platform.client.get(f"/report/{report_id}/iac", headers=tenant.headers).json()
    assert body["report_id"] == report_id
    assert body["iac_available"] is True
    assert body["formats"] == ["azcli"]
    assert 0 < body["finding_count"] <= len(document["findings"])

    script = platform.client.get(f"/report/{report_id}/iac/azcli", headers=tenant.headers)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/plain")
    assert script.text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in script.text
    first = document["findings"][0]
    assert first["resource"] in script.text


def test_formats_not_built_404_unknown_422(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    report_id = stored(platform, tenant)
    for fmt in ("arm", "bicep", "terraform"):
        r = platform.client.get(f"/report/{report_id}/iac/{fmt}", headers=tenant.headers)
        assert r.status_code == 404
        assert "not built yet" in r.json()["detail"]
    r = platform.client.get(f"/report/{report_id}/iac/pulumi", headers=tenant.headers)
    assert r.status_code == 422


def test_nothing_to_fix(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    document = sample_document()
    document["findings"] = []
    report_id = stored(platform, tenant, document=document)
    body = platform.client.get(f"/report/{report_id}/iac", headers=tenant.headers).json()
    assert (body["iac_available"], body["finding_count"], body["formats"]) == (False, 0, [])
    r = platform.client.get(f"/report/{report_id}/iac/azcli", headers=tenant.headers)
    assert r.status_code == 404
    assert "no finding" in r.json()["detail"]


def test_plan_gate_and_other_tenant(platform: Platform) -> None:
    pro = platform.tenant("professional")
    mine = stored(platform, pro)
    r = platform.client.get(f"/report/{mine}/iac", headers=pro.headers)
    assert r.status_code == 403
    owner, other = platform.tenant("enterprise"), platform.tenant("enterprise")
    theirs = stored(platform, owner)
    for path in ("iac", "iac/azcli"):
        r = platform.client.get(f"/report/{theirs}/{path}", headers=other.headers)
        assert r.status_code == 404
