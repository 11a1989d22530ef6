"""The SDK's exceptions, one class per kind of failure.

::

    TutelaError
    ├── APIConnectionError          the server could not be reached (after retries)
    │   └── APITimeoutError
    ├── APIResponseValidationError  a success whose body is not what the API documents
    └── APIError                    the server answered with an error status
        ├── BadRequestError         any other 4xx
        ├── AuthenticationError     401: missing, invalid, expired or revoked key
        ├── PermissionDeniedError   403: outside the key's scopes or the plan
        │   └── QuotaExceededError  403: the plan's scan quota is used up
        ├── NotFoundError           404 (also another tenant's objects)
        ├── ConflictError           409
        ├── PayloadTooLargeError    413
        ├── ValidationError         422, with the field errors in ``errors``
        ├── RateLimitError          429, with ``retry_after`` seconds
        └── ServerError             5xx, with the ``correlation_id`` to quote to the operator

Messages are one line and never contain the API key (nor a secret sent in the request).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

import httpx

from tutela.redaction import redact as redact_values
from tutela.sdk._retry import retry_after

REDACTED: Final = "[redacted]"


MESSAGE_CHARS: Final = 1000  # a proxy's HTML error page is cut, not printed whole


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` on one line, every secret in it replaced (as a whole value, see
    ``tutela.redaction``), cut at ``MESSAGE_CHARS``."""
    line = redact_values(" ".join(text.split()), secrets, REDACTED)
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "…"


class TutelaError(Exception):
    """Base of every error the SDK raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIConnectionError(TutelaError):
    """No answer from the server: refused, reset, DNS, TLS, or a timeout (after retries)."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the session's timeout (after retries)."""


class APIResponseValidationError(TutelaError):
    """A success status whose body does not match the documented shape."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class APIError(TutelaError):
    """The server answered with an error status; ``detail`` is its ``{"detail": ...}``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        detail: Any,
        correlation_id: str | None,
        headers: httpx.Headers,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail
        self.correlation_id = correlation_id
        self.headers = headers


class BadRequestError(APIError):
    """A 4xx without a class of its own (400, 405, 410, …)."""


class AuthenticationError(APIError):
    """401: the key is missing, invalid, expired or revoked."""


class PermissionDeniedError(APIError):
    """403: outside the key's scopes, the plan's features or limits, or the tenant is suspended."""


class QuotaExceededError(PermissionDeniedError):
    """403: the plan's monthly scan quota is used up."""


class NotFoundError(APIError):
    """404: absent, or another tenant's (the API never tells the two apart)."""


class ConflictError(APIError):
    """409: the object already exists or the change conflicts with its state.

    With ``retry_after``: the first attempt of this POST (same Idempotency-Key) is still
    running; the SDK waits for it, and raises this only when it stopped waiting.
    """

    @property
    def retry_after(self) -> float | None:
        return retry_after(self.headers)


class PayloadTooLargeError(APIError):
    """413: the body is over the server's limit."""


class ValidationError(APIError):
    """422: the request was understood but invalid; ``errors`` lists the offending fields."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        """FastAPI's field errors: ``{"loc": [...], "msg": ..., "type": ...}`` each."""
        if isinstance(self.detail, list):
            return [e for e in self.detail if isinstance(e, dict)]
        return []


class RateLimitError(APIError):
    """429: too many requests for this key; retry after ``retry_after`` seconds."""

    @property
    def retry_after(self) -> float | None:
        return retry_after(self.headers)


class ServerError(APIError):
    """5xx: the server failed; quote ``correlation_id`` to its operator."""


_BY_STATUS: Final[dict[int, type[APIError]]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitError,
}


def _error_class(status: int, detail: Any) -> type[APIError]:
    if status == 403 and isinstance(detail, str) and "quota exceeded" in detail.lower():
        return QuotaExceededError
    if status >= 500:
        return ServerError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return BadRequestError if 400 <= status < 500 else APIError


def _detail_text(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and all(isinstance(e, dict) and "msg" in e for e in detail):
        return "; ".join(
            f"{'.'.join(str(part) for part in e.get('loc', []))}: {e['msg']}" for e in detail
        )
    return json.dumps(detail, default=str)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_from_response(response: httpx.Response, secrets: Iterable[str] = ()) -> APIError:
    """The exception for an error response, its message redacted of ``secrets``."""
    body = _body(response)
    if isinstance(body, dict) and "detail" in body:
        detail: Any = body["detail"]
    else:
        detail = response.text or response.reason_phrase
    correlation_id = body.get("correlation_id") if isinstance(body, dict) else None
    correlation_id = correlation_id or response.headers.get("x-correlation-id")
    request = response.request
    message = redact(
        f"{response.status_code} {response.reason_phrase} "
        f"({request.method} {request.url.path}): "
        f"{_detail_text(detail)}",
        secrets,
    )
    cls = _error_class(response.status_code, detail)
    return cls(
        message,
        status_code=response.status_code,
        detail=detail,
        correlation_id=str(correlation_id) if correlation_id else None,
        headers=httpx.Headers(response.headers),
    )


def connection_error(
    exc: httpx.TransportError, request: httpx.Request, secrets: Iterable[str] = ()
) -> APIConnectionError:
    """The exception for a request that got no answer."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed"
    target = f"{request.method} {request.url.scheme}://{request.url.netloc.decode()}"
    path = request.url.path
    reason = str(exc) or type(exc).__name__
    return cls(redact(f"{target}{path} {what}: {type(exc).__name__}: {reason}", secrets))
