"""Replay recorded Azure HTTP exchanges at the azure-core transport layer.

A recording is a JSON file ``{"interactions": [{"request": {...}, "responses": [...]}, ...]}``.
A request matches on method, host, path and query (order-free); it can also require a subset of
its JSON body (``"json"``: ``null`` means the key must be absent, a string ending in ``*`` is a
prefix), fields of its form body (``"form"``) and substrings of its body (``"body_contains"``).
Responses are served in order and the last one repeats: ``{"status", "headers", "body"}``, or
``{"raise": "ServiceRequestError"}`` for a network failure. Later recordings take precedence, so
a scenario is a base plus overlays. The transport records every request and every sleep the
retry policy asks for, and never sleeps.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest
from azure.core.rest._http_response_impl import HttpResponseImpl
from azure.core.utils import case_insensitive_dict

RECORDINGS = Path(__file__).parent / "recordings"

_NETWORK_ERRORS = {
    "ServiceRequestError": ServiceRequestError,
    "ServiceResponseError": ServiceResponseError,
}


class UnrecordedRequest(AssertionError):
    """The code under test sent a request no recording answers."""


class _RecordedResponse(HttpResponseImpl):
    """A fully read response whose bytes come from a recording."""

    def __init__(self, request: HttpRequest, recorded: dict[str, Any]) -> None:
        headers = case_insensitive_dict(recorded.get("headers", {}))
        body = recorded.get("body")
        if body is None:
            content = b""
        elif isinstance(body, str):
            content = body.encode()
        else:
            content = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        super().__init__(
            request=request,
            internal_response=None,
            status_code=recorded["status"],
            reason=recorded.get("reason", ""),
            content_type=headers.get("Content-Type"),
            headers=headers,
            stream_download_generator=_no_stream,
        )
        self._content = content

    def close(self) -> None:
        self._is_closed = True


def _no_stream(**_: Any) -> Iterator[bytes]:
    raise AssertionError("recorded responses are never streamed")


@dataclass
class _Interaction:
    origin: str
    request: dict[str, Any]
    responses: list[dict[str, Any]]
    served: int = 0

    def matches(self, request: HttpRequest) -> bool:
        want = self.request
        if want["method"].upper() != request.method.upper():
            return False
        if _url_key(want["url"]) != _url_key(request.url):
            return False
        body = _body_text(request)
        if any(fragment not in body for fragment in want.get("body_contains", [])):
            return False
        if "json" in want and not _subset(want["json"], _json_or_none(body)):
            return False
        if "form" in want:
            form = {k: v[-1] for k, v in parse_qs(body).items()}
            if any(form.get(k) != v for k, v in want["form"].items()):
                return False
        return True

    def next_response(self) -> dict[str, Any]:
        response = self.responses[min(self.served, len(self.responses) - 1)]
        self.served += 1
        return response


@dataclass
class ReplayTransport(HttpTransport[HttpRequest, "_RecordedResponse"]):
    """An ``HttpTransport`` answering from recordings; share it between credential and clients."""

    interactions: list[_Interaction] = field(default_factory=list)
    requests: list[HttpRequest] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    latency: float = 0.0  # seconds each exchange takes, to observe concurrent calls
    most_in_flight: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, *names: str, latency: float = 0.0) -> ReplayTransport:
        """Load recordings by file name; later ones override earlier ones."""
        transport = cls(latency=latency)
        for name in names:
            data = json.loads((RECORDINGS / name).read_text(encoding="utf-8"))
            loaded = [
                _Interaction(f"{name}#{index}", item["request"], item["responses"])
                for index, item in enumerate(data["interactions"])
            ]
            transport.interactions[:0] = loaded
        return transport

    def send(self, request: HttpRequest, **kwargs: Any) -> _RecordedResponse:
        with self._lock:
            self.requests.append(request)
            interaction = next((i for i in self.interactions if i.matches(request)), None)
            if interaction is None:
                raise UnrecordedRequest(f"no recording for {request.method} {request.url}")
            recorded = interaction.next_response()
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self._in_flight -= 1
        if "raise" in recorded:
            raise _NETWORK_ERRORS[recorded["raise"]](recorded.get("message", "connection refused"))
        return _RecordedResponse(request, recorded)

    def sleep(self, duration: float) -> None:
        with self._lock:
            self.sleeps.append(duration)

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> ReplayTransport:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def sent(self, host: str, path_contains: str = "") -> list[HttpRequest]:
        """The requests sent to a host whose URL contains a fragment."""
        return [
            r for r in self.requests if urlsplit(r.url).netloc == host and path_contains in r.url
        ]

    def unused(self) -> list[str]:
        return [i.origin for i in self.interactions if i.served == 0]


def _url_key(url: str) -> tuple[str, str, dict[str, list[str]]]:
    parts = urlsplit(url)
    query = {k: sorted(v) for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return parts.netloc.lower(), parts.path.lower(), query


def _body_text(request: HttpRequest) -> str:
    content = request.content
    if content is None:
        return ""
    if isinstance(content, dict):  # a form, as azure-identity sends it to the token endpoint
        return urlencode(content)
    if isinstance(content, bytes):
        return content.decode()
    return content if isinstance(content, str) else json.dumps(content)


def _json_or_none(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _subset(want: Any, got: Any) -> bool:
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return False
        return all(
            got.get(key) is None if value is None else _subset(value, got.get(key))
            for key, value in want.items()
        )
    if isinstance(want, str) and want.endswith("*"):
        return isinstance(got, str) and got.startswith(want[:-1])
    return bool(want == got)
