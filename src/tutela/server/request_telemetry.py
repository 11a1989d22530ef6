"""Per-request metrics and the request's trace span, labelled by route template.

The route is the template the request matched (``/report/{report_id}``, ``/admin/tenants``),
read from the scope after routing, so label cardinality stays bounded whatever paths clients
send; a request no route matched is ``other``. The span carries the method, the template, the
status and the correlation id: not the path or the query string, which may hold ids a caller
chose or one-time tokens.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.propagate import extract
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tutela.server.metrics import HTTP_DURATION, HTTP_REQUESTS
from tutela.server.tracing import span, tracing_enabled

UNMATCHED = "other"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope, root_path: str) -> str:
    """The template of the route that answered, with the prefix of any mount it sits under."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if route is None or isinstance(route, Mount) or not isinstance(path, str):
        return UNMATCHED
    mounted_under = str(scope.get("root_path", ""))[len(root_path) :]
    return mounted_under + path


class RequestTelemetryMiddleware:
    """Counts and times every HTTP request; with tracing on, one server span per request.

    Sits outside ``RequestContextMiddleware``, so the 413s and 422s that it answers itself are
    counted too; that middleware leaves the request's correlation id in ``scope["state"]``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in _METHODS else "other"
        root_path = str(scope.get("root_path", ""))
        status = 500  # until a response starts
        started = time.perf_counter()

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        if not tracing_enabled():
            try:
                await self.app(scope, receive, observing_send)
            finally:
                _count(method, route_template(scope, root_path), status, started)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        parent = extract(headers)  # a caller's traceparent, when it sends one
        with span(method, kind=trace.SpanKind.SERVER, context=parent) as current:
            try:
                await self.app(scope, receive, observing_send)
            finally:
                route = route_template(scope, root_path)
                _count(method, route, status, started)
                current.update_name(f"{method} {route}")
                current.set_attributes(
                    {
                        "http.request.method": method,
                        "http.route": route,
                        "http.response.status_code": status,
                        "tutela.correlation_id": scope.get("state", {}).get("correlation_id", "-"),
                    }
                )
                if status >= 500:
                    current.set_status(trace.StatusCode.ERROR)


def _count(method: str, route: str, status: int, started: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)


def native_telemetry_off() -> dict[str, Any]:
    """``FastAPI(**native_telemetry_off())``: FastAPI 0.142 and later trace requests themselves
    once a tracer provider is set, with the path and query string as attributes; this module's
    span is the request's span instead, so theirs is turned off (older FastAPI has none)."""
    if "telemetry" not in inspect.signature(FastAPI).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
