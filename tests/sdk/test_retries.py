"""Retries against a real local HTTP server that misbehaves on purpose, and the pure schedule."""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.sdk.scripted import DROP, Reply, ScriptedServer, serving
from tutela import AsyncSession, Session
from tutela.sdk import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from tutela.sdk._flow import Call, SessionConfig, status_and_data
from tutela.sdk._retry import retry_after

HEALTH = {"status": "ok", "version": "9.9.9"}
SCAN_BODY = {"frameworks": ["iso42001"]}


def test_429_with_retry_after_then_200_waits_as_told() -> None:
    replies = [Reply(429, {"detail": "slow down"}, {"Retry-After": "1"}), Reply(200, HEALTH)]
    with ScriptedServer(*replies) as fake, Session(fake.url, "tut_x") as session:
        started = time.monotonic()
        assert session.health().version == "9.9.9"
        elapsed = time.monotonic() - started
    assert fake.attempts == 2
    assert elapsed >= 1.0  # Retry-After, not the 0.5 s backoff


def test_503_twice_then_200_backs_off_exponentially() -> None:
    replies = [Reply(503, {"detail": "busy"}), Reply(503, {"detail": "busy"}), Reply(200, HEALTH)]
    with ScriptedServer(*replies) as fake, Session(fake.url, "tut_x") as session:
        started = time.monotonic()
        assert session.health().status == "ok"
        elapsed = time.monotonic() - started
    assert fake.attempts == 3
    assert 0.375 + 0.75 <= elapsed < 5  # 0.5 s then 1 s, each less up to a quarter of jitter


@pytest.mark.parametrize("status", [502, 504])
def test_502_and_504_are_retried(status: int) -> None:
    replies = [Reply(status, {"detail": "gateway"}, {"Retry-After": "0"}), Reply(200, HEALTH)]
    with ScriptedServer(*replies) as fake, Session(fake.url, "tut_x") as session:
        assert session.health().status == "ok"
    assert fake.attempts == 2


def test_dropped_connection_then_200() -> None:
    with ScriptedServer(DROP, Reply(200, HEALTH)) as fake, Session(fake.url, "tut_x") as session:
        assert session.health().status == "ok"
    assert fake.attempts == 2


def test_retries_are_bounded_then_the_last_error_is_raised() -> None:
    busy = Reply(503, {"detail": "busy"}, {"Retry-After": "0"})
    with (
        serving(*[busy] * 5, retries=2) as (fake, session),
        pytest.raises(ServerError) as caught,
    ):
        session.health()
    assert fake.attempts == 3
    assert caught.value.status_code == 503
    with (
        serving(busy, Reply(200, HEALTH), retries=0) as (fake, session),
        pytest.raises(ServerError),
    ):
        session.health()
    assert fake.attempts == 1


def test_dropped_every_time_is_a_connection_error_after_the_retries() -> None:
    with (
        serving(DROP, DROP, key="tut_k", retries=1) as (fake, session),
        pytest.raises(APIConnectionError) as caught,
    ):
        session.tenant.me()
    assert fake.attempts == 2
    assert "RemoteProtocolError" in str(caught.value)
    assert "tut_k" not in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(500, {"detail": "Internal server error (correlation id c1)"}), ServerError),
        (Reply(400, {"detail": "bad"}), BadRequestError),
        (Reply(404, {"detail": "Report not found"}), NotFoundError),
    ],
    ids=["500", "400", "404"],
)
def test_never_retried(reply: Reply, error: type[Exception]) -> None:
    with (
        serving(reply, Reply(200, HEALTH)) as (fake, session),
        pytest.raises(error),
    ):
        session.health()
    assert fake.attempts == 1


def test_low_level_verbs_retry_too_and_return_the_final_status() -> None:
    replies = [Reply(503, {"detail": "busy"}, {"Retry-After": "0"}), Reply(404, {"detail": "no"})]
    with ScriptedServer(*replies) as fake, Session(fake.url, "tut_x") as session:
        assert session.connection.fetch("report", "/COMP-20261123-093005") == (
            404,
            {"detail": "no"},
        )
    assert fake.attempts == 2


def test_retry_after_over_60_seconds_is_not_waited_for() -> None:
    reply = Reply(429, {"detail": "Rate limit exceeded"}, {"Retry-After": "120"})
    with (
        serving(reply, Reply(200, HEALTH)) as (fake, session),
        pytest.raises(RateLimitError) as caught,
    ):
        session.health()
    assert fake.attempts == 1
    assert caught.value.retry_after == 120


def test_timeout_is_retried_then_raised() -> None:
    slow = Reply(200, HEALTH, delay=0.5)
    with (
        serving(slow, slow, timeout=0.1, retries=1) as (fake, session),
        pytest.raises(APITimeoutError) as caught,
    ):
        session.health()
    assert fake.attempts == 2
    assert "timed out" in str(caught.value)


