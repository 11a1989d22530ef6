"""Errors and limits of the real app: 422, 413, 500, 404 and 429, always JSON ``{"detail"}``."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from tests.platform import Platform, TenantCtx
from tutela.server.config import Settings

SettingsFactory = Callable[..., Settings]

SECRET_INPUT = "tut_NeverEchoThisSecretValue0123456789"
JSON = {"content-type": "application/json"}


def _subscriptions(platform: Platform, tenant: TenantCtx) -> list[str]:
    response = platform.client.get("/tenant/me", headers=tenant.headers)
    assert response.status_code == 200
    ids: list[str] = response.json()["azure_subscription_ids"]
    return ids


def _put_raw(platform: Platform, tenant: TenantCtx, body: str) -> httpx.Response:
    response: httpx.Response = platform.client.put(
        "/tenant/subscriptions", content=body, headers={**tenant.headers, **JSON}
    )
    return response


# --- 422: invalid input, never echoed -----------------------------------------------------------


def test_malformed_json_is_422_with_a_detail_list(platform: Platform) -> None:
    tenant = platform.tenant()
    response = _put_raw(platform, tenant, '{not json "' + SECRET_INPUT)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail[0]["type"] == "json_invalid"
    assert SECRET_INPUT not in response.text


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"subscription_ids": SECRET_INPUT}, ["body", "subscription_ids"], "list_type"),
        ({"subscription_ids": [SECRET_INPUT]}, ["body", "subscription_ids", 0], "uuid_parsing"),
        ({"subscription_ids": [], "client_secret": SECRET_INPUT}, ["body", "client_secret"], None),
    ],
    ids=["wrong-type", "wrong-item-type", "unknown-field"],
)
def test_invalid_body_is_422_naming_the_field_without_echoing_its_value(
    platform: Platform, body: dict[str, object], loc: list[object], error_type: str | None
) -> None:
    tenant = platform.tenant()
    response = _put_raw(platform, tenant, json.dumps(body))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == loc
    assert error["type"] == (error_type or "extra_forbidden")
    assert set(error) == {"loc", "msg", "type"}  # no "input", no "ctx"
    assert SECRET_INPUT not in response.text
    assert _subscriptions(platform, tenant) == []


def test_a_malformed_uuid_is_named_without_quoting_a_character_of_it(platform: Platform) -> None:
    tenant = platform.tenant()
    # Pydantic's own message would say "found `<` at 1".
    response = _put_raw(platform, tenant, json.dumps({"subscription_ids": ["<script>"]}))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "uuid_parsing"
    assert "<" not in error["msg"]
    assert "`" not in error["msg"]


def test_a_key_the_caller_made_up_is_not_echoed_in_the_location(platform: Platform) -> None:
    tenant = platform.tenant()
    made_up = "<script>alert(1)</script>\n"
    body = {"name": "ci", "scopes": ["tenant:read"], made_up: 1, "plain_extra": 2}
    response = platform.client.post("/api-keys", headers=tenant.headers, json=body)
    assert response.status_code == 422
    assert "<script>" not in response.text
    assert [e["loc"] for e in response.json()["detail"]] == [
        ["body", "(a key you sent)"],
        ["body", "plain_extra"],
    ]


# --- 413: body too large ------------------------------------------------------------------------


def _oversized_body() -> bytes:
    """Valid JSON of well over 2048 bytes: only the size limit stops it."""
    return json.dumps({"subscription_ids": [str(uuid.uuid4()) for _ in range(100)]}).encode()


def test_body_over_the_limit_with_content_length_is_413_and_not_applied(
    settings_factory: SettingsFactory,
) -> None:
    with Platform(settings_factory(max_body_bytes=2048)) as platform:
        tenant = platform.tenant()
        body = _oversized_body()
        response = platform.client.put(
            "/tenant/subscriptions", content=body, headers={**tenant.headers, **JSON}
        )
        assert response.request.headers["content-length"] == str(len(body))
        assert response.status_code == 413
        assert "2048" in response.json()["detail"]
        assert _subscriptions(platform, tenant) == []


def test_streamed_body_over_the_limit_without_content_length_is_413_and_not_applied(
    settings_factory: SettingsFactory,
) -> None:
    with Platform(settings_factory(max_body_bytes=2048)) as platform:
        tenant = platform.tenant()
        body = _oversized_body()

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(body), 512):
                yield body[start : start + 512]

        response = platform.client.put(
            "/tenant/subscriptions", content=chunks(), headers={**tenant.headers, **JSON}
        )
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert response.status_code == 413
        assert "2048" in response.json()["detail"]
        assert _subscriptions(platform, tenant) == []


def test_handler_never_runs_on_the_part_of_a_chunked_body_read_before_the_limit(
    settings_factory: SettingsFactory,
) -> None:
    """The first chunk alone is a valid request; the padding that follows breaks the limit."""
    with Platform(settings_factory(max_body_bytes=2048)) as platform:
        tenant = platform.tenant()
        valid = json.dumps({"subscription_ids": [str(uuid.uuid4())]}).encode()

        async def chunks() -> AsyncIterator[bytes]:
            yield valid
            for _ in range(10):
                yield b" " * 500  # JSON allows trailing whitespace

        async def send() -> httpx.Response:
            # httpx's ASGI transport delivers each chunk as its own ASGI message, as a server does.
            transport = httpx.ASGITransport(app=platform.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.put(
                    "/tenant/subscriptions", content=chunks(), headers={**tenant.headers, **JSON}
                )

        response = asyncio.run(send())
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert _subscriptions(platform, tenant) == []


# --- 500, correlation ids, 404 ------------------------------------------------------------------


def _add_failing_route(platform: Platform) -> None:
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom-secret-text")

    platform.app.include_router(router)


def test_unhandled_error_is_500_with_a_correlation_id_and_no_internals(platform: Platform) -> None:
    _add_failing_route(platform)
    response = platform.client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    cid = body["correlation_id"]
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", cid)
    assert body == {
        "detail": f"Internal server error (correlation id {cid})",
        "correlation_id": cid,
    }
    assert response.headers["X-Correlation-ID"] == cid
    assert "boom-secret-text" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


def test_incoming_correlation_id_is_echoed_on_success_and_on_500(platform: Platform) -> None:
    _add_failing_route(platform)
    tenant = platform.tenant()
    incoming = {"X-Correlation-ID": "client-trace-0001"}
    ok = platform.client.get("/tenant/me", headers={**tenant.headers, **incoming})
    assert ok.status_code == 200
    assert ok.headers["X-Correlation-ID"] == "client-trace-0001"
    failed = platform.client.get("/boom", headers=incoming)
    assert failed.status_code == 500
    assert failed.headers["X-Correlation-ID"] == "client-trace-0001"
    assert failed.json()["correlation_id"] == "client-trace-0001"


def test_invalid_incoming_correlation_id_is_replaced(platform: Platform) -> None:
    response = platform.client.get("/health", headers={"X-Correlation-ID": "bad id\twith space"})
    assert response.status_code == 200
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", response.headers["X-Correlation-ID"])


def test_unknown_route_is_404_json(platform: Platform) -> None:
    response = platform.client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)


# --- 429: rate limits ---------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(settings_factory: SettingsFactory) -> None:
    with Platform(settings_factory(rate_limit="2/minute")) as platform:
        tenant = platform.tenant()
        first, second, third = (
            platform.client.get("/tenant/me", headers=tenant.headers) for _ in range(3)
        )
        assert (first.status_code, second.status_code) == (200, 200)
        assert first.headers["X-RateLimit-Limit"] == "2"
        assert first.headers["X-RateLimit-Remaining"] == "1"
        assert second.headers["X-RateLimit-Remaining"] == "0"
        assert third.status_code == 429
        assert re.fullmatch(r"[1-9][0-9]*", third.headers["Retry-After"])
        assert int(third.headers["Retry-After"]) <= 60
        assert isinstance(third.json()["detail"], str)


@pytest.mark.redis
def test_rate_limit_is_shared_between_processes_through_redis(
    settings_factory: SettingsFactory,
    redis_url: str,
) -> None:
    import redis

    # Two API processes: each its own Runtime (and limiter), one database, one Redis.
    first = settings_factory(rate_limit="3/minute", redis_url=redis_url)
    second = settings_factory(rate_limit="3/minute", redis_url=redis_url)
    assert first.resolved_database_url == second.resolved_database_url
    client = redis.Redis.from_url(redis_url)
    with Platform(first) as one, Platform(second) as two:
        tenant = one.tenant()
        key_id = one.key_id(tenant.owner_key)
        try:
            statuses = [
                (one if i % 2 == 0 else two)
                .client.get("/tenant/me", headers=tenant.headers)
                .status_code
                for i in range(4)
            ]
            assert statuses == [200, 200, 200, 429]
            ours = [k for k in client.scan_iter("tutela-ratelimit*") if key_id.encode() in k]
            assert ours, "no rate-limit counter in Redis for this key"
        finally:
            for name in client.scan_iter(f"tutela-ratelimit*{key_id}*"):
                client.delete(name)
            client.close()


@pytest.mark.parametrize(
    "send",
    [
        lambda c, h: c.get("/report/COMP-20261201-000000%00", headers=h),  # middleware
        lambda c, h: c.post("/api-keys", headers={**h, "Idempotency-Key": "a b"}, json={}),
        lambda c, h: c.put("/tenant/subscriptions", headers=h, content=b"[" * 2_000_000),
        lambda c, h: c.put("/tenant/subscriptions", headers=h, json={"subscription_ids": 1}),
    ],
    ids=["unstorable-url", "bad-idempotency-key", "too-large", "route-validation"],
)
def test_every_error_body_is_written_alike(platform: Platform, send: Any) -> None:
    """Answers sent before routing are the same compact JSON as the routes' own errors."""
    tenant = platform.tenant()
    response = send(platform.client, tenant.headers)
    assert response.status_code in (413, 422)
    compact = json.dumps(response.json(), separators=(",", ":"), ensure_ascii=False)
    assert response.content == compact.encode()
