"""Swagger UI works on a closed network: every file the docs pages use comes from the server."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

# The browser fixtures live beside the browser tests; imported, they serve this module too.
from tests.browser.conftest import browser, live_server, page  # noqa: F401
from tests.browser.harness import snap
from tests.platform import Platform

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


@pytest.mark.parametrize(("docs", "spec"), DOCS_PAGES)
def test_every_asset_of_the_docs_page_is_served_by_the_server(
    platform: Platform, docs: str, spec: str
) -> None:
    response = platform.client.get(docs)
    assert response.status_code == 200
    assert "cdn" not in response.text.lower()
    assert "https://" not in response.text
    assert "http://" not in response.text
    urls = _asset_urls(response.text)
    assert len(urls) == 3  # the script, the stylesheet, the icon
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), url  # a path on this server
        assert url.startswith(docs + "/assets/"), url
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


@pytest.mark.parametrize(
    ("docs", "operation"), [("/api-docs", "/tenant/me"), ("/admin/api-docs", "/tenants")]
)
def test_swagger_ui_renders_in_a_browser_without_leaving_the_server(
    page: Page,  # noqa: F811 (the fixture imported above)
    docs: str,
    operation: str,
) -> None:
    failed: list[str] = []
    page.on(
        "response", lambda response: failed.append(response.url) if response.status >= 400 else None
    )
    page.goto(docs, wait_until="networkidle")
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for()  # Playwright's 30 s: Swagger UI is slow on a busy machine
    paths = operations.all_inner_texts()
    desktop, phone = snap(page, docs.strip("/").replace("/", "-"))

    # The page fixture fails the test if the page asked another host for anything.
    assert failed == []
    assert any(operation in text for text in paths), paths
    assert len(paths) > 3
    assert desktop.stat().st_size > 10_000
    assert phone.stat().st_size > 10_000


def test_the_docs_page_names_its_language(platform: Platform) -> None:
    """Screen readers need it (axe-core's html-has-lang); FastAPI's page has none."""
    for path in ("/api-docs", "/admin/api-docs"):
        assert '<html lang="en">' in platform.client.get(path).text
