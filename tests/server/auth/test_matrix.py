"""The auth matrix, generated from the app's routes: a new route is covered without a new test.

Every route of the public and the admin app is called with each kind of bad credential and must
answer with the right status; routes that address an object by id answer 404 to another
tenant's key. A route without an ``Authorize`` dependency must be on the public list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from tests.platform import Platform, TenantCtx, auth
from tests.server.sso.provider import LocalProvider
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import ROLE_SCOPES, Role, Scope
from tutela.server.auth.tokens import generate_key
from tutela.server.openapi import api_routes, find_authorize
from tutela.server.sso.service import redirect_uri

PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/health/ready"),  # readiness for load balancers (docs/observability.md)
    # Signing in to the portal: before a session exists, or on the session cookie itself
    # (tests/server/auth/test_sessions.py).
    ("POST", "/auth/sign-in"),
    ("GET", "/auth/session"),
    ("POST", "/auth/sign-out"),
    ("POST", "/auth/password-reset"),
    ("POST", "/auth/password-reset/confirm"),
    ("POST", "/auth/invitations/accept"),
    # Single sign-on: a browser on its way to the identity provider and back
    # (tests/server/sso/test_sign_in.py).
    ("GET", "/auth/sso/start"),
    ("GET", "/auth/sso/callback"),
}
SNAPSHOT_SUBSCRIPTION = "5a0e9c4d-2b7f-4d1a-8e63-0c9f1b2d3e4a"
# Tenant A's risk exception, requested by a member so that the owner may approve it.
EXCEPTION: dict[str, object] = {
    "check_id": "ACR-ANON-PULL",
    "resource": "/subscriptions/*/resourceGroups/rg-matrix/*",
    "reason": "matrix",
    "expires": (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat(),
}

# A valid body for every operation that takes one, so a 404 is not masked by a 422.
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/api-keys"): {"name": "matrix", "scopes": ["tenant:read"]},
    ("PATCH", "/api-keys/{key_id}"): {"name": "renamed"},
    # Keeps tenant A's subscription linked, for the snapshot routes called after it.
    ("PUT", "/tenant/subscriptions"): {"subscription_ids": [SNAPSHOT_SUBSCRIPTION]},
    ("PUT", "/tenant/subscriptions/{subscription_id}/snapshot"): {
        "data": [
            {
                "id": f"/subscriptions/{SNAPSHOT_SUBSCRIPTION}/resourceGroups/rg"
                "/providers/Microsoft.Storage/storageAccounts/stmatrix",
                "type": "microsoft.storage/storageaccounts",
            }
        ]
    },
    ("POST", "/scan"): {"frameworks": ["iso42001"], "scan_label": "matrix"},
    ("POST", "/scan/dry-run"): {"frameworks": ["iso42001"]},
    ("POST", "/scan/iac"): {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [],
    },
    # "{report_id}" is replaced by the path value of that name, like a path parameter.
    ("POST", "/reports/diff"): {"report_a": "{report_id}", "report_b": "{report_id}"},
    ("PUT", "/governance"): {"cadence": "daily"},
    ("PUT", "/tenant/house-policy"): {"review_period_days": 180},
    ("POST", "/exceptions"): EXCEPTION,
    # The reason it has: a change to nothing, so the owner stays free to approve it.
    ("PATCH", "/exceptions/{exception_id}"): {"reason": EXCEPTION["reason"]},
    ("DELETE", "/governance/history"): {"selective": False},
    ("DELETE", "/reports"): {"selective": False},
    ("PUT", "/tenant/credentials"): {
        "tenant_id": "8d2bf1a4-4c1e-4f0e-9d6c-1f2e3a4b5c6d",
        "client_id": "0b6c2f4e-7a1d-4e8b-9c3f-5d6e7f8a9b0c",
        "client_secret": "matrix-secret~at-least-32-characters",
    },
    # No vault answers in this test: a 400 (connectivity test failed) or a 409 (no credentials).
    ("POST", "/tenant/encryption/cmk"): {
        "key_vault_url": "https://kv-matrix.vault.azure.net/",
        "key_vault_secret_name": "matrix-key",
    },
    ("POST", "/tenant/users"): {"email": "matrix@example.com", "role": "member"},
    # The path's user is tenant A's owner, whose role never changes: 409 past auth.
    ("PUT", "/tenant/users/{user_id}/role"): {"role": "member"},
    # The local OpenID provider's issuer (path_values): its discovery document must answer.
    ("PUT", "/tenant/sso"): {
        "issuer": "{issuer}",
        "client_id": "matrix",
        "client_secret": "m" * 40,
    },
    ("POST", "/admin/tenants"): {"owner_email": "new@example.com", "plan": "starter"},
    ("PUT", "/admin/tenants/{tenant_id}/plan"): {"plan": "professional"},
    ("POST", "/admin/tenants/{tenant_id}/users"): {"email": "new@example.com", "role": "member"},
    ("PUT", "/admin/tenants/{tenant_id}/users/{user_id}/role"): {"role": "owner"},
    ("POST", "/admin/tenants/{tenant_id}/purge"): {"confirm_tenant_id": "{tenant_id}"},
    # A reset to the default: a shared PostgreSQL database keeps its platform settings as they were.
    ("PATCH", "/admin/settings"): {"email_from": None},
}

# Required query parameters, filled like BODIES.
QUERIES: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "/reports/diff"): {"report_a": "{report_id}", "report_b": "{report_id}"},
    ("POST", "/tenant/encryption/confirm-pmk"): {"token": "matrix-token"},
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as declared, with {params}
    authorize: Authorize | None
    has_body: bool

    def url(self, values: dict[str, str]) -> str:
        url = self.path
        for name, value in values.items():
            url = url.replace("{" + name + "}", value)
        assert "{" not in url, f"no test value for a path parameter of {self.path}: add one"
        return url

    @property
    def addresses_object(self) -> bool:
        return "{" in self.path


def endpoints(app: FastAPI, prefix: str = "") -> list[Endpoint]:
    """Every documented operation of the app and of the apps mounted in it."""
    found = [
        Endpoint(
            method, prefix + path, find_authorize(route.dependant), route.body_field is not None
        )
        for path, route in api_routes(app)
        if route.include_in_schema
        for method in sorted(route.methods)
    ]
    for mount in app.routes:
        if isinstance(mount, Mount) and isinstance(mount.app, FastAPI):
            found += endpoints(mount.app, prefix + mount.path)
    return found


def protected(platform: Platform) -> list[Endpoint]:
    return [e for e in endpoints(platform.app) if e.authorize is not None]


@pytest.fixture
def tenant_a(platform: Platform) -> TenantCtx:
    return platform.tenant("enterprise")


@pytest.fixture
def platform(settings_factory: Any) -> Iterator[Platform]:
    """The API, allowing the local OpenID provider (on this machine) as a tenant's SSO."""
    with Platform(settings_factory(sso_allow_internal_providers=True)) as running:
        yield running


