"""Idempotency-Key on every POST: replay, conflicts, scope per tenant, leases and retention."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import anyio
import orjson
import pytest
from sqlalchemy import func, select, update

from tests.platform import Platform, TenantCtx, auth
from tests.server.scans.estates import link_sample_snapshot, scan_count
from tutela.server.auth.scopes import ROLE_SCOPES, Role
from tutela.server.db import utcnow
from tutela.server.idempotency.models import DONE, IdempotencyRecord
from tutela.server.idempotency.service import Claimed, Request, fingerprint, idempotency_service
from tutela.server.jobs.registry import reports_purge
from tutela.server.reports.models import Report
from tutela.server.tenants.models import Tenant

SCAN = {"frameworks": ["iso42001"], "scan_label": "nightly"}


def keyed(tenant: TenantCtx, key: str) -> dict[str, str]:
    return {**tenant.headers, "Idempotency-Key": key}


def reports(platform: Platform, tenant: TenantCtx) -> int:
    with platform.db() as session:
        count = session.scalar(
            select(func.count()).select_from(Report).where(Report.tenant_id == tenant.id)
        )
        return int(count or 0)


def records(platform: Platform) -> list[IdempotencyRecord]:
    with platform.db() as session:
        return list(session.scalars(select(IdempotencyRecord)))


@pytest.fixture
def tenant(platform: Platform) -> TenantCtx:
    created = platform.tenant("enterprise")
    link_sample_snapshot(platform, created)
    return created


def test_a_repeated_scan_replays_the_first_report_and_counts_nothing(
    platform: Platform, tenant: TenantCtx
) -> None:
    key = str(uuid.uuid4())
    first = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)
    second = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)

    assert first.status_code == 200, first.text
    assert "idempotency-replayed" not in first.headers
    assert second.status_code == 200, second.text
    assert second.headers["idempotency-replayed"] == "true"
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["x-correlation-id"]
    assert second.content == first.content
    assert second.json()["report_id"] == first.json()["report_id"]
    assert reports(platform, tenant) == 1
    assert scan_count(platform, tenant) == 1


def test_without_a_key_each_post_runs(platform: Platform, tenant: TenantCtx) -> None:
    for _ in range(2):
        assert platform.client.post("/scan", headers=tenant.headers, json=SCAN).status_code == 200
    assert reports(platform, tenant) == 2
    assert records(platform) == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/scan", {**SCAN, "scan_label": "another"}),
        ("/scan/dry-run", SCAN),
        ("/scan?x=1", SCAN),
    ],
)
def test_the_same_key_for_another_request_is_422(
    platform: Platform, tenant: TenantCtx, path: str, body: dict[str, object]
) -> None:
    key = str(uuid.uuid4())
    assert platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN).status_code == 200

    response = platform.client.post(path, headers=keyed(tenant, key), json=body)

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert error["type"] == "idempotency_key_reused"
    assert "already used for a different request" in error["msg"]
    assert key not in response.text
    assert reports(platform, tenant) == 1


@pytest.mark.parametrize(
    "bad",
    ["", "a" * 256, "has space", "tab\there", "caf\u00e9"],
    ids=["empty", "too-long", "space", "control", "non-ascii"],
)
def test_an_invalid_key_is_422_and_runs_nothing(
    platform: Platform, tenant: TenantCtx, bad: str
) -> None:
    headers = [*tenant.headers.items(), ("Idempotency-Key", bad)]
    response = platform.client.post(
        "/scan", headers=[(k.encode(), v.encode()) for k, v in headers], json=SCAN
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "1 to 255 printable ASCII characters" in error["msg"]
    assert reports(platform, tenant) == 0


def test_two_key_headers_are_422(platform: Platform, tenant: TenantCtx) -> None:
    headers = [*tenant.headers.items(), ("Idempotency-Key", "one"), ("Idempotency-Key", "two")]
    response = platform.client.post("/scan", headers=headers, json=SCAN)
    assert response.status_code == 422
    assert "one Idempotency-Key header" in response.json()["detail"][0]["msg"]


def test_a_key_of_255_printable_characters_is_accepted(
    platform: Platform, tenant: TenantCtx
) -> None:
    key = "~" + "K" * 253 + "!"
    response = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)
    assert response.status_code == 200, response.text


def test_keys_are_per_tenant(platform: Platform, tenant: TenantCtx) -> None:
    other = platform.tenant("enterprise")
    link_sample_snapshot(platform, other)
    key = str(uuid.uuid4())

    mine = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)
    theirs = platform.client.post("/scan", headers=keyed(other, key), json=SCAN)

    assert mine.status_code == theirs.status_code == 200
    assert "idempotency-replayed" not in theirs.headers
    assert theirs.json()["tenant_id"] == other.id
    assert reports(platform, tenant) == reports(platform, other) == 1


def test_another_key_of_the_tenant_gets_no_replay(platform: Platform, tenant: TenantCtx) -> None:
    key = str(uuid.uuid4())
    assert platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN).status_code == 200
    _, member_key = platform.user(tenant, "member")

    response = platform.client.post(
        "/scan", headers={**auth(member_key), "Idempotency-Key": key}, json=SCAN
    )

    assert response.status_code == 422
    assert reports(platform, tenant) == 1


def test_an_error_answer_is_not_kept_and_the_retry_runs(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")  # no subscription linked yet: 409
    key = str(uuid.uuid4())
    failed = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)
    assert failed.status_code in (404, 409, 422), failed.text
    assert records(platform) == []

    link_sample_snapshot(platform, tenant)
    retried = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)

    assert retried.status_code == 200, retried.text
    assert "idempotency-replayed" not in retried.headers
    assert reports(platform, tenant) == 1


def test_a_refused_key_is_answered_by_the_route(platform: Platform, tenant: TenantCtx) -> None:
    bad = {"X-API-Key": "tut_" + "A" * 38, "Idempotency-Key": "k1"}
    assert platform.client.post("/scan", headers=bad, json=SCAN).status_code == 401
    auditor_key = platform.key(tenant, ["report:read"])
    refused = platform.client.post(
        "/scan", headers={**auth(auditor_key), "Idempotency-Key": "k1"}, json=SCAN
    )
    assert refused.status_code == 403
    assert records(platform) == []


def test_a_revoked_key_gets_no_replay(platform: Platform, tenant: TenantCtx) -> None:
    key = platform.key(tenant, ["scan:run", "report:read"])
    headers = {**auth(key), "Idempotency-Key": "revoked-replay"}
    assert platform.client.post("/scan", headers=headers, json=SCAN).status_code == 200
    revoked = platform.client.delete(f"/api-keys/{platform.key_id(key)}", headers=tenant.headers)
    assert revoked.status_code in (200, 204), revoked.text

    assert platform.client.post("/scan", headers=headers, json=SCAN).status_code == 401


# --- a request still running, a holder that died ------------------------------------------------


def hold(platform: Platform, tenant: TenantCtx, key: str, body: bytes) -> Claimed:
    """Claim the key as a first request that is still running would."""
    caller = platform.runtime.verifier.verify(tenant.owner_key)
    request = Request(key, fingerprint("POST", "/scan", b"", hashlib.sha256(body).digest()), caller)
    claimed = idempotency_service(platform.runtime).claim(request, utcnow())
    assert isinstance(claimed, Claimed)
    return claimed


def test_a_repeat_while_the_first_runs_is_409_with_retry_after(
    platform: Platform, tenant: TenantCtx
) -> None:
    body = b'{"frameworks": ["iso42001"]}'
    hold(platform, tenant, "running", body)

    response = platform.client.post(
        "/scan",
        headers={**keyed(tenant, "running"), "Content-Type": "application/json"},
        content=body,
    )

    assert response.status_code == 409, response.text
    assert response.headers["retry-after"] == "1"
    assert "still running" in response.json()["detail"]
    assert reports(platform, tenant) == 0


def test_a_holder_that_stopped_renewing_is_taken_over(
    platform: Platform, tenant: TenantCtx
) -> None:
    body = b'{"frameworks": ["iso42001"]}'
    hold(platform, tenant, "crashed", body)
    with platform.db() as session:
        session.execute(
            update(IdempotencyRecord).values(lease_expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    headers = {**keyed(tenant, "crashed"), "Content-Type": "application/json"}

    taken = platform.client.post("/scan", headers=headers, content=body)
    replayed = platform.client.post("/scan", headers=headers, content=body)

    assert taken.status_code == 200, taken.text
    assert replayed.headers["idempotency-replayed"] == "true"
    assert replayed.json()["report_id"] == taken.json()["report_id"]
    assert reports(platform, tenant) == 1


# --- retention ---------------------------------------------------------------------------------


def test_a_key_past_the_retention_window_is_free_and_purged(
    platform: Platform, tenant: TenantCtx
) -> None:
    key = str(uuid.uuid4())
    assert platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN).status_code == 200
    window = dt.timedelta(hours=platform.settings.idempotency_retention_hours)
    with platform.db() as session:
        session.execute(
            update(IdempotencyRecord).values(created_at=utcnow() - window - dt.timedelta(minutes=1))
        )

    again = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)
    assert again.status_code == 200
    assert "idempotency-replayed" not in again.headers
    assert reports(platform, tenant) == 2

    with platform.db() as session:
        session.execute(
            update(IdempotencyRecord).values(created_at=utcnow() - window - dt.timedelta(minutes=1))
        )
    result = reports_purge(platform.runtime, utcnow())
    assert "1 idempotency record(s)" in result.detail
    assert records(platform) == []


def test_the_retention_window_is_a_setting(settings_factory) -> None:  # type: ignore[no-untyped-def]
    assert settings_factory().idempotency_retention_hours == 24
    with Platform(settings_factory(idempotency_retention_hours=0.5)) as platform:
        assert platform.settings.idempotency_retention_hours == 0.5


# --- API keys and the admin API ----------------------------------------------------------------


def test_a_replayed_api_key_creation_shows_the_same_secret_once_stored_sealed(
    platform: Platform, tenant: TenantCtx
) -> None:
    headers = keyed(tenant, "new-ci-key")
    body = {"name": "ci", "scopes": ["scan:run"]}
    first = platform.client.post("/api-keys", headers=headers, json=body)
    second = platform.client.post("/api-keys", headers=headers, json=body)

    assert first.status_code == second.status_code == 201, first.text
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotency-replayed"] == "true"
    secret = first.json()["key"]
    assert second.json()["key"] == secret
    listed = platform.client.get("/api-keys", headers=tenant.headers).json()["items"]
    assert sum(k["name"] == "ci" for k in listed) == 1
    [record] = records(platform)
    assert record.body is not None
    assert secret.encode() not in record.body
    assert secret[4:20].encode() not in record.body


def test_admin_posts_are_idempotent_per_operator(platform: Platform) -> None:
    operator = auth(platform.operator_key())
    headers = {**operator, "Idempotency-Key": "create-acme"}
    body = {"owner_email": "owner@acme.example.com", "plan": "starter"}

    first = platform.client.post("/admin/tenants", headers=headers, json=body)
    second = platform.client.post("/admin/tenants", headers=headers, json=body)

    assert first.status_code == second.status_code == 201, first.text
    assert second.headers["idempotency-replayed"] == "true"
    assert second.json() == first.json()
    with platform.db() as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 1
    [record] = records(platform)
    assert record.owner.startswith("user:")
    assert set(record.scopes) <= {s.value for s in ROLE_SCOPES[Role.OPERATOR]}


def test_the_spec_documents_the_header_and_the_409(platform: Platform) -> None:
    for spec_path in ("/openapi.json", "/admin/openapi.json"):
        spec = platform.client.get(spec_path).json()
        posts = [ops["post"] for ops in spec["paths"].values() if "post" in ops]
        assert posts
        for operation in posts:
            names = [p["name"] for p in operation.get("parameters", [])]
            assert "Idempotency-Key" in names, operation["operationId"]
            assert "409" in operation["responses"], operation["operationId"]
            assert "422" in operation["responses"], operation["operationId"]


def test_gets_ignore_the_header(platform: Platform, tenant: TenantCtx) -> None:
    response = platform.client.get("/reports", headers=keyed(tenant, "x" * 300))
    assert response.status_code == 200
    assert records(platform) == []


def test_replay_and_conflict_behave_the_same_on_each_backend(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    link_sample_snapshot(platform, tenant)
    key = str(uuid.uuid4())

    first = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)
    second = platform.client.post("/scan", headers=keyed(tenant, key), json=SCAN)
    other = platform.client.post("/scan", headers=keyed(tenant, key), json={"frameworks": []})

    assert first.status_code == 200, first.text
    assert second.headers["idempotency-replayed"] == "true"
    assert second.json()["report_id"] == first.json()["report_id"]
    assert other.status_code == 422
    assert other.json()["detail"][0]["type"] == "idempotency_key_reused"
    assert reports(platform, tenant) == 1
    assert scan_count(platform, tenant) == 1


def test_the_answer_is_kept_before_its_last_bytes_leave(platform: Platform) -> None:
    """A client that has the whole answer and repeats at once gets the replay, never a 409."""
    tenant = platform.tenant()
    body = orjson.dumps({"name": "ci", "scopes": ["tenant:read"]})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api-keys",
        "raw_path": b"/api-keys",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"x-api-key", tenant.owner_key.encode()),
            (b"idempotency-key", b"at-once"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    states_at_last_bytes: list[list[str]] = []

    async def exchange() -> None:
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                states_at_last_bytes.append([r.state for r in records(platform)])

        await platform.app(scope, receive, send)

    anyio.run(exchange)
    assert states_at_last_bytes == [[DONE]]
