"""Document every route from its ``Authorize`` dependency: scopes, plan and error responses."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import sort_scopes
from tutela.server.schemas import ErrorOut

_DOCUMENTED = "_tutela_documented"

_ERRORS = {
    400: "The body could not be read as JSON: not UTF-8, or nested too deeply",
    401: "Missing, malformed, unknown, expired or revoked API key",
    403: "Outside the key's scopes, tenant suspended, or not in the tenant's plan",
    404: "Not found (also for another tenant's objects)",
    413: "Request body too large",
    422: "Invalid request: the detail lists each field error",
    409: "Conflicts with the current state; the detail says with what",
    429: "Rate limited; retry after the `Retry-After` seconds",
    500: "Internal error; the detail carries a correlation id",
    502: "Azure could not be read (network, access or its answer); the detail names the cause",
    503: "Unavailable for now (Azure throttling, or the database is down); retry later",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the errors a route answers beyond those every route documents."""
    return {code: {"model": ErrorOut, "description": _ERRORS[code]} for code in sorted(codes)}


def find_authorize(dependant: Dependant) -> Authorize | None:
    """The route's ``Authorize`` dependency, searched depth-first."""
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Authorize):
            return dependency.call
        found = find_authorize(dependency)
        if found is not None:
            return found
    return None


def _error_responses(authenticated: bool, has_body: bool) -> dict[int | str, dict[str, Any]]:
    # 422 everywhere: a NUL in any path or query string is one (middleware.py).
    codes = [500, 422]
    if authenticated:
        codes += [401, 403, 404, 429]
    if has_body:
        codes += [400, 413]
    return error_responses(*codes)


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every API route of an app with its effective path, through included routers."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before lazily included routers
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, route
        return
    for context in contexts(app.routes):
        original = context.original_route
        if isinstance(original, APIRoute):
            yield context.path or original.path, original


def document_routes(routes: Iterable[BaseRoute]) -> None:
    """Append scope and plan to each description and declare the error responses.

    Run on a router's routes before it is included; idempotent, as routers are shared by apps.
    """
    for route in routes:
        if not isinstance(route, APIRoute) or getattr(route, _DOCUMENTED, False):
            continue
        setattr(route, _DOCUMENTED, True)
        authorize = find_authorize(route.dependant)
        lines = [route.description.strip()] if route.description else []
        declared = (route.openapi_extra or {}).get("security")
        if authorize is None and declared:  # the /auth routes that read the session cookie
            lines.append("**Authentication:** the portal's session cookie.")
            extra: dict[str, Any] = {"security": declared}
        elif authorize is None:
            lines.append("**Authentication:** none.")
            extra = {"security": []}
        else:
            scopes = sort_scopes(authorize.scopes)
            lines.append(
                "**Required scopes:** "
                + (", ".join(f"`{s}`" for s in scopes) if scopes else "any valid key")
                + ".  \n**Minimum plan:** "
                + (f"`{authorize.min_plan}`" if authorize.min_plan else "all plans")
                + "."
            )
            extra = {"x-required-scopes": scopes, "x-minimum-plan": authorize.min_plan}
        route.description = "\n\n".join(lines)
        route.openapi_extra = {**(route.openapi_extra or {}), **extra}
        has_body = route.body_field is not None
        authenticated = authorize is not None or bool(declared)
        for code, spec in _error_responses(authenticated, has_body).items():
            route.responses.setdefault(code, spec)
