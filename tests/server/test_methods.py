"""OPTIONS and 405: the methods of a resource, as the OpenAPI document lists them.

OPTIONS on any route is a 204 with ``Allow`` (RFC 9110 9.3.7), no key needed; a method the
resource does not have is a 405 with the same ``Allow``. Starlette's own 405 named one route's
methods only (GET for /reports, which also answers DELETE) and OPTIONS was a 405.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.platform import Platform

SPEC_METHODS = {"get", "put", "post", "patch", "delete"}


def _concrete(path: str) -> str:
    """A path of the document with each parameter filled: OPTIONS needs no existing object."""
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)


def _matches(template: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path) is not None


def _allow(spec: dict[str, Any], path: str) -> list[str]:
    return sorted({m.upper() for m in spec["paths"][path] if m in SPEC_METHODS} | {"OPTIONS"})


@pytest.mark.parametrize(
    ("prefix", "document"), [("", "/openapi.json"), ("/admin", "/admin/openapi.json")]
)
def test_options_on_every_documented_path_is_204_listing_its_methods(
    platform: Platform, prefix: str, document: str
) -> None:
    spec = platform.client.get(document).json()
    assert len(spec["paths"]) >= 8
    for path in spec["paths"]:
        response = platform.client.options(prefix + _concrete(path))
        assert response.status_code == 204, path
        assert response.headers["Allow"] == ", ".join(_allow(spec, path)), path
        assert response.content == b""
        assert response.headers["X-Correlation-ID"]


@pytest.mark.parametrize(
    ("prefix", "document"), [("", "/openapi.json"), ("/admin", "/admin/openapi.json")]
)
def test_a_method_a_path_does_not_have_is_405_with_the_same_allow(
    platform: Platform, prefix: str, document: str
) -> None:
    spec = platform.client.get(document).json()
    checked = 0
    for path in spec["paths"]:
        allow = _allow(spec, path)
        # /api-keys/current also matches /api-keys/{key_id}, which routing gives its PATCH.
        routed_elsewhere = {
            m.upper()
            for other in spec["paths"]
            if other != path and _matches(other, _concrete(path))
            for m in spec["paths"][other]
        }
        for method in ("GET", "PUT", "POST", "PATCH", "DELETE", "TRACE"):
            if method in allow or method in routed_elsewhere:
                continue
            response = platform.client.request(method, prefix + _concrete(path))
            assert response.status_code == 405, f"{method} {path}"
            assert response.headers["Allow"] == ", ".join(allow), f"{method} {path}"
            assert response.json() == {"detail": "Method Not Allowed"}
            checked += 1
    assert checked >= 20


def test_options_needs_no_key_and_unknown_paths_stay_404(platform: Platform) -> None:
    reports = platform.client.options("/reports")
    assert reports.status_code == 204
    assert reports.headers["Allow"] == "DELETE, GET, OPTIONS"
    # /api-keys/current is its own resource (GET), not /api-keys/{key_id} (GET, PATCH, DELETE).
    assert platform.client.options("/api-keys/current").headers["Allow"] == "GET, OPTIONS"
    assert platform.client.options("/no/such/route").status_code == 404
