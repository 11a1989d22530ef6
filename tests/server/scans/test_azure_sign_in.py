"""A live scan whose Azure sign-in is refused is a 422, tried once; a network failure stays 502.

Azure is a recorded transport (``tests/scanner/sources/recordings``) handed to the runtime, as
in the other live-scan tests; the SDK goes through a real uvicorn server.
"""

from __future__ import annotations

import pytest

from tests.platform import Platform, TenantCtx
from tests.scanner.sources.replay import ReplayTransport
from tests.server.scans.estates import (
    AZURE_CLIENT,
    AZURE_SUBSCRIPTION,
    AZURE_TENANT,
    RECORDED_SECRET,
    live_tenant,
    scan_count,
)
from tests.server.scans.test_quota import serving
from tutela import Session
from tutela.scanner.sources.azure import read_live_estate
from tutela.scanner.sources.azure_identity import AzureSourceError
from tutela.sdk import ValidationError
from tutela.server.tenants.service import AzureCredentials

WRONG_SECRET = "Wr0ng~Secret.Value-9Xq2LmPdF4sJeQx8kTn3Vb"  # 40 characters, like Azure's
TOKEN_PATH = f"/{AZURE_TENANT}/oauth2/v2.0/token"


def with_credentials(platform: Platform, transport: ReplayTransport | None) -> TenantCtx:
    return live_tenant(platform, "starter", transport=transport, secret=WRONG_SECRET)


def sign_ins(transport: ReplayTransport) -> int:
    return sum(1 for request in transport.requests if TOKEN_PATH in request.url)


def test_a_refused_sign_in_is_422_naming_the_credentials(platform: Platform) -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json", "sign_in_invalid_secret.json")
    tenant = with_credentials(platform, transport)

    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )

    assert response.status_code == 422, response.text
    assert "retry-after" not in response.headers
    detail = response.json()["detail"]
    assert detail.startswith("Azure rejected the stored credentials: sign-in failed for service")
    assert "AADSTS7000215: Invalid client secret provided." in detail
    assert "PUT /tenant/credentials" in detail
    assert WRONG_SECRET not in response.text
    assert scan_count(platform, tenant) == 0


def test_the_sdk_tries_a_refused_sign_in_once(platform: Platform) -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json", "sign_in_invalid_secret.json")
    tenant = with_credentials(platform, transport)

    with (
        serving(platform.app) as base_url,
        Session(base_url, tenant.owner_key, retries=2) as session,
        pytest.raises(ValidationError) as raised,
    ):
        session.scans.run(["iso42001"])

    assert raised.value.status_code == 422
    assert WRONG_SECRET not in str(raised.value)
    assert sign_ins(transport) == 1  # not once per attempt
    assert scan_count(platform, tenant) == 0


@pytest.mark.usefixtures("azure_unreachable")
def test_an_unanswered_sign_in_stays_502(platform: Platform) -> None:
    tenant = with_credentials(platform, None)

    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )

    assert response.status_code == 502, response.text
    assert response.json()["detail"].startswith("Azure could not be scanned: sign-in failed")


@pytest.mark.parametrize(
    ("tenant_id", "recordings", "rejected"),
    [
        (AZURE_TENANT, ("sign_in.json", "estate.json", "sign_in_invalid_secret.json"), True),
        ("not a tenant/id", ("sign_in.json",), True),  # refused before any request
        (AZURE_TENANT, ("sign_in.json", "estate.json", "graph_unreachable.json"), False),
    ],
    ids=["aadsts-answer", "malformed-tenant", "network"],
)
def test_only_the_identity_platforms_refusal_marks_the_credentials(
    tenant_id: str, recordings: tuple[str, ...], rejected: bool
) -> None:
    credentials = AzureCredentials(tenant_id, AZURE_CLIENT, WRONG_SECRET)
    if not rejected:
        credentials = AzureCredentials(tenant_id, AZURE_CLIENT, RECORDED_SECRET)
    with pytest.raises(AzureSourceError) as raised:
        read_live_estate(
            credentials, [AZURE_SUBSCRIPTION], transport=ReplayTransport.of(*recordings)
        )
    assert raised.value.credentials_rejected is rejected
    assert WRONG_SECRET not in raised.value.problem


def test_a_throttled_sign_in_is_503_with_retry_after(platform: Platform) -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json", "sign_in_throttled.json")
    tenant = with_credentials(platform, transport)

    response = platform.client.post(
        "/scan", headers=tenant.headers, json={"frameworks": ["iso42001"]}
    )

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "60"
    assert "AADSTS90055" in response.json()["detail"]
