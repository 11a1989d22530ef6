"""The self-documenting API: Swagger UI, the public and admin OpenAPI documents, auth schemes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.platform import Platform

ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = {"get", "put", "post", "patch", "delete"}


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _error_schema(operation: dict[str, Any], code: str) -> dict[str, Any]:
    schema: dict[str, Any] = operation["responses"][code]["content"]["application/json"]["schema"]
    return schema


@pytest.fixture
def spec(platform: Platform) -> dict[str, Any]:
    response = platform.client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def admin_spec(platform: Platform) -> dict[str, Any]:
    response = platform.client.get("/admin/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_api_docs_is_swagger_ui_on_the_public_spec(platform: Platform) -> None:
    response = platform.client.get("/api-docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text.lower()
    assert "'/openapi.json'" in response.text


def test_the_spec_is_served_at_both_addresses(platform: Platform, spec: dict[str, Any]) -> None:
    alias = platform.client.get("/api/v1/api-docs")
    assert alias.status_code == 200
    assert alias.json() == spec
    assert spec["openapi"].startswith("3.")
    assert "/tenant/me" in spec["paths"]


def test_both_authentication_schemes_are_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"].values()
    assert {"type": "apiKey", "in": "header", "name": "X-API-Key"} in [
        {k: s.get(k) for k in ("type", "in", "name")} for s in schemes
    ]
    assert {"type": "http", "scheme": "bearer"} in [
        {k: s.get(k) for k in ("type", "scheme")} for s in schemes
    ]


def test_every_operation_has_summary_operation_id_and_error_responses(
    spec: dict[str, Any],
) -> None:
    operations = list(_operations(spec))
    assert len(operations) >= 10
    ids = [op["operationId"] for _, _, op in operations]
    assert len(set(ids)) == len(ids)
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("operationId"), where
        errors = [code for code in operation["responses"] if code[0] in "45"]
        assert "500" in errors, where
        for code in errors:
            assert _error_schema(operation, code) == {"$ref": ERROR_REF}, f"{where} {code}"


def test_authenticated_operations_document_scopes_plan_security_and_auth_errors(
    spec: dict[str, Any],
) -> None:
    scheme_names = set(spec["components"]["securitySchemes"])
    assert scheme_names == {"ApiKeyHeader", "BearerAuth", "SessionCookie"}
    checked = 0
    for path, method, operation in _operations(spec):
        if path in ("/health", "/health/ready") or path.startswith("/auth/"):
            continue
        where = f"{method.upper()} {path}"
        assert isinstance(operation.get("x-required-scopes"), list), where
        assert "Required scopes" in operation["description"], where
        assert "Minimum plan" in operation["description"], where
        named = {name for requirement in operation["security"] for name in requirement}
        assert named == scheme_names, where
        for code in ("401", "403", "429", "500"):
            assert _error_schema(operation, code) == {"$ref": ERROR_REF}, f"{where} {code}"
        checked += 1
    assert checked >= 10
    assert spec["paths"]["/tenant/me"]["get"]["x-required-scopes"] == ["tenant:read"]
    assert spec["paths"]["/tenant/subscriptions"]["put"]["x-required-scopes"] == ["tenant:write"]


@pytest.mark.parametrize("path", ["/health", "/health/ready"])
def test_health_needs_no_authentication(spec: dict[str, Any], path: str) -> None:
    health = spec["paths"][path]["get"]
    assert health["security"] == []
    assert "x-required-scopes" not in health
    assert "401" not in health["responses"]
    assert _error_schema(health, "503") == {"$ref": ERROR_REF}


def test_operations_with_a_body_document_413_and_422(spec: dict[str, Any]) -> None:
    with_body = [(p, m, op) for p, m, op in _operations(spec) if "requestBody" in op]
    assert {("/tenant/subscriptions", "put"), ("/api-keys", "post")} <= {
        (p, m) for p, m, _ in with_body
    }
    for path, method, operation in with_body:
        for code in ("413", "422"):
            assert code in operation["responses"], f"{method.upper()} {path} {code}"
    without_body = [op for _, _, op in _operations(spec) if "requestBody" not in op]
    assert all("413" not in op["responses"] for op in without_body)


def test_error_model_is_the_detail_object(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["detail"]
    assert set(error["properties"]) == {"detail"}


def test_admin_docs_are_swagger_ui_on_the_admin_spec(platform: Platform) -> None:
    response = platform.client.get("/admin/api-docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text.lower()
    assert "'/admin/openapi.json'" in response.text


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("post", "/tenants", "admin:write"),
        ("get", "/tenants", "admin:read"),
        ("put", "/tenants/{tenant_id}/plan", "admin:write"),
        ("post", "/tenants/{tenant_id}/suspend", "admin:write"),
        ("post", "/tenants/{tenant_id}/reactivate", "admin:write"),
    ],
)
def test_admin_spec_documents_tenant_operations_with_their_scope(
    admin_spec: dict[str, Any], method: str, path: str, scope: str
) -> None:
    operation = admin_spec["paths"][path][method]
    assert operation["x-required-scopes"] == [scope]
    assert operation["summary"]
    assert _error_schema(operation, "403") == {"$ref": ERROR_REF}


def test_every_admin_operation_needs_an_admin_scope(admin_spec: dict[str, Any]) -> None:
    for path, method, operation in _operations(admin_spec):
        scopes = operation["x-required-scopes"]
        assert scopes, f"{method.upper()} {path}"
        assert set(scopes) <= {"admin:read", "admin:write"}, f"{method.upper()} {path}"


def test_admin_paths_are_not_in_the_public_spec(
    spec: dict[str, Any], admin_spec: dict[str, Any]
) -> None:
    public = set(spec["paths"])
    assert not any(path.startswith("/admin") for path in public)
    assert not public & set(admin_spec["paths"])
    assert not any("admin" in str(op.get("x-required-scopes")) for _, _, op in _operations(spec))


def test_authorize_works_with_both_schemes(platform: Platform) -> None:
    tenant = platform.tenant("starter")
    as_header = platform.client.get("/tenant/me", headers={"X-API-Key": tenant.owner_key})
    as_bearer = platform.client.get(
        "/tenant/me", headers={"Authorization": f"Bearer {tenant.owner_key}"}
    )
    assert as_header.status_code == 200
    assert as_bearer.status_code == 200
    assert as_header.json()["tenant_id"] == as_bearer.json()["tenant_id"] == tenant.id
    assert platform.client.get("/tenant/me").status_code == 401


# --- every status a route can answer (issue 14) -------------------------------------------------


def test_json_body_operations_document_400_for_an_unreadable_body(spec: dict[str, Any]) -> None:
    # The two uploads read their bodies themselves: an unreadable one is a 422 there.
    uploads = {"/scan/iac", "/tenant/subscriptions/{subscription_id}/snapshot"}
    json_bodies = [
        (path, method, op)
        for path, method, op in _operations(spec)
        if "requestBody" in op and path not in uploads
    ]
    assert len(json_bodies) >= 8
    for path, method, operation in json_bodies:
        assert _error_schema(operation, "400") == {"$ref": ERROR_REF}, f"{method.upper()} {path}"
        assert "nested too deeply" in operation["responses"]["400"]["description"]


def test_scans_reading_azure_document_502_and_503(spec: dict[str, Any]) -> None:
    for path in ("/scan", "/scan/dry-run"):
        operation = spec["paths"][path]["post"]
        for code in ("502", "503"):
            assert _error_schema(operation, code) == {"$ref": ERROR_REF}, f"{path} {code}"


def test_health_documents_503_and_add_user_documents_409(
    spec: dict[str, Any], admin_spec: dict[str, Any]
) -> None:
    assert _error_schema(spec["paths"]["/health"]["get"], "503") == {"$ref": ERROR_REF}
    add_user = admin_spec["paths"]["/tenants/{tenant_id}/users"]["post"]
    assert _error_schema(add_user, "409") == {"$ref": ERROR_REF}
