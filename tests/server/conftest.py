"""Fixtures shared by the server's tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.server.notify.loopback import Collector, LoopbackController


@pytest.fixture
def azure_unreachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every HTTPS request goes through a proxy that refuses connections: Azure is unreachable.

    The environment is changed, not the code: requests reads the proxy variables. The port is
    bound but never listened on, so connecting to it is refused at once, network or not.
    """
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
        for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        yield


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    """An SMTP relay on loopback collecting what the workers send: (collector, port)."""
    collector = Collector()
    controller = LoopbackController(collector, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield collector, controller.port
    finally:
        controller.stop()
