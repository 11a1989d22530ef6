"""A platform, a local OpenID provider registered with it, and a tenant whose owner signs in
through that provider."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.platform import Platform, TenantCtx
from tests.server.sso.provider import CLIENT_ID, CLIENT_SECRET, LocalProvider
from tutela.server.sso.service import redirect_uri
from tutela.server.tenants.models import User


@dataclass
class SsoTenant:
    tenant: TenantCtx
    email: str  # the owner's: the person the provider signs in


@pytest.fixture
def platform(settings_factory: Any) -> Iterator[Platform]:
    # The provider runs on this machine: an installation's own provider, which it allows.
    settings = settings_factory(sign_in_limit="1000/minute", sso_allow_internal_providers=True)
    with Platform(settings) as running:
        yield running


@pytest.fixture
def provider(platform: Platform) -> Iterator[LocalProvider]:
    with LocalProvider(redirect_uri(platform.settings)) as running:
        yield running


def configure(platform: Platform, tenant: TenantCtx, issuer: str, **settings: object) -> Any:
    body = {"issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **settings}
    return platform.client.put("/tenant/sso", json=body, headers=tenant.headers)


@pytest.fixture
def sso_tenant(platform: Platform, provider: LocalProvider) -> SsoTenant:
    tenant = platform.tenant("professional")
    with platform.db() as session:
        owner = session.get(User, tenant.owner_id)
        assert owner is not None
        email = owner.email
    response = configure(platform, tenant, provider.issuer)
    assert response.status_code == 200, response.text
    provider.claims = {"email": email, "email_verified": True}
    return SsoTenant(tenant, email)
