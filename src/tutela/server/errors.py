"""Domain errors and the handlers that render every error as ``{"detail": ...}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tutela.server.observability import correlation_id

log = logging.getLogger("tutela.errors")


class DomainError(Exception):
    """An expected failure of a use case, carrying its HTTP status."""

    status_code = 400

    def __init__(self, detail: Any, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class NotAuthenticated(DomainError):
    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="tutela"'})


class Forbidden(DomainError):
    """Outside the caller's scopes, or the tenant is suspended."""

    status_code = 403


class PlanRestriction(Forbidden):
    """The tenant's plan does not include this feature or amount."""


class NotFound(DomainError):
    """Absent, or another tenant's: the two are never told apart."""

    status_code = 404


class Conflict(DomainError):
    status_code = 409


class InvalidInput(DomainError):
    """A semantic validation failure, shaped like FastAPI's own 422 detail."""

    status_code = 422

    def __init__(self, loc: tuple[str | int, ...], message: str, error_type: str = "value_error"):
        super().__init__([{"loc": list(loc), "msg": message, "type": error_type}])


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Rate limit exceeded; retry after {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )


class PayloadTooLarge(DomainError):
    status_code = 413


def _render(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": jsonable_encoder(detail)}, status_code=status, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return _render(exc.status_code, exc.detail, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is never echoed back: it may be a secret sent in the wrong field.
    errors = [
        {k: v for k, v in error.items() if k in ("loc", "msg", "type")} for error in exc.errors()
    ]
    return _render(422, errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _render(exc.status_code, exc.detail, dict(exc.headers or {}))


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    # This handler runs outside the request middleware, which has already reset the context.
    cid = request.scope.get("state", {}).get("correlation_id") or correlation_id()
    log.error("unhandled_error correlation_id=%s type=%s", cid, type(exc).__name__, exc_info=exc)
    return JSONResponse(
        {"detail": f"Internal server error (correlation id {cid})", "correlation_id": cid},
        status_code=500,
        headers={"X-Correlation-ID": cid},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled_error)
