"""The ``Idempotency-Key`` header and its answers, declared on every POST operation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from tutela.server.idempotency.service import HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER
from tutela.server.schemas import ErrorOut

_DOCUMENTED = "_tutela_idempotency_documented"

PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes the POST exactly-once: a repeat with the same key, request and API key within "
        "the retention window (TUTELA_IDEMPOTENCY_RETENTION_HOURS, default 24 h) replays the "
        f"first successful answer with `{REPLAYED_HEADER}: true` and runs nothing again. "
        "Error answers are not kept. The SDK and `tutela gate` send one (a UUID)."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[!-~]+$",  # printable ASCII, no spaces: what valid_key accepts
    },
}

RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorOut,
        "description": "A request with the same Idempotency-Key is still running: retry after "
        "`Retry-After` seconds to get its answer",
    },
    422: {
        "model": ErrorOut,
        "description": "Invalid request: the detail lists each field error (also an invalid "
        "Idempotency-Key, or one already used for a different request)",
    },
}


def document_idempotency(routes: Iterable[BaseRoute]) -> None:
    """Add the header and its 409 / 422 to each POST route; run before inclusion, like
    ``document_routes`` (idempotent: routers are shared by apps)."""
    for route in routes:
        if not isinstance(route, APIRoute) or "POST" not in (route.methods or set()):
            continue
        if getattr(route, _DOCUMENTED, False):
            continue
        setattr(route, _DOCUMENTED, True)
        extra = dict(route.openapi_extra or {})
        extra["parameters"] = [*extra.get("parameters", []), PARAMETER]
        route.openapi_extra = extra
        route.responses[409] = _merged(route.responses.get(409), RESPONSES[409])
        route.responses.setdefault(422, RESPONSES[422])


def _merged(existing: dict[str, Any] | None, ours: dict[str, Any]) -> dict[str, Any]:
    """A route's own 409 (e.g. no resource source) keeps its meaning; ours is added to it."""
    if existing is None:
        return dict(ours)
    description = existing.get("description", "")
    return {**existing, "description": f"{description}; or: {ours['description']}".lstrip("; ")}
