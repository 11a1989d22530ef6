"""The app factory: the public API, the admin API mounted at /admin, docs and error handling."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.middleware.gzip import GZipMiddleware

from tutela import __version__
from tutela.server.admin.router import router as admin_router
from tutela.server.analytics.router import router as analytics_router
from tutela.server.auth.router import router as auth_router
from tutela.server.catalog.router import router as catalog_router
from tutela.server.config import Settings, load_settings
from tutela.server.db import transaction
from tutela.server.docs import install_swagger_ui
from tutela.server.encryption.router import router as encryption_router
from tutela.server.errors import DomainError, install_error_handlers
from tutela.server.exceptions.router import router as exceptions_router
from tutela.server.governance.router import router as governance_router
from tutela.server.house_policy.router import router as house_policy_router
from tutela.server.idempotency.middleware import IdempotencyMiddleware
from tutela.server.idempotency.openapi import document_idempotency
from tutela.server.insights.router import router as insights_router
from tutela.server.jobs.inprocess import Scheduler
from tutela.server.keys.router import router as keys_router
from tutela.server.metrics import serve_metrics, stop_metrics
from tutela.server.middleware import BodyLimit, RequestContextMiddleware
from tutela.server.observability import configure_logging
from tutela.server.openapi import document_routes, error_responses
from tutela.server.platform_settings.router import router as platform_settings_router
from tutela.server.readiness import readiness
from tutela.server.reports.router import router as reports_router
from tutela.server.request_telemetry import RequestTelemetryMiddleware, native_telemetry_off
from tutela.server.runtime import Runtime, RuntimeDep
from tutela.server.scans.router import router as scans_router
from tutela.server.schemas import OutputModel
from tutela.server.snapshots.router import router as snapshots_router
from tutela.server.sso.router import router as sso_router
from tutela.server.tenants.router import router as tenants_router
from tutela.server.tenants_lifecycle.router import router as tenant_lifecycle_router
from tutela.server.tracing import API_SERVICE, configure_tracing, shutdown_tracing
from tutela.server.users.router import router as users_router
from tutela.server.web.pages import install_portal

DESCRIPTION = """Compliance for AI infrastructure on Azure.

