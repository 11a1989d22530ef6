"""No 500 from user input, and the same answer on SQLite and PostgreSQL.

Forged pagination cursors, JSON nested 10,000 deep, and text PostgreSQL cannot store (NUL,
unpaired surrogates) in bodies, query strings and path ids: each is a valid page or a 4xx with
a clear detail. Every test runs once per backend (``any_platform``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.platform import Platform, TenantCtx
from tutela.server.text import UNSTORABLE_MESSAGE

JSON = {"content-type": "application/json"}
CURSOR_ERROR = [
    {"loc": ["query", "cursor"], "msg": "Invalid pagination cursor", "type": "value_error"}
]
UNREADABLE_BODY = "The body could not be read as JSON: not UTF-8, or nested too deeply"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(*fields: Any) -> str:
    return _b64(json.dumps(list(fields)).encode())


def _admin(platform: Platform) -> dict[str, str]:
    return {"X-API-Key": platform.operator_key()}


# (path, whose key): every paged list of both APIs.
LISTS = [
    ("/reports", "tenant"),
    ("/api-keys", "tenant"),
    ("/admin/tenants", "operator"),
    ("/admin/audit-events", "operator"),
]


def _list(
    platform: Platform, tenant: TenantCtx, path: str, who: str, cursor: str
) -> httpx.Response:
    headers = tenant.headers if who == "tenant" else _admin(platform)
    response: httpx.Response = platform.client.get(path, params={"cursor": cursor}, headers=headers)
    return response


# --- cursors ------------------------------------------------------------------------------------

FORGED_CURSORS = {
    "naive-datetime": _cursor("2026-01-01T00:00:00", str(uuid.uuid4())),
    "offset-past-year-9999": _cursor("9999-12-31T23:59:59-12:00", "x"),
    "offset-before-year-1": _cursor("0001-01-01T00:00:00+14:00", "x"),
    "nul-in-id": _cursor("2026-01-01T00:00:00+00:00", "a\x00b"),
    "surrogate-in-id": _b64(b'["2026-01-01T00:00:00+00:00", "\\ud800"]'),
    "id-not-a-string": _cursor("2026-01-01T00:00:00+00:00", 5),
    "datetime-not-a-string": _cursor(20260101, "x"),
    "three-fields": _cursor("2026-01-01T00:00:00+00:00", "x", "y"),
    "an-object": _b64(b'{"created": "2026-01-01T00:00:00+00:00"}'),
    "nested-json": _b64(b"[" * 70 + b"]" * 70),
    "nested-json-10000": _b64(b"[" * 10_000 + b"]" * 10_000),
    "junk-bytes": _b64(b"\xff\xfe\x00\x01"),
    "not-base64": "!!not*base64!!",
    "huge": "A" * 50_000,
    "long-id": _cursor("2026-01-01T00:00:00+00:00", "x" * 500),
}


@pytest.mark.parametrize(("path", "who"), LISTS)
@pytest.mark.parametrize("cursor", FORGED_CURSORS.values(), ids=FORGED_CURSORS.keys())
def test_a_forged_cursor_is_a_422_naming_the_cursor(
    any_platform: Platform, path: str, who: str, cursor: str
) -> None:
    tenant = any_platform.tenant()
    response = _list(any_platform, tenant, path, who, cursor)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "cursor"]
    assert "cursor" in error["msg"].lower() or error["type"] == "string_too_long"


def test_a_cursor_instant_is_read_as_utc_and_must_carry_an_offset(any_platform: Platform) -> None:
    """Two spellings of one instant give the same page; without an offset, a 422; both backends."""
    tenant = any_platform.tenant()
    for number in range(3):
        created = any_platform.client.post(
            "/api-keys",
            json={"name": f"k{number}", "scopes": ["report:read"]},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
    first = any_platform.client.get("/api-keys", params={"limit": 1}, headers=tenant.headers)
    issued = first.json()["next_cursor"]
    created_at, row_id = json.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
    seven_hours_west = dt.timezone(dt.timedelta(hours=-7))
    shifted = _cursor(
        dt.datetime.fromisoformat(created_at).astimezone(seven_hours_west).isoformat(), row_id
    )
    pages = [
        any_platform.client.get("/api-keys", params={"cursor": c}, headers=tenant.headers).json()
        for c in (issued, shifted)
    ]
    assert pages[0] == pages[1]
    assert len(pages[0]["items"]) == 3  # of the owner's 4 keys, all but the first page's
    naive = _cursor(dt.datetime.fromisoformat(created_at).replace(tzinfo=None).isoformat(), row_id)
    refused = any_platform.client.get("/api-keys", params={"cursor": naive}, headers=tenant.headers)
    assert refused.status_code == 422
    assert refused.json() == {"detail": CURSOR_ERROR}
    # A cursor the server did not write, but well-formed, is a page (here: the oldest end).
    oldest = _cursor("0001-01-01T00:00:00+00:00", str(uuid.uuid4()))
    page = any_platform.client.get("/api-keys", params={"cursor": oldest}, headers=tenant.headers)
    assert page.status_code == 200
    assert page.json() == {"items": [], "next_cursor": None}


# --- deeply nested JSON bodies ------------------------------------------------------------------

DEEP_BODIES = {
    "arrays": "[" * 10_000 + "]" * 10_000,
    "objects": '{"a":' * 10_000 + "1" + "}" * 10_000,
    "in-a-field": '{"name":' + "[" * 10_000 + "]" * 10_000 + "}",
}


def _json_routes(platform: Platform, tenant: TenantCtx) -> list[tuple[str, str, dict[str, str]]]:
    admin = _admin(platform)
    return [
        ("POST", "/api-keys", tenant.headers),
        ("PATCH", f"/api-keys/{platform.key_id(tenant.owner_key)}", tenant.headers),
        ("PUT", "/tenant/subscriptions", tenant.headers),
        ("PUT", "/tenant/credentials", tenant.headers),
        ("POST", "/scan/dry-run", tenant.headers),
        ("POST", "/reports/diff", tenant.headers),
        ("PUT", "/governance", tenant.headers),
        ("DELETE", "/governance/history", tenant.headers),
        ("POST", "/admin/tenants", admin),
        ("PUT", f"/admin/tenants/{tenant.id}/plan", admin),
    ]


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_json_nested_10000_deep_is_a_4xx_saying_so_on_every_route_with_a_body(
    any_platform: Platform, body: str
) -> None:
    tenant = any_platform.tenant()
    for method, path, headers in _json_routes(any_platform, tenant):
        response = any_platform.client.request(
            method, path, content=body, headers={**headers, **JSON}
        )
        assert response.status_code == 400, f"{method} {path}: {response.text}"
        assert response.json() == {"detail": UNREADABLE_BODY}, f"{method} {path}"
    # The upload routes read their bodies themselves, with a depth limit: a 422 there.
    subscription = str(uuid.uuid4())
    linked = any_platform.client.put(
        "/tenant/subscriptions", json={"subscription_ids": [subscription]}, headers=tenant.headers
    )
    assert linked.status_code == 200
    for method, path in (
        ("POST", "/scan/iac?dry_run=true"),
        ("PUT", f"/tenant/subscriptions/{subscription}/snapshot"),
    ):
        response = any_platform.client.request(
            method, path, content=body, headers={**tenant.headers, **JSON}
        )
        assert response.status_code == 422, f"{method} {path}: {response.text}"
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body"]


def test_a_body_that_is_not_utf8_is_a_400_saying_so(any_platform: Platform) -> None:
    tenant = any_platform.tenant()
    response = any_platform.client.post(
        "/api-keys", content=b'{"name": "\xff\xfe"}', headers={**tenant.headers, **JSON}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": UNREADABLE_BODY}


# --- text PostgreSQL cannot store ---------------------------------------------------------------

UNSTORABLE = {"msg": UNSTORABLE_MESSAGE, "type": "string_unstorable"}


def _body_cases(platform: Platform, tenant: TenantCtx) -> list[tuple[str, str, Any, list[Any]]]:
    """(method, path, body, loc of the error): a NUL in each kind of text field."""
    key_id = platform.key_id(tenant.owner_key)
    credentials = {"tenant_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4())}
    return [
        ("POST", "/api-keys", {"name": "a\x00b", "scopes": ["report:read"]}, ["body", "name"]),
        ("PATCH", f"/api-keys/{key_id}", {"name": "\x00"}, ["body", "name"]),
        (
            "POST",
            "/scan/dry-run",
            {"frameworks": ["iso42001"], "scan_label": "a\x00"},
            ["body", "scan_label"],
        ),
        (
            "POST",
            "/scan",
            {"frameworks": ["iso42001"], "scan_label": "a\x00"},
            ["body", "scan_label"],
        ),
        ("POST", "/scan/dry-run", {"frameworks": ["iso\x0042001"]}, ["body", "frameworks"]),
        (
            "PUT",
            "/tenant/credentials",
            {**credentials, "client_secret": "s3cr\x00t-value"},
            ["body", "client_secret"],
        ),
        (
            "POST",
            "/admin/tenants",
            {"owner_email": "n@example.com", "plan": "starter", "name": "a\x00b"},
            ["body", "name"],
        ),
        (
            "POST",
            "/admin/tenants",
            {"owner_email": "n@example.com", "plan": "star\x00ter"},
            ["body", "plan"],
        ),
        ("PUT", f"/admin/tenants/{tenant.id}/plan", {"plan": "starter\x00"}, ["body", "plan"]),
    ]


def _stored(platform: Platform, tenant: TenantCtx, admin: dict[str, str]) -> dict[str, Any]:
    """What the bodies below would change: key names, tenants and their plans, credentials."""
    keys = platform.client.get("/api-keys", headers=tenant.headers).json()["items"]
    tenants = platform.client.get("/admin/tenants", headers=admin).json()["items"]
    return {
        "keys": sorted((k["id"], k["name"]) for k in keys),
        "tenants": sorted((t["id"], t["name"], t["plan"]) for t in tenants),
        "me": platform.client.get("/tenant/me", headers=tenant.headers).json(),
    }


def test_a_nul_in_any_body_text_is_a_422_naming_the_field_and_nothing_is_stored(
    any_platform: Platform,
) -> None:
    tenant = any_platform.tenant("professional")
    admin = _admin(any_platform)
    before = _stored(any_platform, tenant, admin)
    for method, path, body, loc in _body_cases(any_platform, tenant):
        headers = admin if path.startswith("/admin") else tenant.headers
        response = any_platform.client.request(method, path, json=body, headers=headers)
        where = f"{method} {path} {loc}"
        assert response.status_code == 422, f"{where}: {response.text}"
        errors = response.json()["detail"]
        assert {"loc": loc, **UNSTORABLE} in errors, f"{where}: {errors}"
        assert "\\u0000" not in response.text
        assert "\x00" not in response.text
    after = _stored(any_platform, tenant, admin)
    assert after == before


def test_an_unpaired_surrogate_in_a_body_is_a_422(any_platform: Platform) -> None:
    tenant = any_platform.tenant()
    for body in ('{"name": "a\\ud800b", "scopes": ["report:read"]}', '{"name": "\\udfff"}'):
        response = any_platform.client.post(
            "/api-keys", content=body, headers={**tenant.headers, **JSON}
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "name"]


@pytest.mark.parametrize(
    ("method", "path", "who"),
    [
        ("POST", "/scan/iac?dry_run=true&scan_label=a%00b", "tenant"),
        ("POST", "/scan/iac?dry_run=true&frameworks=iso42001%00", "tenant"),
        ("GET", "/reports?type=manual%00", "tenant"),
        ("GET", "/reports?unknown=%00", "tenant"),
        ("GET", "/admin/audit-events?action=key.created%00", "operator"),
        ("GET", "/admin/audit-events?tenant_id=%00", "operator"),
        ("GET", "/admin/tenants?status=active%00", "operator"),
    ],
)
def test_a_nul_in_the_query_string_is_the_same_422_everywhere(
    any_platform: Platform, method: str, path: str, who: str
) -> None:
    tenant = any_platform.tenant()
    headers = tenant.headers if who == "tenant" else _admin(any_platform)
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": []}}}
    response = any_platform.client.request(
        method, path, headers=headers, json=plan if method == "POST" else None
    )
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": [{"loc": ["query"], **UNSTORABLE}]}


@pytest.mark.parametrize(
    ("method", "path", "who"),
    [
        ("GET", "/api-keys/a%00b", "tenant"),
        ("PATCH", "/api-keys/a%00b", "tenant"),
        ("DELETE", "/api-keys/a%00b", "tenant"),
        ("GET", "/report/COMP-20260101-000000%00", "tenant"),
        ("GET", "/admin/tenants/%00", "operator"),
        ("GET", "/admin/tenants/a%00b/users", "operator"),
        ("PUT", "/admin/tenants/a%00b/plan", "operator"),
        ("POST", "/admin/tenants/a%00b/suspend", "operator"),
    ],
)
def test_a_nul_in_a_path_id_is_the_same_422_everywhere(
    any_platform: Platform, method: str, path: str, who: str
) -> None:
    tenant = any_platform.tenant()
    headers = tenant.headers if who == "tenant" else _admin(any_platform)
    body = {"name": "x"} if method == "PATCH" else {"plan": "starter"} if method == "PUT" else None
    response = any_platform.client.request(method, path, headers=headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": [{"loc": ["path"], **UNSTORABLE}]}
    assert "X-Correlation-ID" in response.headers
