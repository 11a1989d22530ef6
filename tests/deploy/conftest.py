"""Fixtures of the deployment tests: the loopback SMTP relay of the server's tests."""

from __future__ import annotations

from tests.server.conftest import smtp

__all__ = ["smtp"]
