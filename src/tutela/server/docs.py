"""Swagger UI served entirely by the server, so `/api-docs` works on a closed network.

FastAPI's own docs page loads Swagger UI from a CDN. The script, stylesheet and icon here come
from the `fastapi-swagger` package (installed with the server extra, which tracks Swagger UI
releases); nothing is copied into this repository and the page references no other host.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from tutela.server.errors import NotFound

DOCS_PATH = "/api-docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
ASSET_PACKAGE = "fastapi_swagger.resources"
# The only files served: a fixed list, so no request names a path inside the package.
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# The assets change only with the installed package, i.e. with a new server process.
ASSET_CACHE_CONTROL = "public, max-age=86400"


@cache
def swagger_asset_bytes(name: str) -> bytes:
    return resources.files(ASSET_PACKAGE).joinpath(name).read_bytes()


def install_swagger_ui(app: FastAPI) -> None:
    """`/api-docs` and its assets on `app`; its FastAPI(docs_url=None) keeps the CDN page off."""

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        # Mounted apps (the admin API under /admin) see their prefix as the root path.
        root = str(request.scope.get("root_path", "")).rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url=None,
            # Swagger UI would otherwise send the spec to an online validator for its badge.
            swagger_ui_parameters={"validatorUrl": None},
        )
        # FastAPI's page names no language; screen readers need it (axe: html-has-lang).
        html = bytes(page.body).replace(b"<html>", b'<html lang="en">', 1)
        return HTMLResponse(html, status_code=page.status_code)

    @app.get(f"{ASSETS_PATH}/{{name}}", include_in_schema=False)
    def swagger_ui_asset(name: str) -> Response:
        media_type = ASSET_TYPES.get(name)
        if media_type is None:
            raise NotFound("No such documentation asset")
        return Response(
            swagger_asset_bytes(name),
            media_type=media_type,
            headers={"Cache-Control": ASSET_CACHE_CONTROL},
        )
