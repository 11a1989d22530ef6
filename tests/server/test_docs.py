"""Swagger UI works on a closed network: every file the docs pages use comes from the server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import service_unavailable
from tests.platform import Platform
from tests.serving import DemoServer

CHROMIUM = "/usr/bin/chromium"
EXPECTED_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
DOCS_PAGES = [("/api-docs", "/openapi.json"), ("/admin/api-docs", "/admin/openapi.json")]


class _AssetLinks(HTMLParser):
    """Every URL the page makes the browser fetch: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href"):
            if tag in {"script", "link", "img"} and attributes.get(name):
                self.urls.append(str(attributes[name]))


def _asset_urls(html: str) -> list[str]:
    parser = _AssetLinks()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize(("page", "spec"), DOCS_PAGES)
def test_every_asset_of_the_docs_page_is_served_by_the_server(
    platform: Platform, page: str, spec: str
) -> None:
    response = platform.client.get(page)
    assert response.status_code == 200
    assert "cdn" not in response.text.lower()
    assert "https://" not in response.text
    assert "http://" not in response.text
    urls = _asset_urls(response.text)
    assert len(urls) == 3  # the script, the stylesheet, the icon
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), url  # a path on this server
        assert url.startswith(page + "/assets/"), url
        asset = platform.client.get(url)
        assert asset.status_code == 200, url
        expected = EXPECTED_TYPES[Path(parts.path).suffix]
        assert asset.headers["content-type"].startswith(expected), url
        assert len(asset.content) > 100, url
    assert f"'{spec}'" in response.text


def test_the_script_is_swagger_ui_and_no_other_file_is_served(platform: Platform) -> None:
    script = platform.client.get("/api-docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in script.text
    assert script.headers["cache-control"].startswith("public")
    for name in ("__init__.py", "..%2F__init__.py", "swagger-ui.js"):
        missing = platform.client.get(f"/api-docs/assets/{name}")
        assert missing.status_code == 404
        assert set(missing.json()) == {"detail"}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("docs-server"))
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


def _chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        service_unavailable("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM


@pytest.mark.parametrize(
    ("page", "operation"), [("/api-docs", "/tenant/me"), ("/admin/api-docs", "/tenants")]
)
def test_swagger_ui_renders_in_a_browser_without_leaving_the_server(
    demo_server: DemoServer, tmp_path: Path, page: str, operation: str
) -> None:
    executable = _chromium()
    from playwright.sync_api import Route, sync_playwright

    origin = demo_server.base_url
    outside: list[str] = []
    failed: list[str] = []

    def only_the_server(route: Route) -> None:
        url = route.request.url
        if url == origin or url.startswith(origin + "/") or url.startswith("data:"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1600})
            context.route("**/*", only_the_server)
            browser_page = context.new_page()
            browser_page.on(
                "response",
                lambda response: failed.append(response.url) if response.status >= 400 else None,
            )
            browser_page.goto(origin + page, wait_until="networkidle")
            operations = browser_page.locator(".opblock-summary-path")
            operations.first.wait_for(timeout=15_000)
            paths = operations.all_inner_texts()
            browser_page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
        finally:
            browser.close()

    assert outside == []
    assert failed == []
    assert any(operation in text for text in paths), paths
    assert len(paths) > 3
    assert (tmp_path / "api-docs.png").stat().st_size > 10_000
