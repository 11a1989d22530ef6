"""The low-level verbs: ``session.connection.fetch/create/update/remove`` (GUARDARA's contract).

Each returns ``(status_code, data)`` and never raises for an HTTP status, only
``APIConnectionError`` when no answer came after the retries. ``service`` is an API area mapped to
a path prefix, ``resource`` the path (and query) under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from tutela.sdk._flow import Call, status_and_data

if TYPE_CHECKING:
    from tutela.sdk._session import AsyncSession, Session

Answer: TypeAlias = tuple[int, Any]

SERVICES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "health": "/health",
        "frameworks": "/frameworks",
        "plans": "/plans",
        "tenant": "/tenant",
        "scan": "/scan",
        "reports": "/reports",
        "report": "/report",
        "governance": "/governance",
        "api-keys": "/api-keys",
        "scopes": "/scopes",
        "exceptions": "/exceptions",
        "auth": "/auth",
        "admin": "/admin",
    }
)
# ``update`` is PUT, except where the server's verb for changing a resource is PATCH.
UPDATE_METHODS: Final[Mapping[str, str]] = MappingProxyType(
    {"api-keys": "PATCH", "exceptions": "PATCH"}
)


def service_path(service: str, resource: str) -> str:
    try:
        prefix = SERVICES[service]
    except KeyError:
        raise ValueError(
            f"Unknown service {service!r}; valid services: {', '.join(SERVICES)}"
        ) from None
    if resource and not resource.startswith(("/", "?")):
        resource = "/" + resource
    return prefix + resource


def raw_call(
    method: str,
    service: str,
    resource: str,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Call[Answer]:
    """A call answering ``(status_code, data)`` whatever the status.

    ``data``: bytes or a string are sent as they are (JSON expected), anything else as JSON;
    None sends no body.
    """
    path = service_path(service, resource)
    content: bytes | None = None
    json_body: Any = None
    if isinstance(data, bytes | bytearray):
        content = bytes(data)
    elif isinstance(data, str):
        content = data.encode()
    else:
        json_body = data
    return Call(
        method,
        path,
        status_and_data,
        json=json_body,
        content=content,
        headers=headers,
        raise_for_status=False,
    )


def update_call(
    service: str, resource: str, data: Any, headers: Mapping[str, str] | None = None
) -> Call[Answer]:
    return raw_call(UPDATE_METHODS.get(service, "PUT"), service, resource, data, headers)


class Connection:
    """Direct calls to any endpoint, typed or not (``session.connection``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def fetch(
        self, service: str, resource: str, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """GET."""
        return self._session._run(raw_call("GET", service, resource, headers=headers))

    def create(
        self, service: str, resource: str, data: Any, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """POST ``data``."""
        return self._session._run(raw_call("POST", service, resource, data, headers))

    def update(
        self, service: str, resource: str, data: Any, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """PUT ``data`` (PATCH for ``api-keys``)."""
        return self._session._run(update_call(service, resource, data, headers))

    def remove(
        self, service: str, resource: str, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """DELETE."""
        return self._session._run(raw_call("DELETE", service, resource, headers=headers))


class AsyncConnection:
    """Direct calls to any endpoint, typed or not (``session.connection``), awaited."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def fetch(
        self, service: str, resource: str, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """GET."""
        return await self._session._run(raw_call("GET", service, resource, headers=headers))

    async def create(
        self, service: str, resource: str, data: Any, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """POST ``data``."""
        return await self._session._run(raw_call("POST", service, resource, data, headers))

    async def update(
        self, service: str, resource: str, data: Any, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """PUT ``data`` (PATCH for ``api-keys``)."""
        return await self._session._run(update_call(service, resource, data, headers))

    async def remove(
        self, service: str, resource: str, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """DELETE."""
        return await self._session._run(raw_call("DELETE", service, resource, headers=headers))
