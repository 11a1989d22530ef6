"""The SDK's sans-I/O core: requests built, retries decided, errors mapped, bodies parsed.

An operation runs as a *flow*: a generator that yields what the session must do next, either an
``httpx.Request`` to send or a number of seconds to sleep, and is sent back the response (or the
transport exception) of each request; its return value is the operation's result. The sync and
async sessions are two short drivers of the same flows, so none of this is written twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Generator, Hashable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, Protocol, TypeAlias, TypeVar, cast

import httpx
import pydantic

from tutela.sdk._retry import in_progress_delay, retry_delay
from tutela.sdk.errors import APIResponseValidationError, connection_error, error_from_response
from tutela.sdk.models import Page

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

log = logging.getLogger("tutela.sdk")

Step: TypeAlias = httpx.Request | float  # a request to send, or seconds to sleep
Outcome: TypeAlias = httpx.Response | httpx.TransportError | None  # None after a sleep
Flow: TypeAlias = Generator[Step, Outcome, T]
Params: TypeAlias = Mapping[str, str | int | float | bool | None]


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """What every request of a session shares."""

    base_url: str
    api_key: pydantic.SecretStr
    timeout: float
    retries: int
    user_agent: str


class Operation(Protocol[T_co]):
    """Anything a session can run: one call or several in sequence."""

    def flow(self, config: SessionConfig) -> Flow[T_co]: ...


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request of the API: what to send, and how to read a successful answer."""

    method: str
    path: str  # under the base URL; may carry a query string
    parse: Callable[[httpx.Response], T]
    params: Params | None = None
    json: Any = field(default=None, repr=False)
    content: bytes | None = field(default=None, repr=False)
    headers: Mapping[str, str] | None = None
    raise_for_status: bool = True  # False: error statuses are parsed like any answer
    secrets: tuple[str, ...] = field(default=(), repr=False)  # kept out of error messages

    def flow(self, config: SessionConfig) -> Flow[T]:
        return call_flow(config, self)


@dataclass(frozen=True, slots=True)
class Chain(Generic[T]):
    """Several calls whose later ones depend on earlier answers, written as one flow."""

    steps: Callable[[SessionConfig], Flow[T]]

    def flow(self, config: SessionConfig) -> Flow[T]:
        return self.steps(config)


@dataclass(frozen=True, slots=True)
class Pages(Generic[T]):
    """A paginated list: the call for each page, given the previous page's cursor."""

    page: Callable[[str | None], Call[Page[T]]]

    def first(self) -> Call[Page[T]]:
        return self.page(None)

    def after(self, previous: Page[T]) -> Call[Page[T]] | None:
        return self.page(previous.next_cursor) if previous.next_cursor else None


def build_request(config: SessionConfig, call: Call[Any]) -> httpx.Request:
    headers = {
        "X-API-Key": config.api_key.get_secret_value(),
        "User-Agent": config.user_agent,
        "Accept": "application/json",
        # A request built by hand gets none of the client's defaults: ask for gzip (reports
        # shrink about 100 times); httpx decodes it when the body is read.
        "Accept-Encoding": "gzip",
    }
    if call.method == "POST":
        # The same key on every attempt: a server that honours it runs the POST once.
        headers["Idempotency-Key"] = str(uuid.uuid4())
    if call.content is not None:
        headers["Content-Type"] = "application/json"
    headers.update(call.headers or {})
    params = (
        None if call.params is None else {k: v for k, v in call.params.items() if v is not None}
    )
    return httpx.Request(
        call.method,
        config.base_url + call.path,
        params=params,
        json=call.json,
        content=call.content,
        headers=headers,
        extensions={"timeout": httpx.Timeout(config.timeout).as_dict()},
    )


def call_flow(config: SessionConfig, call: Call[T]) -> Flow[T]:
    """Send ``call``, retrying as ``_retry`` decides; its parsed answer, or an exception."""
    request = build_request(config, call)
    secrets = (config.api_key.get_secret_value(), *call.secrets)
    attempt = 0
    waited_in_progress = 0.0
    while True:
        outcome = yield request
        assert outcome is not None, "a request is answered by a response or an exception"
        delay = in_progress_delay(request, outcome, waited_in_progress, config.retries)
        if delay is not None:
            waited_in_progress += delay
        else:
            delay = retry_delay(outcome, attempt, config.retries)
            if delay is None:
                break
            attempt += 1
        log.info(
            "tutela_sdk_retry method=%s path=%s attempt=%d delay=%.2f cause=%s",
            call.method,
            request.url.path,
            attempt,
            delay,
            outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__,
        )
        yield delay
    if isinstance(outcome, httpx.TransportError):
        raise connection_error(outcome, request, secrets) from outcome
    if outcome.is_error and call.raise_for_status:
        raise error_from_response(outcome, secrets)
    try:
        return call.parse(outcome)
    except (pydantic.ValidationError, ValueError) as exc:
        raise APIResponseValidationError(
            f"Unexpected body from {call.method} {request.url.path} "
            f"(status {outcome.status_code}): {type(exc).__name__}",
            status_code=outcome.status_code,
        ) from None


@cache
def _adapter(tp: Hashable) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(cast(Any, tp))


def parse_as(tp: type[T]) -> Callable[[httpx.Response], T]:
    """A parser of JSON bodies into ``tp`` (a model, or e.g. ``list[Model]``)."""
    adapter = _adapter(cast(Hashable, tp))

    def parse(response: httpx.Response) -> T:
        value: T = adapter.validate_json(response.content)
        return value

    return parse


def status_and_data(response: httpx.Response) -> tuple[int, Any]:
    """``(status_code, data)``: data is the parsed JSON, the text when not JSON, None if empty."""
    if not response.content:
        return response.status_code, None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text
