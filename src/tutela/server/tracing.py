"""OpenTelemetry traces: a request's span and its children (scan, store report, notify, jobs).

Tracing is on when the standard ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: ``configure_tracing`` then installs the SDK's tracer
provider with a batching OTLP/HTTP (protobuf) exporter, which reads the other ``OTEL_*``
variables (headers, timeout, ``OTEL_SERVICE_NAME``) itself. Off, the SDK is never imported and
``span`` yields the API's non-recording span: start-up pays nothing for it.

Span attributes are ids and counts only, never a secret or a resource's name; every span
carries the correlation id of the request or job it belongs to.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from opentelemetry import trace

from tutela.server.observability import correlation_id

if TYPE_CHECKING:
    from opentelemetry.context import Context

    from tutela.server.config import Settings

log = logging.getLogger("tutela.tracing")

API_SERVICE = "tutela-api"
WORKER_SERVICE = "tutela-worker"

_tracer = trace.get_tracer("tutela")
_lock = threading.Lock()
_configured = False

AttributeValue = str | int | float | bool
P = ParamSpec("P")
R = TypeVar("R")


def configure_tracing(settings: Settings, default_service_name: str) -> bool:
    """Install the SDK's tracer provider and OTLP exporter if an endpoint is configured, once
    per process; True when traces are exported."""
    global _configured
    if not settings.otlp_traces_endpoint:
        return False
    with _lock:
        if _configured:
            return True
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: default_service_name}))
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _configured = True
    log.info("tracing_enabled service=%s", resource.attributes.get(SERVICE_NAME))
    return True


def tracing_enabled() -> bool:
    """Whether this process exports traces (``configure_tracing`` found an endpoint)."""
    return _configured


def shutdown_tracing() -> None:
    """Export the spans still batched (at the end of a process)."""
    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if _configured and callable(shutdown):
        shutdown()


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, AttributeValue] | None = None,
    *,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
    context: Context | None = None,
) -> Iterator[trace.Span]:
    """A span of the current trace (or of ``context``), current within the block; an
    exception marks it failed."""
    with _tracer.start_as_current_span(name, context=context, kind=kind) as current:
        if current.is_recording():
            current.set_attribute("tutela.correlation_id", correlation_id())
            current.set_attributes(attributes or {})
        yield current


def traced(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function inside a span of its own, named ``name``."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name):
                return function(*args, **kwargs)

        return wrapper

    return decorate
