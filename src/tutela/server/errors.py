"""Domain errors and the handlers that render every error as ``{"detail": ...}``."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route, compile_path

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

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(
            detail or f"Rate limit exceeded; retry after {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )


class PayloadTooLarge(DomainError):
    status_code = 413


class ServiceUnavailable(DomainError):
    """A service the request depends on (a tenant's Key Vault) refused or did not answer: the
    request changed nothing and may be retried once it is back."""

    status_code = 503


def error_body(detail: Any) -> bytes:
    """``{"detail": …}`` as every error response writes it, for answers sent as raw ASGI."""
    return bytes(JSONResponse({"detail": jsonable_encoder(detail)}).body)


def _render(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": jsonable_encoder(detail)}, status_code=status, headers=headers)


async def domain_error_json(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return _render(exc.status_code, exc.detail, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is never echoed back: it may be a secret sent in the wrong field.
    errors = [
        {k: v for k, v in error.items() if k in ("loc", "msg", "type")} for error in exc.errors()
    ]
    for error in errors:
        error["loc"] = [_position(part) for part in error.get("loc", ())]
        error["msg"] = _QUOTING_MESSAGES.get(error.get("type", ""), error.get("msg"))
        if error.get("type") == "value_error":  # our validators' own sentences, as written
            error["msg"] = str(error["msg"]).removeprefix("Value error, ")
    return _render(422, errors)


# Pydantic messages of these types quote a piece of the input ("… found `x` at 1"): a fixed text.
_QUOTING_MESSAGES = {
    "uuid_parsing": "Input should be a valid UUID (32 hexadecimal digits, as 8-4-4-4-12)",
    "uuid_version": "Input should be a UUID of the expected version",
}


_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
SENT_KEY = "(a key you sent)"


def _position(part: Any) -> Any:
    """A ``loc`` element as shown: an index or a field name; a key the caller made up (an
    unknown field, a map's key) is not echoed unless it reads as a plain name."""
    if isinstance(part, int) or (isinstance(part, str) and _FIELD_NAME.match(part)):
        return part
    return SENT_KEY


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    detail = exc.detail
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError | UnicodeError):
        # FastAPI's "There was an error parsing the body", when its JSON decoder gave up.
        detail = "The body could not be read as JSON: not UTF-8, or nested too deeply"
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
        if request.method == "OPTIONS":
            # RFC 9110 9.3.7: OPTIONS asks what the resource supports; no key needed to ask.
            return Response(status_code=204, headers=headers)
    return _render(exc.status_code, detail, headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods of the resource the path names (as in the OpenAPI document), and OPTIONS.

    The resource is the path template of the first route that matches the path, as routing
    picks it: /api-keys/current, not /api-keys/{key_id}. Starlette's own 405 names the methods
    of one route only: GET alone for /reports, which also answers DELETE.
    """
    # Imported here: openapi.py imports auth, which imports this module.
    from tutela.server.openapi import api_routes

    app = request.app
    # API routes (through included routers), then the app's own: the docs and the spec.
    routes: list[tuple[str, Route]] = [*api_routes(app)]
    routes += [(r.path, r) for r in app.routes if type(r) is Route]
    # The path within the app: under the /admin mount, without its prefix (the root path).
    path, root = request.scope["path"], request.scope.get("root_path", "")
    path = path.removeprefix(root) if root and path.startswith(root + "/") else path
    resource = next((t for t, _ in routes if compile_path(t)[0].fullmatch(path)), None)
    methods = {"OPTIONS"}
    for template, route in routes:
        if template == resource:
            methods |= route.methods or set()
    return sorted(methods)


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
    app.add_exception_handler(DomainError, domain_error_json)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled_error)
