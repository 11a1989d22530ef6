"""When to try a request again, and how long to wait first (no I/O: the sessions sleep)."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Mapping
from typing import Final

import httpx

RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
# Failures in which the request may not have reached the server, or its answer was lost.
RETRY_ERRORS: Final = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
BACKOFF_FIRST: Final = 0.5
BACKOFF_CAP: Final = 8.0
RETRY_AFTER_CAP: Final = 60.0
# How long, in all, one call waits for the first attempt of its POST to finish on the server
# (409 answers to a retry carrying the same Idempotency-Key): a scan may take minutes.
IN_PROGRESS_WAIT_CAP: Final = 600.0


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt + 1``: 0.5 s doubling up to 8 s, minus <25% jitter."""
    delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2.0**attempt)
    return delay * (1 - 0.25 * random.random())  # noqa: S311 - jitter, not a secret


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or an HTTP date); None if absent."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds())


def retry_delay(
    outcome: httpx.Response | httpx.TransportError, attempt: int, retries: int
) -> float | None:
    """Seconds to wait before trying again, or None when the outcome is final.

    Retried: 429, 502, 503, 504 and lost connections or timeouts, ``retries`` times at most.
    A ``Retry-After`` of up to 60 s is honoured; a longer one ends the retries at once (the
    caller gets the error and its ``retry_after``) rather than blocking for minutes.
    """
    if attempt >= retries:
        return None
    if isinstance(outcome, httpx.TransportError):
        return backoff(attempt) if isinstance(outcome, RETRY_ERRORS) else None
    if outcome.status_code not in RETRY_STATUSES:
        return None
    wait = retry_after(outcome.headers)
    if wait is None:
        return backoff(attempt)
    return wait if wait <= RETRY_AFTER_CAP else None


def in_progress_delay(
    request: httpx.Request,
    outcome: httpx.Response | httpx.TransportError,
    waited: float,
    retries: int,
) -> float | None:
    """Seconds to wait when a retried POST finds its first attempt still running, else None.

    The server answers a repeat of a running keyed POST with 409 and ``Retry-After``; waiting
    gets the first attempt's answer (its replay) instead of running the POST twice. These waits
    do not use up ``retries`` (there would be none left for a long scan), but are bounded by
    ``IN_PROGRESS_WAIT_CAP`` in all; with ``retries=0`` nothing is retried.
    """
    if retries == 0 or "idempotency-key" not in request.headers:
        return None
    if not isinstance(outcome, httpx.Response) or outcome.status_code != 409:
        return None
    wait = retry_after(outcome.headers)
    if wait is None or wait > RETRY_AFTER_CAP or waited + wait > IN_PROGRESS_WAIT_CAP:
        return None
    return wait
