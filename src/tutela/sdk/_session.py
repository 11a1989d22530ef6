"""``Session`` and ``AsyncSession``: configuration, the API groups, and the two flow drivers.

Everything a call does (request, retries, errors, parsing) is in the shared flows of ``_flow``;
a session only performs what a flow asks for: send this request, sleep this long.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Self, TypeVar

import httpx
from pydantic import SecretStr

from tutela import __version__
from tutela.sdk import _operations as op
from tutela.sdk._async_resources import (
    AsyncEncryption,
    AsyncFrameworks,
    AsyncGovernance,
    AsyncKeys,
    AsyncPlans,
    AsyncReports,
    AsyncScans,
    AsyncSnapshots,
    AsyncTenant,
    AsyncUsers,
)
from tutela.sdk._connection import AsyncConnection, Connection
from tutela.sdk._exceptions import AsyncExceptions, Exceptions
from tutela.sdk._flow import Call, Operation, Outcome, Pages, SessionConfig
from tutela.sdk._resources import (
    Encryption,
    Frameworks,
    Governance,
    Keys,
    Plans,
    Reports,
    Scans,
    Snapshots,
    Tenant,
    Users,
)
from tutela.sdk.models import Health, Page, ScopeInfo

T = TypeVar("T")

URL_VARIABLE = "TUTELA_URL"
KEY_VARIABLE = "TUTELA_API_KEY"


def _config(url: str | None, api_key: str | None, timeout: float, retries: int) -> SessionConfig:
    url = url or os.environ.get(URL_VARIABLE)
    if not url:
        raise ValueError(
            f"No Tutela URL: pass url=... or set {URL_VARIABLE} (e.g. http://127.0.0.1:8000)"
        )
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"Invalid Tutela URL {url!r}: expected http(s)://host[:port][/path]")
    api_key = (api_key or os.environ.get(KEY_VARIABLE) or "").strip()
    if not api_key:
        raise ValueError(f"No API key: pass api_key=... or set {KEY_VARIABLE}")
    if retries < 0:
        raise ValueError(f"retries must be 0 or more, not {retries}")
    if timeout <= 0:
        raise ValueError(f"timeout must be more than 0 seconds, not {timeout}")
    return SessionConfig(
        base_url=url.rstrip("/"),
        api_key=SecretStr(api_key),
        timeout=float(timeout),
        retries=retries,
        user_agent=f"tutela-sdk/{__version__}",
    )


class _Sessions:
    """What the sync and the async session share beyond the flows: their configuration."""

    _config: SessionConfig

    @property
    def url(self) -> str:
        return self._config.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"


class Session(_Sessions):
    """A client of one Tutela server, with one API key.

    ``url`` and ``api_key`` default to ``TUTELA_URL`` and ``TUTELA_API_KEY``. ``retries`` is the
    number of extra attempts for 429, 502, 503, 504 and lost connections; ``transport`` replaces
    httpx's network transport (e.g. ``httpx.MockTransport`` in tests).
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._config = _config(url, api_key, timeout, retries)
        self._client = httpx.Client(transport=transport)
        self.connection = Connection(self)
        self.frameworks = Frameworks(self)
        self.plans = Plans(self)
        self.tenant = Tenant(self)
        self.snapshots = Snapshots(self)
        self.scans = Scans(self)
        self.reports = Reports(self)
        self.governance = Governance(self)
        self.keys = Keys(self)
        self.encryption = Encryption(self)
        self.users = Users(self)
        self.exceptions = Exceptions(self)

    def health(self) -> Health:
        """The server's status and version."""
        return self._run(op.health())

    def scopes(self) -> builtins.list[ScopeInfo]:
        """The scopes this key may grant to a new key."""
        return self._run(op.list_scopes())

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, operation: Operation[T]) -> T:
        flow = operation.flow(self._config)
        outcome: Outcome = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                result: T = done.value
                return result
            if isinstance(step, httpx.Request):
                try:
                    outcome = self._client.send(step)
                except httpx.TransportError as exc:
                    outcome = exc
            else:
                time.sleep(step)
                outcome = None

    def _iterate(self, pages: Pages[T]) -> Iterator[T]:
        call: Call[Page[T]] | None = pages.first()
        while call is not None:
            page = self._run(call)
            yield from page.items
            call = pages.after(page)


class AsyncSession(_Sessions):
    """``Session`` for asyncio: the same API groups, whose methods are awaited."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = _config(url, api_key, timeout, retries)
        self._client = httpx.AsyncClient(transport=transport)
        self.connection = AsyncConnection(self)
        self.frameworks = AsyncFrameworks(self)
        self.plans = AsyncPlans(self)
        self.tenant = AsyncTenant(self)
        self.snapshots = AsyncSnapshots(self)
        self.scans = AsyncScans(self)
        self.reports = AsyncReports(self)
        self.governance = AsyncGovernance(self)
        self.keys = AsyncKeys(self)
        self.encryption = AsyncEncryption(self)
        self.users = AsyncUsers(self)
        self.exceptions = AsyncExceptions(self)

    async def health(self) -> Health:
        """The server's status and version."""
        return await self._run(op.health())

    async def scopes(self) -> builtins.list[ScopeInfo]:
        """The scopes this key may grant to a new key."""
        return await self._run(op.list_scopes())

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _run(self, operation: Operation[T]) -> T:
        flow = operation.flow(self._config)
        outcome: Outcome = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                result: T = done.value
                return result
            if isinstance(step, httpx.Request):
                try:
                    outcome = await self._client.send(step)
                except httpx.TransportError as exc:
                    outcome = exc
            else:
                await asyncio.sleep(step)
                outcome = None

    async def _iterate(self, pages: Pages[T]) -> AsyncIterator[T]:
        call: Call[Page[T]] | None = pages.first()
        while call is not None:
            page = await self._run(call)
            for item in page.items:
                yield item
            call = pages.after(page)
