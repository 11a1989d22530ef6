"""Each error class raised from a real response of the server (or of a scripted one)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest

from tests.sdk.conftest import ARM_TEMPLATE, LiveServer, Tenant
from tests.sdk.scripted import Reply, ScriptedServer, serving
from tutela import Session
from tutela.sdk import (
    APIError,
    APIResponseValidationError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TutelaError,
    ValidationError,
)


def assert_one_clean_line(error: TutelaError, *secrets: str) -> None:
    text = str(error)
    assert "\n" not in text
    assert text == error.message
    for secret in secrets:
        assert secret not in text
        assert secret not in repr(error)


def test_401_bad_key(server: LiveServer) -> None:
    key = "tut_ThisKeyDoesNotExist0123456789abcdef"
    with server.session(key) as session, pytest.raises(AuthenticationError) as caught:
        session.tenant.me()
    error = caught.value
    assert error.status_code == 401
    assert isinstance(error.detail, str)
    assert error.headers["www-authenticate"].startswith("Bearer")
    assert error.correlation_id  # from the X-Correlation-ID header
    assert "401" in str(error)
    assert "/tenant/me" in str(error)
    assert_one_clean_line(error, key)


def test_403_missing_scope_is_permission_denied_not_quota(
    server: LiveServer, session: Session
) -> None:
    reader = session.keys.create("reader", ["report:read"]).key.get_secret_value()
    with server.session(reader) as limited, pytest.raises(PermissionDeniedError) as caught:
        limited.scans.run(["iso42001"])
    assert type(caught.value) is PermissionDeniedError
    assert "scan:run" in caught.value.detail
    assert_one_clean_line(caught.value, reader)


def test_403_plan_restriction_then_quota_exceeded(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    trial = new_tenant("free_trial")
    with server.session(trial.key) as session:
        with pytest.raises(PermissionDeniedError) as plan:
            session.scans.iac(ARM_TEMPLATE, frameworks=["sox"])
        assert type(plan.value) is PermissionDeniedError
        assert "not available on plan 'free_trial'" in plan.value.detail

        for _ in range(3):  # the free trial's monthly quota
            session.scans.iac(ARM_TEMPLATE, frameworks=["iso42001"])
        with pytest.raises(QuotaExceededError) as quota:
            session.scans.iac(ARM_TEMPLATE, frameworks=["iso42001"])
        assert quota.value.status_code == 403
        assert isinstance(quota.value, PermissionDeniedError)
        assert "Scan quota exceeded for plan 'free_trial' (3/3" in str(quota.value)
        # Dry runs are not counted: still allowed.
        assert session.scans.iac(ARM_TEMPLATE, dry_run=True).dry_run is True
        assert_one_clean_line(quota.value, trial.key)


def test_404_unknown_ids_and_another_tenants_report(
    server: LiveServer, session: Session, new_tenant: Callable[[str], Tenant]
) -> None:
    with pytest.raises(NotFoundError):
        session.reports.get("COMP-20000101-000000")
    with pytest.raises(NotFoundError):
        session.keys.get(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        session.snapshots.get(str(uuid.uuid4()))

    theirs = session.scans.run(["iso42001"]).report_id
    assert theirs
    other = new_tenant("enterprise")
    with server.session(other.key) as stranger:
        with pytest.raises(NotFoundError) as caught:
            stranger.reports.get(theirs)
        with pytest.raises(NotFoundError):
            stranger.reports.delete(theirs)
        with pytest.raises(NotFoundError):
            stranger.reports.diff(theirs, theirs)
    assert_one_clean_line(caught.value, other.key)
    assert session.reports.get(theirs).report_id == theirs  # still there


def test_409_conflict_from_a_typed_call() -> None:
    """The public API has no 409 yet (the admin API's is covered in test_connection)."""
    reply = Reply(409, {"detail": "API key name already in use"})
    with (
        serving(reply) as (fake, session),
        pytest.raises(ConflictError) as caught,
    ):
        session.keys.create("dup", ["report:read"])
    assert caught.value.detail == "API key name already in use"
    assert fake.attempts == 1


def test_413_oversized_bodies(session: Session) -> None:
    many = [str(uuid.uuid4()) for _ in range(30_000)]  # > 1 MiB of JSON
    with pytest.raises(PayloadTooLargeError) as caught:
        session.tenant.set_subscriptions(many)
    assert "1048576" in caught.value.detail
    assert len(session.tenant.me().azure_subscription_ids) == 2  # unchanged

    plan = b'{"resource_changes": [' + b" " * (50 * 1_048_576) + b"]}"  # over 50 MiB
    with pytest.raises(PayloadTooLargeError) as iac:
        session.scans.iac(plan)
    assert "52428800" in iac.value.detail


def test_422_field_errors(session: Session) -> None:
    with pytest.raises(ValidationError) as unknown:
        session.scans.run(["iso42001", "nope"])
    (error,) = unknown.value.errors
    assert error["loc"] == ["body", "frameworks"]
    assert "nope" not in error["msg"]  # positions, never the caller's text
    assert "body.frameworks: Not a framework id: frameworks[1];" in str(unknown.value)

    with pytest.raises(ValidationError) as bad_id:
        session.tenant.set_subscriptions(["not-a-uuid"])
    assert bad_id.value.errors[0]["loc"] == ["body", "subscription_ids", 0]
    assert bad_id.value.errors[0]["type"] == "uuid_parsing"

    with pytest.raises(ValidationError) as bad_path:
        session.reports.get("not-a-report-id")
    assert bad_path.value.errors[0]["loc"] == ["path", "report_id"]

    with pytest.raises(ValidationError) as not_json:
        session.scans.iac(b"{not json")
    assert not_json.value.errors[0]["loc"] == ["body"]
    assert len(session.tenant.me().azure_subscription_ids) == 2  # unchanged


def test_429_from_the_real_rate_limit(server: LiveServer, session: Session) -> None:
    secret = session.keys.create("hammer", ["keys:read"]).key.get_secret_value()
    with server.session(secret, retries=0) as hammer:
        for _ in range(700):  # the server's default limit is 600 a minute per key
            status, _ = hammer.connection.fetch("api-keys", "/current")
            if status == 429:
                break
        assert status == 429
        with pytest.raises(RateLimitError) as caught:
            hammer.keys.current()
    error = caught.value
    assert error.retry_after is not None
    assert 0 < error.retry_after <= 60
    assert error.headers["retry-after"] == str(int(error.retry_after))
    assert_one_clean_line(error, secret)


def test_500_is_a_server_error_with_the_correlation_id() -> None:
    body = {
        "detail": "Internal server error (correlation id abc123XYZ9)",
        "correlation_id": "abc123XYZ9",
    }
    reply = Reply(500, body, {"X-Correlation-ID": "abc123XYZ9"})
    with (
        serving(reply) as (fake, session),
        pytest.raises(ServerError) as caught,
    ):
        session.tenant.me()
    assert caught.value.correlation_id == "abc123XYZ9"
    assert caught.value.status_code == 500
    assert "abc123XYZ9" in str(caught.value)
    assert fake.attempts == 1


def test_other_4xx_is_bad_request_and_text_bodies_are_kept() -> None:
    replies = [Reply(410, {"detail": "Token expired"}), Reply(400, "plain text, not JSON")]
    with ScriptedServer(*replies) as fake, Session(fake.url, "tut_x") as session:
        with pytest.raises(BadRequestError) as gone:
            session.health()
        with pytest.raises(BadRequestError) as plain:
            session.health()
    assert (gone.value.status_code, gone.value.detail) == (410, "Token expired")
    assert plain.value.detail == "plain text, not JSON"
    assert isinstance(plain.value, APIError)


def test_secrets_echoed_by_a_server_are_redacted_from_messages() -> None:
    secret, key = "sp-secret-value-123456", "tut_EchoedKey0123456789"
    detail = [{"loc": ["body", "client_secret"], "msg": f"bad {secret} for {key}", "type": "x"}]
    with (
        serving(Reply(422, {"detail": detail}), key=key) as (fake, session),
        pytest.raises(ValidationError) as caught,
    ):
        session.tenant.set_credentials(tenant_id="t", client_id="c", client_secret=secret)
    assert_one_clean_line(caught.value, secret, key)
    assert "[redacted]" in str(caught.value)
    assert secret not in json.dumps(fake.received[0].headers)


def test_a_short_secret_is_not_spelled_out_in_what_contains_it() -> None:
    """Replaced everywhere, a one-character secret showed where it occurred in an id."""
    from tutela.sdk.errors import redact

    guid = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert (
        redact(f"tenant {guid}: bad secret 'f'", ["f"]) == f"tenant {guid}: bad secret '[redacted]'"
    )


def test_a_proxys_html_page_is_cut_to_one_line_and_a_wrong_body_is_named() -> None:
    page = "<html>\n<body>\n" + "Bad gateway. " * 500 + "\n</body></html>"
    replies = [Reply(502, page), Reply(200, {"unexpected": True})]
    with serving(*replies, retries=0) as (fake, session):
        with pytest.raises(ServerError) as gateway:
            session.health()
        with pytest.raises(APIResponseValidationError) as wrong:
            session.health()
    assert_one_clean_line(gateway.value)
    assert len(str(gateway.value)) <= 1000
    assert gateway.value.detail == page  # the whole body is kept on the exception
    assert wrong.value.status_code == 200
    assert "GET /health" in str(wrong.value)
    assert fake.attempts == 2