@pytest.fixture
def provider(platform: Platform) -> Iterator[LocalProvider]:
    with LocalProvider(redirect_uri(platform.settings)) as running:
        yield running


@pytest.fixture
def path_values(platform: Platform, tenant_a: TenantCtx, provider: LocalProvider) -> dict[str, str]:
    """Real ids of tenant A's objects, for every path parameter the API uses (and the body
    values that must be real too)."""
    victim = platform.key(tenant_a, [Scope.TENANT_READ])
    linked = platform.client.put(
        "/tenant/subscriptions",
        headers=tenant_a.headers,
        json={"subscription_ids": [SNAPSHOT_SUBSCRIPTION]},
    )
    snapshot = platform.client.put(
        f"/tenant/subscriptions/{SNAPSHOT_SUBSCRIPTION}/snapshot",
        headers=tenant_a.headers,
        json=BODIES[("PUT", "/tenant/subscriptions/{subscription_id}/snapshot")],
    )
    assert (linked.status_code, snapshot.status_code) == (200, 200), snapshot.text
    report = platform.client.post("/scan", headers=tenant_a.headers, json={"frameworks": ["sox"]})
    assert report.status_code == 200, report.text
    _, member_key = platform.user(tenant_a, "member")
    exception = platform.client.post("/exceptions", headers=auth(member_key), json=EXCEPTION)
    assert exception.status_code == 201, exception.text
    return {
        "key_id": platform.key_id(victim),
        "tenant_id": tenant_a.id,
        "user_id": tenant_a.owner_id,
        "subscription_id": SNAPSHOT_SUBSCRIPTION,
        "report_id": report.json()["report_id"],
        "fmt": "azcli",
        "issuer": provider.issuer,
        "exception_id": exception.json()["id"],
    }


def _filled(value: object, values: dict[str, str]) -> object:
    if isinstance(value, str):
        for name, replacement in values.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    return value


def call(
    platform: Platform,
    endpoint: Endpoint,
    url: str,
    headers: dict[str, str],
    values: dict[str, str] | None = None,
) -> int:
    body = BODIES.get((endpoint.method, endpoint.path))
    assert body is not None or not endpoint.has_body, f"add a body for {endpoint} to BODIES"
    payload = _filled(body, values or {}) if body is not None else None
    query = QUERIES.get((endpoint.method, endpoint.path))
    params = _filled(query, values or {}) if query is not None else None
    return platform.client.request(
        endpoint.method,
        url,
        headers=headers,
        json=payload,
        params=params,  # type: ignore[arg-type]
    ).status_code


