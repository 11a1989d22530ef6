"""Tests that count a rate limit's exact refusals run inside one of the limiter's windows.

The limiter (``auth.ratelimit``: limits' sliding-window counter) adds the previous window's
hits, weighted by how much of that window still overlaps the last period, to the current
window's. Windows start at multiples of the period since the epoch, so hits made on both sides
of an edge can add up to just under the limit and one more is let through: a test that expects
``[200, 200, 429]`` saw ``[200, 200, 200]`` when its requests straddled a minute. Such a test
waits, if it must, until its next ``margin`` seconds lie in one window.
"""

from __future__ import annotations

import time

MARGIN_SECONDS = 10.0  # longer than any such test takes on a loaded machine


def small(limit: object) -> bool:
    """Whether a limit such as ``"3/minute"`` is low enough for a test to reach."""
    amount = str(limit).split("/")[0].split()[0]
    return amount.isdigit() and int(amount) < 100


def clear_of_a_window_edge(period: float = 60.0, margin: float = MARGIN_SECONDS) -> None:
    """Sleep until the next ``margin`` seconds fall inside one window of ``period`` seconds."""
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 0.05)
