"""GET/PUT /tenant/house-policy: defaults, changes, audit, tenancy, and every scan applying it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from tests.platform import Platform, TenantCtx, auth
from tests.server.scans.estates import link, upload_snapshot
from tutela.server.audit.models import AuditEvent
from tutela.server.governance.scans import run_due

SUBSCRIPTION = "6c1f0b2e-9d4a-4e7b-8f3c-2a5d1e0b9c47"
DEFAULTS = {
    "review_period_days": 365,
    "review_period_days_by_tier": {"tier-1": 180, "high": 180},
    "risk_tiers": ["tier-1", "tier-2", "tier-3", "high", "medium", "low"],
    "inventory_tag_keys": {
        "model_owner": [],
        "risk_tier": [],
        "validation_date": [],
        "model_id": [],
    },
}


def inventoried_tags(days_since_validation: int) -> dict[str, str]:
    """Every inventory tag, the validation dated so many days before today (the scan date)."""
    validated = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_since_validation)
    return {
        "model-id": "MRM-0042",
        "model-owner": "credit-risk",
        "model-risk-tier": "tier-2",
        "model-validation-date": validated.isoformat(),
    }


def workspace_record(days_since_validation: int) -> dict[str, Any]:
    """A classic-ML workspace as a Resource Graph export holds it."""
    return {
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ml/providers"
        "/Microsoft.MachineLearningServices/workspaces/mlw-credit",
        "name": "mlw-credit",
        "type": "microsoft.machinelearningservices/workspaces",
        "kind": "Default",
        "location": "westeurope",
        "resourceGroup": "rg-ml",
        "subscriptionId": SUBSCRIPTION,
        "tags": inventoried_tags(days_since_validation),
        "properties": {},
    }


def house_policy(platform: Platform, tenant: TenantCtx) -> dict[str, Any]:
    response = platform.client.get("/tenant/house-policy", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def put(platform: Platform, tenant: TenantCtx, body: object) -> Any:
    return platform.client.put("/tenant/house-policy", headers=tenant.headers, json=body)


def changes(platform: Platform, tenant: TenantCtx) -> list[AuditEvent]:
    with platform.db() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.tenant_id == tenant.id, AuditEvent.action == "house_policy.changed"
                )
            )
        )


def review_periods(report: dict[str, Any]) -> list[Any]:
    """The house review period each INV-VALIDATION-DATE finding of a report shows."""
    return [
        evidence["value"]
        for finding in report["findings"]
        if finding["check_id"] == "INV-VALIDATION-DATE"
        for evidence in finding["evidence"]
        if evidence["path"] == "house review period (days)"
    ]


def test_the_defaults_until_set_then_the_tenant_s_settings(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("starter")
    body = house_policy(platform, tenant)
    assert {k: body[k] for k in DEFAULTS} == DEFAULTS
    assert (body["customised"], body["updated_at"], body["defaults"]) == (False, None, DEFAULTS)
    assert "not a regulatory requirement" in body["basis"]

    response = put(platform, tenant, {"review_period_days": 180})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["review_period_days"] == 180
    assert changed["review_period_days_by_tier"] == DEFAULTS["review_period_days_by_tier"]
    assert (changed["customised"], changed["defaults"]) == (True, DEFAULTS)
    assert changed["updated_at"] is not None
    assert house_policy(platform, tenant) == changed

    tiers = put(
        platform,
        tenant,
        {"risk_tiers": ["gold", "silver"], "review_period_days_by_tier": {"Gold": 90}},
    ).json()
    assert (tiers["review_period_days"], tiers["risk_tiers"]) == (180, ["gold", "silver"])
    assert put(platform, tenant, {"review_period_days": 180}).status_code == 200  # no change
    first, second = sorted(changes(platform, tenant), key=lambda e: e.created_at)
    assert first.details == {"before": DEFAULTS, "after": {**DEFAULTS, "review_period_days": 180}}
    assert second.details["after"] == {
        "review_period_days": 180,
        "review_period_days_by_tier": {"Gold": 90},
        "risk_tiers": ["gold", "silver"],
        "inventory_tag_keys": DEFAULTS["inventory_tag_keys"],
    }
    assert first.actor.startswith("owner")
    assert "(key tut_" in first.actor


def test_another_tenant_neither_reads_nor_changes_it(any_platform: Platform) -> None:
    platform = any_platform
    a, b = platform.tenant("enterprise"), platform.tenant("enterprise")
    assert put(platform, a, {"review_period_days": 90}).status_code == 200
    assert house_policy(platform, b)["review_period_days"] == 365
    assert put(platform, b, {"review_period_days": 700}).status_code == 200
    assert house_policy(platform, a)["review_period_days"] == 90
    assert house_policy(platform, b)["review_period_days"] == 700
    assert [e.details["after"]["review_period_days"] for e in changes(platform, b)] == [700]


def test_invalid_settings_are_refused_and_nothing_is_stored(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    cases: list[tuple[object, list[str | int]]] = [
        ({"review_period_days": 0}, ["body", "review_period_days"]),
        ({"review_period_days": 3651}, ["body", "review_period_days"]),
        ({"review_period_days": "180"}, ["body", "review_period_days"]),
        ({"review_period_days": 180.5}, ["body", "review_period_days"]),
        ({"risk_tiers": []}, ["body", "risk_tiers"]),
        ({"risk_tiers": ["high", "High"]}, ["body", "risk_tiers"]),
        ({"review_period_days_by_tier": {"tier-1": "90"}}, ["body", "review_period_days_by_tier"]),
        ({"reviewPeriodDays": 180}, ["body", "reviewPeriodDays"]),
        (
            {"review_period_days_by_tier": {"hi\u0007gh": 30}},
            ["body", "review_period_days_by_tier"],
        ),
    ]
    for body, loc in cases:
        response = put(platform, tenant, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"][: len(loc)] == loc, body
    # Valid alone, but the default tier periods name tiers this list drops.
    orphaned = put(platform, tenant, {"risk_tiers": ["gold"]})
    assert orphaned.status_code == 422
    [error] = orphaned.json()["detail"]
    assert error["loc"] == ["body"]
    assert "review_period_days_by_tier names a tier that is not in risk_tiers" in error["msg"]
    assert house_policy(platform, tenant)["customised"] is False
    assert changes(platform, tenant) == []


def test_members_read_it_and_only_tenant_writers_change_it(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    _, member_key = platform.user(tenant, "member")
    read = platform.client.get("/tenant/house-policy", headers=auth(member_key))
    assert read.status_code == 200
    refused = platform.client.put(
        "/tenant/house-policy", headers=auth(member_key), json={"review_period_days": 30}
    )
    assert refused.status_code == 403
    assert house_policy(platform, tenant)["review_period_days"] == 365


def test_manual_scans_apply_the_tenant_s_policy(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    link(platform, tenant, SUBSCRIPTION)
    upload_snapshot(platform, tenant, SUBSCRIPTION, [workspace_record(200)])
    body = {"frameworks": ["sr11_7"]}

    def dry_run() -> dict[str, Any]:
        response = platform.client.post("/scan/dry-run", headers=tenant.headers, json=body)
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    assert review_periods(dry_run()) == []  # 200 days: within the default 365
    assert put(platform, tenant, {"review_period_days": 180}).status_code == 200
    assert review_periods(dry_run()) == [180]

    saved = platform.client.post("/scan", headers=tenant.headers, json=body)
    assert saved.status_code == 200, saved.text
    report_id = saved.json()["report_id"]
    stored = platform.client.get(f"/report/{report_id}", headers=tenant.headers).json()
    assert review_periods(stored) == [180]

    other = platform.tenant("enterprise")  # same estate, default policy: no finding
    link(platform, other, SUBSCRIPTION)
    upload_snapshot(platform, other, SUBSCRIPTION, [workspace_record(200)])
    response = platform.client.post("/scan/dry-run", headers=other.headers, json=body)
    assert review_periods(response.json()) == []


def test_iac_scans_apply_the_tenant_s_policy(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.MachineLearningServices/workspaces",
                "apiVersion": "2024-10-01",
                "name": "mlw-credit",
                "location": "westeurope",
                "kind": "Default",
                "tags": inventoried_tags(200),
                "properties": {},
            }
        ],
    }

    def iac() -> dict[str, Any]:
        response = platform.client.post(
            "/scan/iac",
            headers={**tenant.headers, "content-type": "application/json"},
            content=json.dumps(template).encode(),
            params={"frameworks": "sr11_7", "dry_run": "true"},
        )
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    assert review_periods(iac()) == []
    put(platform, tenant, {"review_period_days": 150})
    assert review_periods(iac()) == [150]


def test_governance_scans_apply_the_tenant_s_policy(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    link(platform, tenant, SUBSCRIPTION)
    upload_snapshot(platform, tenant, SUBSCRIPTION, [workspace_record(200)])
    put(platform, tenant, {"review_period_days": 180})
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    [outcome] = [o for o in run_due(platform.runtime, now) if o.tenant_id == tenant.id]
    assert outcome.status == "scanned", outcome
    report = platform.client.get(f"/report/{outcome.report_id}", headers=tenant.headers).json()
    # Every framework of the plan, one finding per control that the check evidences.
    assert set(review_periods(report)) == {180}


def test_the_tenant_s_own_tag_names_decide_its_scans(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    record = workspace_record(30)
    record["tags"] = {**record["tags"], "x-mrm-ref": "MRM-0042"}
    del record["tags"]["model-id"]
    link(platform, tenant, SUBSCRIPTION)
    upload_snapshot(platform, tenant, SUBSCRIPTION, [record])

    def model_id_findings() -> list[str]:
        response = platform.client.post(
            "/scan/dry-run", headers=tenant.headers, json={"frameworks": ["sr11_7"]}
        )
        assert response.status_code == 200, response.text
        return [
            f["resource_name"]
            for f in response.json()["findings"]
            if f["check_id"] == "INV-MODEL-ID"
        ]

    assert model_id_findings() == ["mlw-credit"]  # x-mrm-ref is no alias of the checks
    keys = {"model_id": ["x-mrm-ref"], "model_owner": ["mrm-contact"]}
    response = put(platform, tenant, {"inventory_tag_keys": keys})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["inventory_tag_keys"] == {**DEFAULTS["inventory_tag_keys"], **keys}
    assert body["customised"] is True
    assert body["review_period_days"] == 365  # the other settings keep their value
    assert model_id_findings() == []
    [change] = changes(platform, tenant)
    assert change.details["after"]["inventory_tag_keys"]["model_id"] == ["x-mrm-ref"]

    # The object is replaced whole: a list left out is empty.
    cleared = put(platform, tenant, {"inventory_tag_keys": {"model_owner": ["mrm-contact"]}})
    assert cleared.json()["inventory_tag_keys"]["model_id"] == []
    assert model_id_findings() == ["mlw-credit"]


def test_invalid_tag_names_are_refused_without_echoing_them(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    cases: list[tuple[object, list[str | int]]] = [
        (
            {"inventory_tag_keys": {"model_id": [f"k{i}" for i in range(21)]}},
            ["body", "inventory_tag_keys", "model_id"],
        ),
        (
            {"inventory_tag_keys": {"model_id": ["k" * 513]}},
            ["body", "inventory_tag_keys", "model_id"],
        ),
        ({"inventory_tag_keys": {"model_id": [7]}}, ["body", "inventory_tag_keys", "model_id"]),
        ({"inventory_tag_keys": {"model_ids": ["x"]}}, ["body", "inventory_tag_keys", "model_ids"]),
        ({"inventory_tag_keys": ["x-mrm-ref"]}, ["body", "inventory_tag_keys"]),
    ]
    for body, loc in cases:
        response = put(platform, tenant, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"][: len(loc)] == loc, body
    for keys, problem in (
        ({"risk_tier": ["secret<tag>"]}, "a tag name cannot hold any of < > % & \\ ? /"),
        ({"validation_date": ["Validated", "VALIDATED"]}, "tag names must differ"),
    ):
        response = put(platform, tenant, {"inventory_tag_keys": keys})
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        field = next(iter(keys))
        assert error["loc"] == ["body", "inventory_tag_keys", field]
        assert problem in error["msg"]
        assert "secret" not in response.text
        assert "VALIDATED" not in response.text
    assert house_policy(platform, tenant)["customised"] is False
    assert changes(platform, tenant) == []