def check_all(
    platform: Platform,
    path_values: dict[str, str],
    headers_for: Callable[[Endpoint], dict[str, str] | None],
    expected: int,
) -> None:
    failures = []
    checked = 0
    for endpoint in protected(platform):
        headers = headers_for(endpoint)
        if headers is None:
            continue
        status = call(platform, endpoint, endpoint.url(path_values), headers, path_values)
        checked += 1
        if status != expected:
            failures.append(f"{endpoint.method} {endpoint.path}: {status}")
    assert checked > 0
    assert not failures, f"expected {expected} from:\n" + "\n".join(failures)


def test_every_route_is_protected_or_declared_public(platform: Platform) -> None:
    unprotected = {(e.method, e.path) for e in endpoints(platform.app) if e.authorize is None}
    assert unprotected == PUBLIC_ROUTES
    assert len(protected(platform)) >= 20  # public and admin routes are both enumerated


def test_no_key(platform: Platform, path_values: dict[str, str]) -> None:
    check_all(platform, path_values, lambda _: {}, 401)


def test_malformed_key(platform: Platform, path_values: dict[str, str]) -> None:
    check_all(platform, path_values, lambda _: auth("not-a-key"), 401)


def test_bad_checksum(platform: Platform, tenant_a: TenantCtx, path_values: dict[str, str]) -> None:
    key = tenant_a.owner_key
    typo = key[:-1] + ("A" if key[-1] != "A" else "B")
    check_all(platform, path_values, lambda _: auth(typo), 401)


def test_unknown_key(platform: Platform, path_values: dict[str, str]) -> None:
    stranger = generate_key()
    check_all(platform, path_values, lambda _: auth(stranger), 401)


def test_expired_key(platform: Platform, tenant_a: TenantCtx, path_values: dict[str, str]) -> None:
    platform.expire(tenant_a.owner_key)
    check_all(platform, path_values, lambda _: auth(tenant_a.owner_key), 401)


def test_revoked_key(platform: Platform, tenant_a: TenantCtx, path_values: dict[str, str]) -> None:
    key = platform.key(tenant_a, ROLE_SCOPES[Role.OWNER])
    response = platform.client.delete(f"/api-keys/{platform.key_id(key)}", headers=auth(key))
    assert response.status_code == 200
    check_all(platform, path_values, lambda _: auth(key), 401)


def test_wrong_scope(platform: Platform, tenant_a: TenantCtx, path_values: dict[str, str]) -> None:
    owner_scopes = ROLE_SCOPES[Role.OWNER]
    keys: dict[frozenset[Scope], str] = {}  # one key per scope set: a user's live keys are capped

    def key_without(endpoint: Endpoint) -> dict[str, str] | None:
        assert endpoint.authorize is not None
        required = endpoint.authorize.scopes
        if not required:
            return None  # any valid key may call it
        others = owner_scopes - required
        if others not in keys:
            keys[others] = platform.key(tenant_a, others)
        return auth(keys[others])

    check_all(platform, path_values, key_without, 403)


def test_suspended_tenant(platform: Platform, path_values: dict[str, str]) -> None:
    suspended = platform.tenant("enterprise")
    response = platform.client.post(
        f"/admin/tenants/{suspended.id}/suspend", headers=auth(platform.operator_key())
    )
    assert response.status_code == 200
    check_all(platform, path_values, lambda _: suspended.headers, 403)


def test_another_tenants_key_sees_404(platform: Platform, path_values: dict[str, str]) -> None:
    other = platform.tenant("enterprise")

    def tenant_object_routes(endpoint: Endpoint) -> dict[str, str] | None:
        is_tenant_route = not endpoint.path.startswith("/admin")
        return other.headers if is_tenant_route and endpoint.addresses_object else None

    check_all(platform, path_values, tenant_object_routes, 404)


def test_right_key_passes_auth(
    platform: Platform, tenant_a: TenantCtx, path_values: dict[str, str]
) -> None:
    """The positive control: the same calls with a sufficient key are not refused by auth."""
    operator = auth(platform.operator_key())
    failures = []
    # Revoking the path's key comes last, so the other routes still find it.
    # Deleting tenant A itself comes last of all: its own keys are refused from then on.
    for endpoint in sorted(
        protected(platform),
        key=lambda e: (e.method == "DELETE", e.path == "/admin/tenants/{tenant_id}"),
    ):
        headers = operator if endpoint.path.startswith("/admin") else tenant_a.headers
        status = call(platform, endpoint, endpoint.url(path_values), headers, path_values)
        if status in (401, 403, 404, 422):
            failures.append(f"{endpoint.method} {endpoint.path}: {status}")
    assert not failures, "\n".join(failures)
