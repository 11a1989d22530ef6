"""Fixtures of the browser tests: the live server, Chromium, and a page that must behave."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.harness import (
    LiveServer,
    bound_socket,
    chromium_executable,
    serving,
    watched_page,
)
from tests.conftest import make_settings
from tests.platform import Platform


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[LiveServer]:
    """The app on its own SQLite database, served for this session (of this xdist worker).

    Tests share it and seed what they need through ``live_server.platform`` (new tenants each
    time, so none sees another's). Settings are read with no TUTELA_* variable of the shell.
    """
    data_dir = tmp_path_factory.mktemp("live-server")
    shutil.copy(sqlite_template, data_dir / "tutela.db")
    with pytest.MonkeyPatch.context() as environment:
        for name in [name for name in os.environ if name.startswith("TUTELA_")]:
            environment.delenv(name)
        sock = bound_socket()
        settings = make_settings(
            data_dir,
            public_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
            # The tests' OpenID provider runs on this machine.
            sso_allow_internal_providers=True,
        )
    with Platform(settings) as platform, serving(platform, sock=sock) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for this module's tests.

    Not for the session: while Playwright's sync API is open its event loop counts as running
    in this thread, and asyncio.run() in any later test of the worker would fail.
    """
    executable = chromium_executable()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page on the live server (``page.goto("/api-docs")``) in a context of its own.

    The test fails at teardown if the page asked for anything outside the server, logged a
    console error, threw, or broke its content security policy.
    """
    with watched_page(browser, live_server.url) as (opened, watch):
        yield opened
    if problems := watch.problems():
        pytest.fail("the page misbehaved:\n" + "\n".join(problems), pytrace=False)
