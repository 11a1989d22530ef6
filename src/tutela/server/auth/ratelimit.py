"""Per-key rate limiting with the ``limits`` library: in memory, or Redis when configured."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until a request would be allowed again (0 when allowed)


class KeyRateLimiter:
    def __init__(self, limit: str, redis_url: str | None, namespace: str = "tutela") -> None:
        self._item = parse(limit)
        if redis_url:
            storage = storage_from_string(redis_url, key_prefix=f"{namespace}-ratelimit")
        else:
            storage = storage_from_string("memory://")
        self.storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def hit(self, key_id: str) -> RateDecision:
        allowed = self._limiter.hit(self._item, "key", key_id)
        stats = self._limiter.get_window_stats(self._item, "key", key_id)
        retry_after = 0 if allowed else max(1, math.ceil(stats.reset_time - time.time()))
        return RateDecision(allowed, self._item.amount, max(0, stats.remaining), retry_after)
