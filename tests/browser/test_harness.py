"""The browser harness itself: on /api-docs (a page the server has today) and on pages it writes."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.harness import (
    CHROMIUM,
    SCREENSHOTS,
    LiveServer,
    accessibility_results,
    check_accessibility,
    snap,
    watched_page,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ACCESSIBLE_PAGE = """<!doctype html>
<html lang="en"><head><title>Reports</title></head>
<body><main><h1>Reports</h1><p>No report yet.</p><button type="button">Scan now</button></main>
</body></html>"""


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, path
    assert head[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _open_docs(page: Page) -> list[str]:
    page.goto("/api-docs", wait_until="networkidle")
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for()  # Playwright's 30 s: Swagger UI is slow on a busy machine
    return operations.all_inner_texts()


def test_the_live_server_serves_the_platform_the_test_seeds(live_server: LiveServer) -> None:
    tenant = live_server.platform.tenant("starter")
    response = httpx.get(f"{live_server.url}/tenant/me", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json()["tenant_id"] == tenant.id
    assert live_server.url.startswith("http://127.0.0.1:")
    assert (live_server.settings.data_dir / "tutela.db").is_file()


def test_snap_writes_the_whole_page_at_desktop_and_phone_width(page: Page) -> None:
    page.set_content(ACCESSIBLE_PAGE.replace("<p>No report yet.</p>", "<p>A finding.</p>" * 80))
    desktop, phone = snap(page, "harness-findings")
    assert (desktop.parent, phone.parent) == (SCREENSHOTS, SCREENSHOTS)
    assert (desktop.name, phone.name) == (
        "harness-findings-desktop.png",
        "harness-findings-phone.png",
    )
    assert _png_size(desktop)[0] == 1280
    assert _png_size(phone)[0] == 390
    assert _png_size(phone)[1] > 844  # the whole page, not its first screen
    assert page.viewport_size == {"width": 1280, "height": 800}


def test_snap_takes_names_that_are_safe_as_file_names(page: Page) -> None:
    with pytest.raises(ValueError, match="screenshot name"):
        snap(page, "../escape")


def test_axe_runs_on_the_docs_page(page: Page) -> None:
    assert len(_open_docs(page)) > 3
    results = accessibility_results(page)
    assert results["testEngine"]["name"] == "axe-core"
    assert results["url"].endswith("/api-docs")
    for violation in results["violations"]:
        assert {"id", "impact", "help", "nodes"} <= set(violation)
        assert all(node["target"] for node in violation["nodes"])
    # Swagger UI itself has serious violations (contrast, nested controls), so
    # check_accessibility is proved on pages this file controls.


def test_axe_passes_a_page_that_is_accessible(page: Page) -> None:
    page.set_content(ACCESSIBLE_PAGE)
    results = check_accessibility(page)
    assert results["violations"] == []


def test_axe_fails_naming_each_serious_violation(page: Page) -> None:
    page.set_content("<main><button></button><img src='data:,'></main>")
    with pytest.raises(pytest.fail.Exception) as failure:
        check_accessibility(page)
    message = str(failure.value)
    assert "button-name (critical)" in message
    assert "image-alt (critical)" in message
    assert "html-has-lang (serious)" in message
    assert "at button" in message


def test_a_request_to_another_host_is_aborted_and_recorded(
    browser: Browser, live_server: LiveServer
) -> None:
    with watched_page(browser, live_server.url) as (page, watch):
        page.goto("/api-docs/assets/favicon-32x32.png")
        loaded = page.evaluate(
            """() => new Promise((settle) => {
                const image = new Image();
                image.onload = () => settle(true);
                image.onerror = () => settle(false);
                image.src = "https://example.com/x.png";
                document.body.append(image);
            })"""
        )
    assert loaded is False
    assert watch.outside_requests == ["https://example.com/x.png"]
    assert watch.csp_violations == []
    assert "request outside the server (aborted): https://example.com/x.png" in watch.problems()


def test_console_errors_and_uncaught_exceptions_are_recorded(
    browser: Browser, live_server: LiveServer
) -> None:
    with watched_page(browser, live_server.url) as (page, watch):
        page.goto("/health")
        page.evaluate("console.error('the portal broke'); console.warn('only a warning')")
        page.evaluate("setTimeout(() => { throw new TypeError('nobody caught me') })")
        page.wait_for_event("pageerror")
    assert watch.outside_requests == []
    assert len(watch.console_errors) == 2, watch.console_errors
    assert watch.console_errors[0].startswith("the portal broke")
    assert watch.console_errors[1] == "uncaught TypeError: nobody caught me"


def test_a_missing_file_is_a_console_error_but_a_page_answered_404_is_not(
    browser: Browser, live_server: LiveServer
) -> None:
    with watched_page(browser, live_server.url) as (page, watch):
        response = page.goto("/no-such-page")
        assert response is not None
        assert response.status == 404
        page.evaluate(
            """() => new Promise((settle) => {
                const sheet = document.createElement("link");
                sheet.rel = "stylesheet";
                sheet.onerror = settle;
                sheet.href = "/no-such-sheet.css";
                document.head.append(sheet);
            })"""
        )
        page.evaluate("0")  # one round trip more: the console event may trail the error event
    assert len(watch.console_errors) == 1, watch.console_errors
    assert "status of 404" in watch.console_errors[0]
    assert "/no-such-sheet.css" in watch.console_errors[0]


def test_a_content_security_policy_violation_is_recorded(
    browser: Browser, live_server: LiveServer
) -> None:
    with watched_page(browser, live_server.url) as (page, watch):
        page.goto("/health")
        page.evaluate(
            """() => new Promise((settle) => {
                document.addEventListener("securitypolicyviolation", settle);
                const policy = document.createElement("meta");
                policy.httpEquiv = "Content-Security-Policy";
                policy.content = "img-src 'none'";
                document.head.append(policy);
                const image = new Image();
                image.src = "/api-docs/assets/favicon-32x32.png";
                document.body.append(image);
            })"""
        )
    assert watch.outside_requests == []
    ours = [v for v in watch.csp_violations if "/api-docs/assets/favicon-32x32.png" in v]
    assert len(ours) == 1, watch.csp_violations
    assert ours[0].startswith("img-src (enforce) blocked ")
    # The browser's own request for /favicon.ico may come after the policy too (on a loaded
    # machine it did): blocked, and recorded, the same way.
    others = [v for v in watch.csp_violations if v not in ours]
    assert all(v.startswith("img-src (enforce) blocked ") for v in others), others
    assert all(v.split(" at ")[0].endswith("/favicon.ico") for v in others), others


def test_the_browser_is_debians_chromium(browser: Browser) -> None:
    installed = subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    assert f" {browser.version} " in installed.stdout
