"""Estates for scan and report tests: the bundled sample, one subscription at a time, and clean.

The sample (Contoso Bank) is a Resource Graph export of two subscriptions; ``sample_records``
gives one subscription's records as its snapshot must hold them. Its only critical failures are
an anonymous-pull container registry and an AKS cluster without Kubernetes RBAC, both in the dev
subscription; ``clean_records`` fixes those two settings, nothing else, so a clean estate is
the sample minus its critical findings (high, medium and low ones remain).
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from typing import Any, Final

import httpx
import orjson

from tests.platform import Platform, TenantCtx
from tests.scanner.sources.replay import ReplayTransport
from tutela.scanner.estate import Estate
from tutela.scanner.samples import sample_estate_path
from tutela.scanner.scan import run_scan
from tutela.scanner.sources.arg import resources_from_arg
from tutela.server.snapshots.service import split_export

PROD: Final = "4f8c2a91-6d3b-4e7f-a250-9c1e8b3d7f64"
DEV: Final = "b3e71d05-9a42-4c8e-8f1b-2d6a0c5e9f37"  # holds the sample's critical failures
# The service principal and subscription of the recorded Azure answers (tests/scanner/sources/
# recordings): a live scan signs in with these and reads the recorded estate.
AZURE_TENANT: Final = "9b1f3c2d-4e5a-4f60-8a7b-6c5d4e3f2a10"
AZURE_CLIENT: Final = "5e7d9c1b-2a3f-4e6d-8b9c-0f1e2d3c4b5a"
AZURE_SUBSCRIPTION: Final = "3f2b8c1e-5d4a-4b7e-9c6f-2a1d0e8b7c54"
RECORDED_SECRET: Final = "Qx8~kTn3.Vb_q2RzW7yHc-9LmPdF4sJe"
ANONYMOUS_REGISTRY: Final = "crcbkmldev"  # ACR-ANON-PULL, critical
CLUSTER_WITHOUT_RBAC: Final = "aks-cbk-dev"  # AKS-RBAC, critical

# The fix of each critical misconfiguration of the sample: resource type → property → value.
_CRITICAL_FIXES: Final[dict[str, dict[str, Any]]] = {
    "microsoft.containerregistry/registries": {"anonymousPullEnabled": False},
    "microsoft.containerservice/managedclusters": {"enableRBAC": True},
}


@cache
def _sample_parts() -> dict[str, list[dict[str, Any]]]:
    return split_export(orjson.loads(sample_estate_path().read_bytes()))


def sample_subscriptions() -> list[str]:
    return list(_sample_parts())


def sample_records(subscription_id: str = DEV) -> list[dict[str, Any]]:
    """A fresh copy of the sample's records of one subscription (and those of none)."""
    return copy.deepcopy(_sample_parts()[subscription_id])


def clean_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with every critical misconfiguration of the sample fixed."""
    fixed = copy.deepcopy(records)
    for record in fixed:
        for name, value in _CRITICAL_FIXES.get(str(record["type"]).lower(), {}).items():
            record["properties"][name] = value
    return fixed


def export(records: list[dict[str, Any]]) -> dict[str, Any]:
    """As ``az graph query -o json`` prints it."""
    return {"count": len(records), "data": records, "skip_token": None}


def offline_report(
    records: list[dict[str, Any]], frameworks: list[str], scan_ts: dt.datetime
) -> dict[str, Any]:
    """What the scanner itself makes of the records, without the server."""
    estate = Estate(resources_from_arg(export(records), "test"))
    return run_scan(estate, frameworks, scan_ts=scan_ts)[1].to_dict()


def link(platform: Platform, tenant: TenantCtx, *subscription_ids: str) -> None:
    response = platform.client.put(
        "/tenant/subscriptions",
        headers=tenant.headers,
        json={"subscription_ids": list(subscription_ids)},
    )
    assert response.status_code == 200, response.text


def upload_snapshot(
    platform: Platform, tenant: TenantCtx, subscription_id: str, records: list[dict[str, Any]]
) -> None:
    response: httpx.Response = platform.client.put(
        f"/tenant/subscriptions/{subscription_id}/snapshot",
        headers=tenant.headers,
        json=export(records),
    )
    assert response.status_code == 200, response.text


def link_sample_snapshot(
    platform: Platform, tenant: TenantCtx, subscription_id: str = DEV, *, clean: bool = False
) -> str:
    """Link one sample subscription (only it) and upload its records (fixed if clean)."""
    link(platform, tenant, subscription_id)
    records = sample_records(subscription_id)
    upload_snapshot(platform, tenant, subscription_id, clean_records(records) if clean else records)
    return subscription_id


def scan(
    platform: Platform, tenant: TenantCtx, frameworks: list[str] | None = None, **body: Any
) -> dict[str, Any]:
    """POST /scan that must succeed; the report."""
    response = platform.client.post(
        "/scan",
        headers=tenant.headers,
        json={"frameworks": frameworks or ["iso42001", "sr11_7"], **body},
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def scan_count(platform: Platform, tenant: TenantCtx) -> int:
    response = platform.client.get("/tenant/me", headers=tenant.headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["scan_count"]
    return count


def listed(platform: Platform, tenant: TenantCtx, **params: Any) -> list[dict[str, Any]]:
    """GET /reports' items (one page)."""
    response = platform.client.get("/reports", headers=tenant.headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def live_tenant(
    platform: Platform,
    plan: str = "enterprise",
    *,
    transport: ReplayTransport | None = None,
    secret: str = RECORDED_SECRET,
) -> TenantCtx:
    """A tenant of ``plan`` whose recorded subscription is read live with stored credentials.

    ``transport`` answers for Azure (None: the runtime's as it is, e.g. unreachable).
    """
    tenant = platform.tenant(plan)
    link(platform, tenant, AZURE_SUBSCRIPTION)
    stored = platform.client.put(
        "/tenant/credentials",
        headers=tenant.headers,
        json={"tenant_id": AZURE_TENANT, "client_id": AZURE_CLIENT, "client_secret": secret},
    )
    assert stored.status_code == 200, stored.text
    if transport is not None:
        platform.runtime.azure_transport = transport
    return tenant
