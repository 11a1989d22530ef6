"""What browser tests drive: the real app on a loopback port, and Debian's Chromium watching it.

The portal must work air-gapped, with no console error and within its own content security
policy; a watched page records every lapse so the ``page`` fixture can fail the test on it.
Screenshots are for a person to look at, not compared; axe-core judges accessibility.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import service_unavailable
from tests.platform import Platform
from tutela.server.config import Settings
from tutela.server.runtime import Runtime

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        ConsoleMessage,
        Error,
        Page,
        Response,
        Route,
        ViewportSize,
    )

CHROMIUM = "/usr/bin/chromium"
REPOSITORY = Path(__file__).resolve().parents[2]
# Read at import: the autouse fixture of tests/conftest.py hides TUTELA_* variables from tests.
SCREENSHOTS = Path(
    os.environ.get("TUTELA_SCREENSHOTS_DIR") or REPOSITORY / ".artifacts" / "screenshots"
)
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
SCREENSHOT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
SEVERE_IMPACTS = ("serious", "critical")
CSP_REPORTER = "__tutelaCspViolation"
# Forwarded to Python as each happens, so one on a page the test has navigated away from counts.
CSP_LISTENER = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  window.{CSP_REPORTER}(
    `${{event.effectiveDirective}} (${{event.disposition}}) blocked ` +
    `${{event.blockedURI || "inline code"}} at ${{event.sourceFile || event.documentURI}}` +
    `:${{event.lineNumber}}`
  );
}}, true);
"""


def chromium_executable() -> str:
    """Debian's Chromium (Playwright downloads no browser here), or the test is skipped."""
    if shutil.which(CHROMIUM) is None:
        service_unavailable("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM


@dataclass
class LiveServer:
    """The app of ``platform`` served by uvicorn in a thread of the test process."""

    platform: Platform
    url: str

    @property
    def runtime(self) -> Runtime:
        return self.platform.runtime

    @property
    def settings(self) -> Settings:
        return self.platform.settings


def bound_socket() -> socket.socket:
    """A socket bound to a free 127.0.0.1 port: its address can go into the settings (the
    public URL, for links and redirects) before the app is made."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(
    platform: Platform, timeout: float = 10.0, sock: socket.socket | None = None
) -> Iterator[LiveServer]:
    """``platform``'s app on a free 127.0.0.1 port until the block ends.

    The socket is bound here, so the port is known before uvicorn starts and no other process
    can take it in between. No lifespan: the platform closes its own runtime, and the in-process
    scheduler's jobs would change the data a test seeded under its feet.
    """
    config = uvicorn.Config(
        platform.app, lifespan="off", log_config=None, access_log=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    with sock or bound_socket() as sock:
        port = sock.getsockname()[1]
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
        )
        thread.start()
        try:
            deadline = time.monotonic() + timeout
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    pytest.fail(f"the live server did not start within {timeout}s")
                time.sleep(0.01)
            yield LiveServer(platform, f"http://127.0.0.1:{port}")
        finally:
            server.should_exit = True
            thread.join(timeout=timeout)


@dataclass
class PageWatch:
    """What a page did that the portal must never do; recorded, so a test can look at it."""

    origin: str
    # Other servers the test itself runs (an OpenID provider the browser is sent to).
    also: tuple[str, ...] = ()
    outside_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    # The API's answers to the portal's own fetch calls: a 4xx there is the API refusing an
    # action (a weak password, a wrong CSRF token), which the page shows; not a broken page.
    api_answers: set[str] = field(default_factory=set)

    def response(self, response: Response) -> None:
        if response.request.resource_type == "fetch":
            self.api_answers.add(response.url)

    def route(self, route: Route) -> None:
        url = route.request.url
        if any(url == o or url.startswith(o + "/") for o in (self.origin, *self.also)):
            route.continue_()
        else:
            self.outside_requests.append(url)
            route.abort()

    def console(self, message: ConsoleMessage) -> None:
        where = message.location
        if message.type != "error" or _is_the_documents_own_status(message):
            return
        if _is_a_status(message) and where.get("url") in self.api_answers:
            return
        self.console_errors.append(
            f"{message.text} ({where.get('url') or 'inline'}:{where.get('lineNumber')})"
        )

    def csp_violation(self, description: str) -> None:
        self.csp_violations.append(description)

    def page_error(self, error: Error) -> None:
        self.console_errors.append(f"uncaught {error.name}: {error.message}")

    def problems(self) -> list[str]:
        return (
            [f"request outside the server (aborted): {url}" for url in self.outside_requests]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"content security policy violation: {text}" for text in self.csp_violations]
        )


def _is_a_status(message: ConsoleMessage) -> bool:
    return message.text.startswith("Failed to load resource: the server responded with a status")


def _is_the_documents_own_status(message: ConsoleMessage) -> bool:
    """Chromium logs a page answered with 404 as a failed load; the test sees that status itself
    (``page.goto(...).status``), while a script or stylesheet that fails to load still counts."""
    return (
        _is_a_status(message)
        and message.page is not None
        and message.location.get("url") == message.page.url
    )


@contextmanager
def watched_page(browser: Browser, origin: str, *also: str) -> Iterator[tuple[Page, PageWatch]]:
    """A page in a fresh context, relative URLs resolved against ``origin``, and its watch.

    Every request not to ``origin`` (or ``also``) is aborted and recorded; so are console
    errors, uncaught exceptions and content security policy violations.
    """
    watch = PageWatch(origin, also)
    context = browser.new_context(base_url=origin, viewport=DESKTOP)
    try:
        context.route("**/*", watch.route)
        context.expose_function(CSP_REPORTER, watch.csp_violation)
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.on("response", watch.response)
        page.on("console", watch.console)
        page.on("pageerror", watch.page_error)
        yield page, watch
    finally:
        context.close()


def snap(page: Page, name: str) -> tuple[Path, Path]:
    """Full-page screenshots ``name-desktop.png`` (1280 wide) and ``name-phone.png`` (390).

    The phone one resizes this page rather than opening another, so it shows the state the
    test brought the page to (a form's errors, an open menu), not a fresh load of its URL.
    """
    if SCREENSHOT_NAME.fullmatch(name) is None:
        raise ValueError(f"screenshot name {name!r}: lower-case letters, digits, - and _")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    paths = []
    try:
        for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            path = SCREENSHOTS / f"{name}-{width}.png"
            page.screenshot(path=path, full_page=True, animations="disabled")
            paths.append(path)
    finally:
        if viewport is not None:
            page.set_viewport_size(viewport)
    return paths[0], paths[1]


def accessibility_results(page: Page) -> dict[str, Any]:
    """axe-core's results for the page as it is now (its script ships in the wheel: no fetch)."""
    results: dict[str, Any] = Axe().run(page).response
    return results


def check_accessibility(page: Page) -> dict[str, Any]:
    """axe-core's results for the page; fails listing every serious or critical violation."""
    results = accessibility_results(page)
    severe = [v for v in results["violations"] if v["impact"] in SEVERE_IMPACTS]
    if severe:
        lines = [f"{len(severe)} serious or critical accessibility violation(s) on {page.url}:"]
        for violation in severe:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            more = f" and {len(targets) - 3} more" if len(targets) > 3 else ""
            lines.append(
                f"- {violation['id']} ({violation['impact']}): {violation['help']}; "
                f"at {', '.join(targets[:3])}{more}"
            )
        pytest.fail("\n".join(lines), pytrace=False)
    return results