Authenticate with an API key in `X-API-Key` or as `Authorization: Bearer <key>`. Every key
carries scopes (a subset of its owner's role); each operation lists the scopes it needs.
Errors are always JSON `{"detail": ...}`. Text may not hold NUL or unpaired surrogates, in
a body, the query string or a path (422). `OPTIONS` on any path answers 204 with `Allow`."""

TAGS = [
    {
        "name": "health",
        "description": "Liveness and readiness, for load balancers and pipelines.",
    },
    {"name": "catalog", "description": "Frameworks and plans."},
    {
        "name": "tenant",
        "description": "Your tenant, its subscriptions, their snapshots, Azure credentials, "
        "house policy and single sign-on provider.",
    },
    {
        "name": "encryption",
        "description": "Customer-managed keys (Azure Key Vault): status, enable, rotate, switch "
        "back to the platform key.",
    },
    {
        "name": "users",
        "description": "Your tenant's people: invitations by email, roles, removal.",
    },
    {"name": "api-keys", "description": "Your API keys and the scopes you may grant."},
    {
        "name": "auth",
        "description": "Signing in to the portal, with a password or single sign-on (OpenID "
        "Connect): a session cookie, and the CSRF token that its state-changing requests carry "
        "in X-CSRF-Token instead of an API key.",
    },
    {"name": "scans", "description": "Scans of your subscriptions, dry runs and IaC scans."},
    {"name": "reports", "description": "Saved reports: history, diffs, deletion."},
    {
        "name": "governance",
        "description": "Continuous governance: scheduled scans, drift, their history.",
    },
    {
        "name": "exceptions",
        "description": "Risk acceptance: findings accepted until a date, approved by a second "
        "person (four eyes), reported as accepted and left out of counts and gates.",
    },
]


# Smaller answers gain too little from gzip to be worth a compressor each.
GZIP_MINIMUM_BYTES = 1024

# Routes whose bodies are files (exports, plans): TUTELA_MAX_UPLOAD_BYTES instead of the default.
UPLOAD_ROUTES = (
    ("PUT", "/tenant/subscriptions/{subscription_id}/snapshot"),
    ("POST", "/scan/iac"),
)


class Health(OutputModel):
    status: str
    version: str


class ServiceUnavailable(DomainError):
    status_code = 503


class Ready(OutputModel):
    status: str
    checks: dict[str, str]


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def _lifespan(runtime: Runtime) -> Any:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything loaded at start (modules, the catalogue, schemas) lives as long as the
        # process: frozen, the cycle collector stops walking it at every collection a scan's
        # many allocations trigger (about half of a 1,000-resource scan's time otherwise).
        gc.collect()
        gc.freeze()
        # With Celery, `tutela beat` and `tutela worker` run the jobs instead; of several
        # `tutela serve` workers, the one holding the scheduler lock (jobs.election).
        scheduler, lock = None, None
        if runtime.settings.job_backend == "inprocess":
            if runtime.settings.workers > 1:
                from tutela.server.jobs.election import take_scheduler_lock

                lock = take_scheduler_lock(runtime.settings.data_dir)
            if runtime.settings.workers == 1 or lock is not None:
                scheduler = Scheduler(runtime)
                scheduler.start()
        metrics = serve_metrics(runtime.settings)  # TUTELA_METRICS_PORT: off the public port
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if lock is not None:
                lock.release()
            stop_metrics(metrics)
            shutdown_tracing()
            runtime.close()

    return lifespan


def create_admin_app(runtime: Runtime) -> FastAPI:
    admin = FastAPI(
        title="Tutela admin API",
        version=__version__,
        description="For platform operators: keys with the `admin:*` scopes.",
        docs_url=None,  # install_swagger_ui: served from the server, not a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        generate_unique_id_function=_operation_id,
        **native_telemetry_off(),
    )
    admin.state.runtime = runtime
    install_error_handlers(admin)
    install_swagger_ui(admin)
    document_routes(admin_router.routes)
    document_idempotency(admin_router.routes)
    admin.include_router(admin_router)
    document_routes(analytics_router.routes)
    admin.include_router(analytics_router)
    document_routes(tenant_lifecycle_router.routes)
    document_idempotency(tenant_lifecycle_router.routes)
    admin.include_router(tenant_lifecycle_router)
    document_routes(platform_settings_router.routes)
    document_idempotency(platform_settings_router.routes)
    admin.include_router(platform_settings_router)
    return admin


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing(settings, API_SERVICE)
    runtime = runtime or Runtime.start(settings)
    app = FastAPI(
        title="Tutela API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,  # install_swagger_ui: served from the server, not a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        generate_unique_id_function=_operation_id,
        lifespan=_lifespan(runtime),
        **native_telemetry_off(),
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    install_swagger_ui(app)

    # On a router documented before inclusion, like the others: responses added to a route
    # that already exists lose their models (no ErrorOut schema in the spec).
    health_router = APIRouter(tags=["health"])

    @health_router.get(
        "/health",
        summary="Platform health; no authentication",
        responses=error_responses(503),
    )
    def health(runtime: RuntimeDep) -> Health:
        try:
            with transaction(runtime.sessions, readonly=True) as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:
            raise ServiceUnavailable("Database unavailable") from exc
        return Health(status="ok", version=__version__)

    @health_router.get(
        "/health/ready",
        summary="Readiness: database, broker and platform key usable; no authentication",
        description="200 when this process can serve: the database answers, the Redis broker "
        "answers PING (when TUTELA_REDIS_URL is set), the platform key file holds the key in "
        "use. Otherwise 503, its `detail` naming what is not usable, with the same `checks`.",
        response_model=Ready,
        responses=error_responses(503),
    )
    def ready(runtime: RuntimeDep) -> Any:
        result = readiness(runtime)
        if not result.ready:
            return JSONResponse(
                {"detail": f"Not ready: {result.problems}", "checks": result.checks},
                status_code=503,
            )
        return Ready(status="ready", checks=result.checks)

    @app.get("/api/v1/api-docs", include_in_schema=False)
    def openapi_alias() -> dict[str, Any]:
        return app.openapi()

    for router in (
        health_router,
        auth_router,
        sso_router,
        catalog_router,
        tenants_router,
        users_router,
        encryption_router,
        house_policy_router,
        snapshots_router,
        keys_router,
        scans_router,
        reports_router,
        governance_router,
        exceptions_router,
        insights_router,
    ):
        document_routes(router.routes)
        document_idempotency(router.routes)
        app.include_router(router)
    install_portal(app)
    app.mount("/admin", create_admin_app(runtime))
    # Added before RequestContextMiddleware, so inside it: body limits and correlation ids
    # apply to replays too; around the /admin mount, so admin POSTs are covered.
    app.add_middleware(IdempotencyMiddleware, runtime=runtime)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_limits=[
            BodyLimit.for_route(method, path, settings.max_upload_bytes)
            for method, path in UPLOAD_ROUTES
        ],
    )
    # Outside the request context, so its own 413s and 422s are counted and timed too.
    app.add_middleware(RequestTelemetryMiddleware)
    # Outermost: every answer leaves compressed for a client that accepts gzip (the SDK's httpx
    # does, and decodes it), 413s and replays included. Reports are JSON that repeats a few
    # thousand texts: level 6 makes them about 100 times smaller at about 300 MB/s.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
    return app
