"""OpenTelemetry traces of a running server, received by a local OTLP/HTTP collector."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.server.observability.iac import RESOURCE_NAMES, TEMPLATE
from tests.server.observability.otlp import otlp_receiver
from tests.server.observability.running import seeded_tenant, serve_environment
from tests.serving import served
from tutela.server.config import Settings, load_settings
from tutela.server.tracing import configure_tracing

SERVER = 2  # Span.SpanKind.SPAN_KIND_SERVER in the OTLP protocol


def test_a_scan_request_is_one_trace_with_scan_and_store_spans(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    settings, tenant = seeded_tenant(settings_factory)
    with otlp_receiver() as receiver:
        environment = serve_environment(
            settings,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}",
            OTEL_BSP_SCHEDULE_DELAY="100",  # export every 0.1 s, not every 5 s
        )
        with served(environment, tmp_path / "serve.log") as base_url:
            response = httpx.post(
                f"{base_url}/scan/iac",
                headers={
                    **tenant.headers,
                    "content-type": "application/json",
                    "X-Correlation-ID": "trace-test-0001",
                },
                content=TEMPLATE,
                params={"label": "secret-label-text"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            spans = receiver.wait_for("POST /scan/iac", "scan", "store report")

    assert set(receiver.paths) == {"/v1/traces"}
    request = next(s for s in spans if s.name == "POST /scan/iac")
    scan = next(s for s in spans if s.name == "scan")
    store = next(s for s in spans if s.name == "store report")
    assert request.kind == SERVER
    assert request.service == scan.service == "tutela-api"
    assert request.trace_id == scan.trace_id == store.trace_id
    assert scan.parent_span_id == request.span_id
    assert store.parent_span_id == request.span_id
    assert request.attributes["http.route"] == "/scan/iac"
    assert request.attributes["http.response.status_code"] == 200
    for span in (request, scan, store):
        assert span.attributes["tutela.correlation_id"] == "trace-test-0001"
    assert scan.attributes["tutela.resources"] == 2

    # Ids and counts only: no key, no label a user typed, no resource name, no query string.
    exported = json.dumps([s.attributes for s in spans])
    assert tenant.owner_key not in exported
    assert tenant.owner_key[:12] not in exported
    assert "secret-label-text" not in exported
    for name in RESOURCE_NAMES:
        assert name not in exported


def test_off_without_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert configure_tracing(load_settings(), "tutela-api") is False


def test_an_email_sent_by_a_request_is_a_notify_span_of_its_trace(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    settings, tenant = seeded_tenant(settings_factory)
    with otlp_receiver() as receiver:
        environment = serve_environment(
            settings,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}",
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        with served(environment, tmp_path / "serve.log") as base_url:
            response = httpx.post(
                f"{base_url}/tenant/users",
                headers=tenant.headers,
                json={"email": "new.person@bank.example.com", "role": "member"},
                timeout=30,
            )
            assert response.status_code == 201, response.text
            spans = receiver.wait_for("POST /tenant/users", "notify")

    request = next(s for s in spans if s.name == "POST /tenant/users")
    notify = next(s for s in spans if s.name == "notify")
    assert notify.trace_id == request.trace_id
    assert notify.parent_span_id == request.span_id
    # The invitation's address and its one-time link stay out of the trace.
    exported = json.dumps([s.attributes for s in spans])
    assert "new.person" not in exported
    assert "token" not in exported
    assert list((settings.data_dir / "outbox").glob("*.eml"))  # it was sent