def test_a_retried_post_keeps_its_idempotency_key() -> None:
    report = {
        "scan_ts": "2026-11-23T09:30:05Z",
        "frameworks": ["iso42001"],
        "critical_count": 0,
        "high_count": 0,
        "medium_count": 0,
        "low_count": 0,
        "findings": [],
    }
    busy = Reply(503, {"detail": "busy"}, {"Retry-After": "0"})
    script: list[Reply | str] = [DROP, busy, Reply(200, report), Reply(200, report)]
    with ScriptedServer(*script) as fake, Session(fake.url, "tut_x") as session:
        assert session.scans.run(["iso42001"]).frameworks == ["iso42001"]
        session.scans.run(["iso42001"])
    keys = [r.headers.get("idempotency-key") for r in fake.received]
    assert fake.attempts == 4
    assert keys[0]
    assert keys[0] == keys[1] == keys[2]
    assert keys[3]
    assert keys[3] != keys[0]
    assert all(r.body == b'{"frameworks":["iso42001"]}' for r in fake.received)


def test_get_has_no_idempotency_key_and_every_request_names_the_sdk() -> None:
    with ScriptedServer(Reply(200, HEALTH)) as fake, Session(fake.url, "tut_ua") as session:
        session.health()
    (request,) = fake.received
    assert "idempotency-key" not in request.headers
    assert request.headers["user-agent"].startswith("tutela-sdk/")
    assert request.headers["x-api-key"] == "tut_ua"


def test_async_session_retries_with_the_same_flows() -> None:
    busy = Reply(503, {"detail": "busy"}, {"Retry-After": "0"})
    script: list[Reply | str] = [DROP, busy, Reply(200, {"items": [], "next_cursor": None})]

    async def scenario(url: str) -> tuple[int, Any]:
        async with AsyncSession(url, "tut_x") as session:
            return await session.connection.create("reports", "/diff", {"report_a": "a"})

    with ScriptedServer(*script, Reply(500, {"detail": "x"})) as fake:
        assert asyncio.run(scenario(fake.url)) == (200, {"items": [], "next_cursor": None})
        keys = {r.headers["idempotency-key"] for r in fake.received}
    assert fake.attempts == 3
    assert len(keys) == 1


# --- the schedule itself: drive the sans-I/O flow, no network ------------------------------------


def drive(retries: int, outcomes: list[httpx.Response | httpx.TransportError]) -> list[float]:
    """Feeds ``outcomes`` to one call's flow; the sleeps it asked for."""
    config = SessionConfig("http://tutela.test", SecretStr("tut_x"), 5.0, retries, "ua")
    flow = Call("GET", "/health", status_and_data, raise_for_status=False).flow(config)
    sleeps: list[float] = []
    step = next(flow)
    pending = list(outcomes)
    try:
        while True:
            if isinstance(step, httpx.Request):
                outcome = pending.pop(0)
                if isinstance(outcome, httpx.Response):
                    outcome.request = step
                step = flow.send(outcome)
            else:
                sleeps.append(step)
                step = flow.send(None)
    except StopIteration:
        return sleeps
    except APIConnectionError:
        return sleeps


def test_backoff_doubles_from_half_a_second_to_8_with_jitter() -> None:
    sleeps = drive(7, [httpx.Response(503) for _ in range(8)])
    nominal = [0.5, 1, 2, 4, 8, 8, 8]
    assert len(sleeps) == 7
    for slept, expected in zip(sleeps, nominal, strict=True):
        assert 0.75 * expected <= slept <= expected


def test_retry_after_is_honoured_up_to_60_seconds() -> None:
    assert drive(2, [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]) == [7]
    assert drive(2, [httpx.Response(429, headers={"Retry-After": "61"})]) == []
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    (slept,) = drive(1, [httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200)])
    assert 28 <= slept <= 30
    assert retry_after({"retry-after": "soon"}) is None


def test_which_outcomes_are_retried() -> None:
    request = httpx.Request("GET", "http://tutela.test/health")
    retried: list[httpx.Response | httpx.TransportError] = [
        httpx.Response(429),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
        httpx.ConnectError("refused", request=request),
        httpx.ReadTimeout("slow", request=request),
        httpx.RemoteProtocolError("dropped", request=request),
    ]
    for outcome in retried:
        assert len(drive(1, [outcome, httpx.Response(200)])) == 1, outcome
    final: list[httpx.Response | httpx.TransportError] = [
        httpx.Response(s) for s in (200, 201, 400, 401, 403, 404, 409, 413, 422, 500, 501)
    ]
    final.append(httpx.UnsupportedProtocol("ftp", request=request))
    for outcome in final:
        assert drive(3, [outcome]) == [], outcome
